"""GetCampaignDateRangeKpi from the lake: one campaign's records, counted as the application KPIs
count, grouped by activity or date, within the caller's view; a campaign the caller cannot see is
NotFound at the API."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from pinfold.analytics import campaign_kpis
from pinfold.api.pinpoint import HANDLERS
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.cli.analytics import report
from pinfold.core import ids
from pinfold.core.errors import InvalidInput, NotFound
from pinfold.events.records import Origin, envelope
from pinfold.events.sinks.lake import Lake
from tests.service.helpers import onboard, operator

NOON = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
AT = int(NOON.timestamp() * 1000)


def campaign_story(tenant: dict, campaign: str = "camp1") -> list[dict]:
    """Campaign `campaign` in two activities, and one email of campaign `other` and one transactional.

    a1: emails m1 and m2 sent; m1 delivered, opened twice, clicked twice; m2 hard-bounced.
    a2: email m3 sent and delivered; texts s1 delivered and s2 failed, 645 millicents each.
    """
    origin = Origin(tenant["account_id"], "us-east-1", tenant["project_id"], tenant["tenant_id"])
    who, numbers = tenant["tenant_id"], itertools.count()

    def record(event_type, endpoint, attributes, minute=0, **members):
        at = AT + minute * 60_000
        return envelope(origin, event_id=f"{who}-{next(numbers)}", event_type=event_type, event_timestamp=at,
                        arrival_timestamp=at, client_id=endpoint, attributes=attributes, **members)

    def ours(activity):
        return {"campaign_id": campaign, "campaign_activity_id": activity, "treatment_id": "0"}

    def email(kind, n, attributes, minute=0):
        mail = {"mail": {"message_id": f"{who}-m{n}", "destination": [f"u{n}@example.com"]}}
        return record(f"_email.{kind}", f"{who}-e{n}", attributes, minute,
                      facets={"email_channel": {"mail_event": mail}})

    def sms(status, n, activity):
        attributes = {**ours(activity), "message_id": f"{who}-s{n}", "record_status": status}
        return record(f"_SMS.{status}", f"{who}-p{n}", attributes, 1, metrics={"price_in_millicents_usd": 645.0})

    a1, a2 = ours("a1"), ours("a2")
    return [
        *(record("_campaign.send", f"{who}-e{n}", {**a1, "campaign_send_status": "SUCCESS",
                                                 "delivery_type": "EMAIL"}) for n in (1, 2)),
        email("send", 1, a1), email("send", 2, a1), email("delivered", 1, a1, 1), email("hardbounce", 2, a1, 1),
        email("open", 1, a1, 2), email("open", 1, a1, 3), email("click", 1, a1, 4), email("click", 1, a1, 5),
        email("send", 3, a2), email("delivered", 3, a2, 1), sms("SUCCESS", 1, "a2"), sms("FAILURE", 2, "a2"),
        email("send", 4, {"campaign_id": "other", "campaign_activity_id": "o1"}),
        email("delivered", 4, {"campaign_id": "other", "campaign_activity_id": "o1"}, 1),
        email("send", 5, {}), email("delivered", 5, {}, 1),
    ]


def _campaign(ctx, tenant: dict, campaign_id: str, tenant_id: str | None) -> None:
    now = ids.iso_now()
    with ctx.db.write() as conn:
        campaign_store.insert(conn, {"id": campaign_id, "project_id": tenant["project_id"], "tenant_id": tenant_id,
                                     "version": 1, "segment_id": "s" * 32, "frequency": "ONCE",
                                     "state": "COMPLETED", "runs": 1, "next_run_at": None, "created_at": now,
                                     "modified_at": now}, {"Name": campaign_id})


@pytest.fixture
def shared(ctx):
    """Two sa-sp tenants of one shared project, each with records of a campaign named camp1."""
    admin = operator(ctx)
    (acme_row, acme), (globex_row, globex) = onboard(ctx, admin, "acme", "sa-sp"), onboard(ctx, admin, "globex",
                                                                                            "sa-sp")
    lake = Lake(ctx.settings.resolved_lake_url)
    lake.write(campaign_story(acme_row), "batch-acme")
    lake.write(campaign_story(globex_row), "batch-globex")
    return acme_row, acme, globex


def test_campaign_kpis_count_only_that_campaigns_records_by_activity_and_date(ctx, shared):
    acme_row, acme, _globex = shared
    project = acme_row["project_id"]

    def rows(name, **options):
        response = campaign_kpis.campaign_date_range_kpi(ctx, acme, project, "camp1", name, **options)
        return [({g["Key"]: g["Value"] for g in row["GroupedBys"]}, row["Values"][0]["Key"],
                 float(row["Values"][0]["Value"])) for row in response["KpiResult"]["Rows"]]

    response = campaign_kpis.campaign_date_range_kpi(ctx, acme, project, "camp1", "successful-delivery-rate")
    assert set(response) == {"ApplicationId", "CampaignId", "KpiName", "StartTime", "EndTime", "KpiResult"}
    assert (response["ApplicationId"], response["CampaignId"]) == (project, "camp1")
    # attempted: a1 2 emails; a2 1 email + 2 texts. delivered: a1 1; a2 1 email + 1 text.
    assert rows("successful-delivery-rate") == [({}, "SuccessfulDeliveryRate", pytest.approx(3 / 5))]
    assert rows("attempted-deliveries-grouped-by-campaign-activity") == [
        ({"CampaignActivityId": "a1"}, "AttemptedDeliveries", 2.0),
        ({"CampaignActivityId": "a2"}, "AttemptedDeliveries", 3.0)]
    assert rows("successful-deliveries-grouped-by-campaign-activity") == [
        ({"CampaignActivityId": "a1"}, "SuccessfulDeliveries", 1.0),
        ({"CampaignActivityId": "a2"}, "SuccessfulDeliveries", 2.0)]
    assert rows("successful-delivery-rate-grouped-by-campaign-activity") == [
        ({"CampaignActivityId": "a1"}, "SuccessfulDeliveryRate", 0.5),
        ({"CampaignActivityId": "a2"}, "SuccessfulDeliveryRate", pytest.approx(2 / 3))]
    assert rows("unique-deliveries") == [({}, "UniqueDeliveries", 3.0)]
    assert rows("email-open-rate") == [({}, "EmailOpenRate", pytest.approx(1 / 3))]
    assert rows("hard-bounce-rate-grouped-by-campaign-activity") == [
        ({"CampaignActivityId": "a1"}, "HardBounceRate", 0.5), ({"CampaignActivityId": "a2"}, "HardBounceRate", 0.0)]
    assert rows("direct-email-opens-grouped-by-campaign-activity") == [
        ({"CampaignActivityId": "a1"}, "DirectEmailOpens", 1.0),
        ({"CampaignActivityId": "a2"}, "DirectEmailOpens", 0.0)]
    assert rows("clicks-grouped-by-campaign-activity") == [
        ({"CampaignActivityId": "a1"}, "Clicks", 2.0), ({"CampaignActivityId": "a2"}, "Clicks", 0.0)]
    assert rows("sms-spend") == [({}, "SmsSpend", 1290.0)]
    assert rows("push-open-rate") == [({}, "PushOpenRate", 0.0)]
    by_date = rows("unique-deliveries-grouped-by-date")
    assert len(by_date) == 32 and ({"Date": NOON.date().isoformat()}, "UniqueDeliveries", 3.0) in by_date
    assert sum(value for _key, _name, value in by_date) == 3.0
    assert rows("successful-deliveries-grouped-by-campaign-activity", start_time=NOON - timedelta(hours=2),
                end_time=NOON - timedelta(hours=1)) == []
    assert rows("unique-deliveries", start_time=NOON - timedelta(hours=2), end_time=NOON - timedelta(hours=1)) == [
        ({}, "UniqueDeliveries", 0.0)]
    assert campaign_kpis.campaign_date_range_kpi(ctx, acme, project, "nothing", "clicks-grouped-by-campaign-activity"
                                                 )["KpiResult"]["Rows"] == []


def test_campaign_kpis_refuse_what_pinpoint_refuses(ctx, shared):
    acme_row, acme, _globex = shared
    project = acme_row["project_id"]
    with pytest.raises(InvalidInput, match="sms-spend") as refused:  # the supported names are listed
        campaign_kpis.campaign_date_range_kpi(ctx, acme, project, "camp1", "txn-emails-sent")
    assert refused.value.field == "KpiName"
    with pytest.raises(InvalidInput, match="90 days"):
        start = datetime.now(UTC) - timedelta(days=91)
        campaign_kpis.campaign_date_range_kpi(ctx, acme, project, "camp1", "unique-deliveries",
                                              start_time=start, end_time=start + timedelta(days=2))
    with pytest.raises(InvalidInput, match="after EndTime"):
        campaign_kpis.campaign_date_range_kpi(ctx, acme, project, "camp1", "unique-deliveries",
                                              start_time=NOON, end_time=NOON - timedelta(days=1))


def test_the_api_answers_only_for_a_campaign_the_caller_sees(ctx, shared):
    acme_row, acme, globex = shared
    project = acme_row["project_id"]
    _campaign(ctx, acme_row, "camp1", "acme")
    handler = HANDLERS["GetCampaignDateRangeKpi"]
    params = {"ApplicationId": project, "CampaignId": "camp1", "KpiName": "unique-deliveries"}
    response = handler(ctx, acme, params)["CampaignDateRangeKpiResponse"]
    assert response["KpiResult"]["Rows"][0]["Values"][0]["Value"] == "3.0"  # acme's records only, not globex's
    with pytest.raises(NotFound, match="camp1"):  # another tenant's campaign in the shared project
        handler(ctx, globex, params)
    with pytest.raises(NotFound):
        handler(ctx, acme, {**params, "CampaignId": "missing"})
    with pytest.raises(NotFound):
        handler(ctx, acme, {**params, "ApplicationId": "0" * 32})


def test_campaign_totals_and_the_report_show_each_campaigns_figures(ctx, tmp_path):
    admin = operator(ctx)
    (acme_row, _acme), (globex_row, _globex) = onboard(ctx, admin, "acme", "ma-mp"), onboard(ctx, admin, "globex",
                                                                                              "ma-mp")
    lake = Lake(ctx.settings.resolved_lake_url)
    lake.write(campaign_story(acme_row), "batch-acme")
    lake.write(campaign_story(globex_row, campaign="theirs"), "batch-globex")
    _campaign(ctx, acme_row, "camp1", None)
    totals = campaign_kpis.campaign_totals(ctx, admin, tenant_id="acme", since="3d")
    assert totals == [
        {"campaign_id": "camp1", "targeted": 2, "sends": 5, "deliveries": 3, "opens": 1, "clicks": 1, "failures": 2},
        {"campaign_id": "other", "targeted": 0, "sends": 1, "deliveries": 1, "opens": 0, "clicks": 0, "failures": 0}]
    assert campaign_kpis.campaign_totals(ctx, admin, tenant_id="acme", since="3d", campaign_id="theirs") == []

    app = typer.Typer()
    app.command("report")(report)
    app.command("other")(lambda: None)  # two commands, so `report` is invoked by name
    env = {"PINFOLD_DATABASE_URL": ctx.settings.database_url, "PINFOLD_LAKE_URL": ""}
    out = tmp_path / "acme.html"
    result = CliRunner().invoke(app, ["report", "acme", "--since", "3d", "--campaign", "camp1", "--out", str(out),
                                      "--data-dir", str(ctx.settings.data_dir)], env=env)
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("camp1")]
    assert line.split() == ["camp1", "camp1", "2", "5", "3", "1", "1", "2"]  # id, Name, then the figures
    assert "other" not in result.stdout and "<h2>Campaigns</h2>" in out.read_text()
    result = CliRunner().invoke(app, ["report", "acme", "--since", "3d", "--json", "--out", str(out),
                                      "--data-dir", str(ctx.settings.data_dir)], env=env)
    assert result.exit_code == 0, result.output
    assert [row["campaign_id"] for row in json.loads(result.stdout)["campaigns"]] == ["camp1", "other"]
