"""Analytics over the lake: views, KPIs and SQL, each confined to what the caller may see."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import typer
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pinfold.analytics import engine, kpis, views
from pinfold.api.admin import STATUS
from pinfold.api.admin_analytics import analytics_router
from pinfold.cli.analytics import analytics_app, report
from pinfold.core.errors import Forbidden, InvalidInput, NotFound, PinfoldError
from pinfold.events.records import Origin, envelope
from pinfold.events.sinks.lake import Lake
from tests.service.helpers import account_caller, onboard, operator

NOON = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
AT = int(NOON.timestamp() * 1000)


def story(tenant: dict) -> list[dict]:
    """One tenant's day: five emails (one from campaign c1), three SMS, two app events.

    Email: 5 sent, 4 delivered, 3 opened (m1 twice), 1 clicked, 1 hard bounce (m4), 1 complaint.
    SMS: s1 buffered then delivered, s2 failed, s3 delivered then opted out; 645 millicents each.
    """
    origin = Origin(tenant["account_id"], "us-east-1", tenant["project_id"], tenant["tenant_id"])
    who, numbers = tenant["tenant_id"], itertools.count()

    def record(event_type, endpoint, minute=0, **members):
        at = AT + minute * 60_000
        return envelope(origin, event_id=f"{who}-{next(numbers)}", event_type=event_type, event_timestamp=at,
                        arrival_timestamp=at, client_id=endpoint, **members)

    def email(kind, n, minute=0, campaign=None, **facet):
        mail = {"mail": {"message_id": f"{who}-m{n}", "destination": [f"u{n}@example.com"],
                         "common_headers": {"subject": "Hello"}}, **facet}
        return record(f"_email.{kind}", f"{who}-e{n}", minute, attributes={"campaign_id": campaign} if campaign else {},
                      facets={"email_channel": {"mail_event": mail}})

    def sms(status, n, minute=0):
        attributes = {"message_id": f"{who}-s{n}", "destination_phone_number": f"+1555000{n}",
                      "record_status": status, "iso_country_code": "US", "number_of_message_parts": "1",
                      "message_type": "TRANSACTIONAL"}
        return record(f"_SMS.{status}", f"{who}-p{n}", minute, attributes=attributes,
                      metrics={"price_in_millicents_usd": 645.0})

    emails = [email("send", n) for n in range(1, 5)] + [email("send", 5, campaign="c1")]
    emails += [email("delivered", n, 1) for n in (1, 2, 3)] + [email("delivered", 5, 1, campaign="c1")]
    emails += [email("open", 1, 2, open={"user_agent": "ua"}), email("open", 1, 3), email("open", 2, 2),
               email("open", 5, 2, campaign="c1"), email("click", 1, 4, click={"link": "https://example.com"}),
               email("hardbounce", 4, 1, bounce={"bounce_type": "Permanent",
                                                 "bounced_recipients": [{"email_address": "u4@example.com"}]}),
               email("complaint", 3, 5, complaint={"complained_recipients": [{"email_address": "u3@example.com"}]})]
    texts = [sms("BUFFERED", 1), sms("SUCCESS", 1, 1), sms("FAILURE", 2, 1), sms("SUCCESS", 3, 1),
             sms("OPTOUT", 3, 2)]
    apps = [record("_session.start", f"{who}-e1"), record("purchase", f"{who}-e1", attributes={"sku": "gold"})]
    campaign = [record("_campaign.send", f"{who}-e5", attributes={"campaign_id": "c1", "treatment_id": "0",
                                                                  "campaign_send_status": "SUCCESS"})]
    return emails + texts + apps + campaign


def write(ctx, *tenants: dict) -> None:
    for tenant in tenants:
        Lake(ctx.settings.resolved_lake_url).write(story(tenant), f"batch-{tenant['tenant_id']}")


def count(caller_engine, name: str) -> int:
    return len(caller_engine.view(name, limit=engine.MAX_ROWS)["rows"])


def test_every_view_runs_on_an_empty_lake(ctx):
    admin = operator(ctx)
    _tenant, acme = onboard(ctx, admin, "acme", "sa-sp")
    for caller in (admin, acme):
        with engine.open_for(ctx, caller) as lake:
            for name in views.NAMES:
                assert lake.view(name)["rows"] == [], name
    with engine.open_for(ctx, admin) as lake:
        assert lake.sql("SELECT count(*) AS n FROM kpi_daily")["rows"] == [{"n": 0}]
    assert {view["name"] for view in engine.list_views()} == views.NAMES


def test_counts_and_rates_of_a_known_story(ctx):
    tenant, acme = onboard(ctx, operator(ctx), "acme", "sa-mp")
    write(ctx, tenant)
    with engine.open_for(ctx, acme) as lake:
        expected = {"all_events": 24, "email_all_events": 16, "email_send": 5, "email_delivered": 4, "email_open": 4,
                    "email_click": 1, "email_hardbounce": 1, "email_softbounce": 0, "email_complaint": 1,
                    "sms_all_events": 5, "sms_buffered": 1, "sms_success": 2, "sms_failure": 1, "sms_optout": 1,
                    "campaign_all_events": 4, "campaign_send": 1, "custom_all_events": 2, "custom_events": 1,
                    "email_status": 5, "sms_status": 3, "kpi_daily": 1}
        assert {name: count(lake, name) for name in expected} == expected
        status = {row["message_id"]: row for row in lake.view("sms_status")["rows"]}
        assert {key: row["event_type"] for key, row in status.items()} == {
            "acme-s1": "_SMS.SUCCESS", "acme-s2": "_SMS.FAILURE", "acme-s3": "_SMS.OPTOUT"}
        bounce = lake.view("email_hardbounce")["rows"][0]
        assert (bounce["recipient"], bounce["bounce_type"], bounce["message_id"]) == ("u4@example.com", "Permanent",
                                                                                      "acme-m4")
        first = lake.view("email_status", {"message_id": "acme-m1"})["rows"][0]
        assert first["first_open_time"] == NOON.replace(tzinfo=None) + timedelta(minutes=2)
        assert lake.view("sms_success")["rows"][0]["price_usd"] == pytest.approx(0.00645)
        day = lake.view("kpi_daily")["rows"][0]
    assert day["day"] == NOON.date() and (day["tenant_id"], day["project_id"]) == ("acme", tenant["project_id"])
    assert {name: day[name] for name in views.COUNTS} == {
        "sends": 5, "deliveries": 4, "opens": 3, "clicks": 1, "bounces": 1, "complaints": 1,
        "sms_sends": 3, "sms_successes": 2, "sms_failures": 1, "sms_optouts": 1}
    assert day["delivery_rate"] == pytest.approx(0.8) and day["open_rate"] == pytest.approx(0.6)
    assert day["click_rate"] == pytest.approx(0.2) and day["bounce_rate"] == pytest.approx(0.2)
    assert day["complaint_rate"] == pytest.approx(0.2) and day["click_to_open_rate"] == pytest.approx(1 / 3)
    assert day["sms_success_rate"] == pytest.approx(2 / 3) and day["sms_optout_rate"] == pytest.approx(1 / 3)
    assert day["sms_price_usd"] == pytest.approx(3 * 645 / 100_000) and day["all_deliveries"] == 6


@pytest.mark.parametrize("model", ["sa-sp", "sa-mp", "ma-mp"])
def test_tenants_see_only_their_own_rows_in_every_view(ctx, model):
    admin = operator(ctx)
    (acme_row, acme), (globex_row, globex) = onboard(ctx, admin, "acme", model), onboard(ctx, admin, "globex", model)
    if model == "sa-sp":  # one shared project: the records differ only by pinfold.tenant_id
        assert acme_row["project_id"] == globex_row["project_id"]
    write(ctx, acme_row, globex_row)
    for caller, other in ((acme, "globex"), (globex, "acme")):
        with engine.open_for(ctx, caller) as lake:
            for name in views.NAMES:
                rows = lake.view(name, limit=engine.MAX_ROWS)["rows"]
                assert {row["tenant_id"] for row in rows} <= {caller.tenant_id}, name
                assert lake.view(name, {"tenant_id": other})["rows"] == [], name
            assert count(lake, "all_events") == 24
    with engine.open_for(ctx, admin) as lake:
        rows = lake.sql("SELECT tenant_id, sum(sends) AS sends FROM kpi_daily GROUP BY tenant_id ORDER BY 1")["rows"]
    assert rows == [{"tenant_id": "acme", "sends": 5}, {"tenant_id": "globex", "sends": 5}]


def test_only_operators_run_sql_and_only_over_their_own_files(ctx):
    admin = operator(ctx)
    (acme_row, acme), (globex_row, _globex) = onboard(ctx, admin, "acme", "ma-mp"), onboard(ctx, admin, "globex",
                                                                                            "ma-mp")
    write(ctx, acme_row, globex_row)
    with engine.open_for(ctx, acme) as lake, pytest.raises(Forbidden, match="named views"):
        lake.sql("SELECT * FROM all_events")
    everything = f"{Lake(ctx.settings.resolved_lake_url).root}/events/**/*.parquet"
    with engine.open_for(ctx, account_caller(ctx, admin, acme_row["account_id"])) as lake:
        assert lake.sql("SELECT DISTINCT tenant_id FROM all_events")["rows"] == [{"tenant_id": "acme"}]
        with pytest.raises(Forbidden):
            lake.sql(f"SELECT count(*) FROM read_parquet('{everything}')")
        with pytest.raises(InvalidInput):
            lake.sql("SET enable_external_access = true")
    with engine.open_for(ctx, admin) as lake:
        assert lake.sql(f"SELECT count(*) AS n FROM read_parquet('{everything}')")["rows"] == [{"n": 48}]
        assert lake.sql("SELECT * FROM all_events", max_rows=10)["truncated"] is True


def test_view_names_and_filters_are_checked(ctx):
    tenant, acme = onboard(ctx, operator(ctx), "acme", "sa-sp")
    write(ctx, tenant)
    with engine.open_for(ctx, acme) as lake:
        assert [row["event_id"] for row in lake.view("email_click", {"message_id": "acme-m1"})["rows"]] == ["acme-13"]
        with pytest.raises(NotFound):
            lake.view("lake_records")
        with pytest.raises(InvalidInput, match="no column"):
            lake.view("email_send", {"nope": "x"})


def test_application_date_range_kpi_answers_in_pinpoint_shape(ctx):
    admin = operator(ctx)
    (acme_row, acme), (globex_row, _globex) = onboard(ctx, admin, "acme", "sa-sp"), onboard(ctx, admin, "globex",
                                                                                            "sa-sp")
    write(ctx, acme_row, globex_row)
    project = acme_row["project_id"]

    def value(name, **options):
        response = kpis.application_date_range_kpi(ctx, acme, project, name, **options)
        return [(row["GroupedBys"], row["Values"][0]["Value"]) for row in response["KpiResult"]["Rows"]]

    response = kpis.application_date_range_kpi(ctx, acme, project, "txn-emails-sent")
    assert set(response) == {"ApplicationId", "KpiName", "StartTime", "EndTime", "KpiResult"}
    assert (response["ApplicationId"], response["KpiName"]) == (project, "txn-emails-sent")
    span = datetime.fromisoformat(response["EndTime"]) - datetime.fromisoformat(response["StartTime"])
    assert span == timedelta(days=31)
    assert response["KpiResult"]["Rows"] == [
        {"GroupedBys": [], "Values": [{"Key": "TxnEmailsSent", "Type": "Double", "Value": "4.0"}]}]
    assert value("txn-emails-opened") == [([], "2.0")] and value("txn-emails-hard-bounced") == [([], "1.0")]
    assert value("txn-emails-complaint-rate") == [([], "0.25")] and value("txn-sms-sent") == [([], "3.0")]
    assert value("txn-sms-delivered") == [([], "2.0")] and value("email-open-rate") == [([], "1.0")]
    assert value("unique-deliveries-grouped-by-campaign") == [
        ([{"Key": "CampaignId", "Type": "String", "Value": "c1"}], "1.0")]
    by_date = value("txn-emails-delivered-grouped-by-date")
    assert len(by_date) == 32 and sum(float(found) for _key, found in by_date) == 3.0
    assert ([{"Key": "Date", "Type": "String", "Value": NOON.date().isoformat()}], "3.0") in by_date
    first = kpis.application_date_range_kpi(ctx, acme, project, "txn-sms-sent-grouped-by-date", page_size="20")
    rest = kpis.application_date_range_kpi(ctx, acme, project, "txn-sms-sent-grouped-by-date",
                                           next_token=first["NextToken"])
    assert len(first["KpiResult"]["Rows"]) == 20 and len(rest["KpiResult"]["Rows"]) == 12 and "NextToken" not in rest
    start = NOON - timedelta(hours=1)
    assert value("txn-emails-sent", start_time=start, end_time=start + timedelta(minutes=30)) == [([], "0.0")]


def test_application_date_range_kpi_refuses_what_pinpoint_refuses(ctx):
    admin = operator(ctx)
    (acme_row, acme), (globex_row, _globex) = onboard(ctx, admin, "acme", "sa-mp"), onboard(ctx, admin, "globex",
                                                                                            "sa-mp")
    with pytest.raises(InvalidInput, match="txn-emails-sent") as refused:
        kpis.application_date_range_kpi(ctx, acme, acme_row["project_id"], "push-open-rate")
    assert refused.value.field == "KpiName"
    with pytest.raises(InvalidInput, match="31 days"):
        kpis.application_date_range_kpi(ctx, acme, acme_row["project_id"], "txn-emails-sent",
                                        start_time="2024-01-01T00:00:00Z", end_time="2024-03-01T00:00:00Z")
    with pytest.raises(InvalidInput, match="90 days"):
        start = datetime.now(UTC) - timedelta(days=91)
        kpis.application_date_range_kpi(ctx, acme, acme_row["project_id"], "txn-emails-sent",
                                        start_time=start, end_time=start + timedelta(days=2))
    with pytest.raises(NotFound):
        kpis.application_date_range_kpi(ctx, acme, globex_row["project_id"], "txn-emails-sent")


def test_report_prints_kpis_and_writes_an_svg_chart(ctx, tmp_path):
    tenant, _acme = onboard(ctx, operator(ctx), "acme", "ma-mp")
    write(ctx, tenant)
    app = typer.Typer()
    app.command("report")(report)
    app.add_typer(analytics_app, name="analytics")
    env = {"PINFOLD_DATABASE_URL": ctx.settings.database_url, "PINFOLD_LAKE_URL": ""}
    out = tmp_path / "acme.html"
    result = CliRunner().invoke(app, ["report", "acme", "--since", "3d", "--out", str(out),
                                      "--data-dir", str(ctx.settings.data_dir)], env=env)
    assert result.exit_code == 0, result.output
    assert "Emails sent" in result.stdout and "80.0%" in result.stdout
    page = out.read_text()
    assert "<svg" in page and "<polyline" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    refused = CliRunner().invoke(app, ["analytics", "sql", "SELECT 1", "--tenant", "acme",
                                       "--data-dir", str(ctx.settings.data_dir)], env=env)
    assert refused.exit_code == 6 and "named views" in refused.stderr
    allowed = CliRunner().invoke(app, ["analytics", "sql", "email_send", "--tenant", "acme", "--json",
                                       "--data-dir", str(ctx.settings.data_dir)], env=env)
    assert allowed.exit_code == 0 and allowed.stdout.count('"event_type": "_email.send"') == 5


def test_admin_routes_keep_tenants_to_views(ctx):
    tenant, acme = onboard(ctx, operator(ctx), "acme", "sa-sp")
    write(ctx, tenant)
    app = FastAPI()

    @app.exception_handler(PinfoldError)
    async def _error(_request: Request, error: PinfoldError) -> JSONResponse:
        return JSONResponse({"error": {"code": error.code, "message": error.message}}, status_code=STATUS[error.code])

    app.include_router(analytics_router(ctx, lambda: acme), prefix="/admin/v1")
    client = TestClient(app)
    assert len(client.get("/admin/v1/analytics/views").json()) == len(views.NAMES)
    rows = client.get("/admin/v1/analytics/views/email_send", params={"message_id": "acme-m2"}).json()["rows"]
    assert [row["endpoint_id"] for row in rows] == ["acme-e2"]
    assert client.post("/admin/v1/analytics/sql", json={"sql": "SELECT 1"}).status_code == 403
    assert client.get("/admin/v1/analytics/views/all_events", params={"tenant_id": "globex"}).status_code == 403
    totals = client.get("/admin/v1/analytics/kpis", params={"since": "3d"}).json()["totals"]
    assert (totals["sends"], totals["sms_sends"]) == (5, 3)


@pytest.mark.parametrize("since", ["99999999999999d", "9999999999w", "999999999999h"])
def test_a_look_back_past_year_one_is_invalid_input(since):
    with pytest.raises(InvalidInput, match="reaches back before year 1"):
        kpis.parse_since(since, datetime.now(UTC))
