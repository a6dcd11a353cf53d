"""Running campaigns (campaigns/scheduler.py, runs.py): a due run starts once, its activities walk the
segment in slices and plan through the shared plan step, and every targeted endpoint gets a
`_campaign.send` record; treatments, holdout, quiet time, local time, caps, hooks, recurring runs,
pause, tenancy and crash-resume."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from pinfold.audience import endpoints, segments
from pinfold.campaigns import runs
from pinfold.campaigns.rules import treatments
from pinfold.campaigns.rules.schedule import start_instant
from pinfold.campaigns.scheduler import CampaignScheduler
from pinfold.campaigns.store import activities as activity_store
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.core import ids
from pinfold.email import account as email_account
from pinfold.email import identities as email_identities
from pinfold.email.delivery import EmailDelivery
from pinfold.email.store import messages as email_messages
from pinfold.events import outbox
from pinfold.messaging import channels
from tests.service.helpers import account_caller, onboard

SIMULATOR = "simulator.amazonses.com"
GOLD = {"Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}}}
EMAIL = {"EmailMessage": {"Title": "Sale {{Attributes.name}}", "HtmlBody": "<p>Hi</p>", "Body": "Hi"}}
T0 = 2_000_000_000.0  # a fixed "now" (2033), so schedules are deterministic


def _email_channel(ctx, admin, account_id: str, project: str) -> None:
    owner = account_caller(ctx, admin, account_id)
    email_identities.create(ctx, owner, {"EmailIdentity": "example.com"})
    email_identities.confirm(ctx, admin, "example.com", account_id=owner.account_id, region=owner.region)
    email_account.set_production(ctx, admin, owner.account_id, max_rate=100_000)
    identity = f"arn:aws:ses:{owner.region}:{owner.account_id}:identity/example.com"
    channels.update_email(ctx, owner, project, {"FromAddress": "shop@example.com", "Identity": identity,
                                                "Enabled": True})


@pytest.fixture
def shop(ctx, admin):
    """An sa-mp tenant's project with an email channel; yields (owner caller, project id)."""
    tenant = onboard(ctx, admin, "shop", "sa-mp")[0]
    _email_channel(ctx, admin, tenant["account_id"], tenant["project_id"])
    return account_caller(ctx, admin, tenant["account_id"]), tenant["project_id"]


def _endpoints(ctx, caller, project: str, count: int, *, plan: str = "gold", prefix: str = "e", **extra) -> list[str]:
    made = [f"{prefix}{n:04d}" for n in range(count)]
    for start in range(0, count, 100):
        endpoints.update_batch(ctx, caller, project, [
            {"Id": eid, "ChannelType": "EMAIL", "Address": f"success+{eid}@{SIMULATOR}",
             "Attributes": {"plan": [plan], "name": [eid]}, **extra} for eid in made[start:start + 100]])
    return made


def _segment(ctx, caller, project: str) -> str:
    return segments.create(ctx, caller, project, {"Name": "gold", **GOLD})["Id"]


def _campaign(ctx, project: str, segment_id: str, *, tenant_id: str | None = None, **definition) -> str:
    """A campaign row and its first version, as CreateCampaign writes them (stores, not the API)."""
    definition = {"Name": "sale", "SegmentId": segment_id, "MessageConfiguration": EMAIL,
                  "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"}, **definition}
    schedule = definition["Schedule"]
    start = T0 if schedule["StartTime"] == "IMMEDIATE" else None
    campaign_id, now = ids.new_project_id(), ids.iso(datetime.fromtimestamp(T0, UTC))
    with ctx.db.write() as conn:
        campaign_store.insert(conn, {
            "id": campaign_id, "project_id": project, "tenant_id": tenant_id, "version": 1, "segment_id": segment_id,
            "frequency": schedule.get("Frequency", "ONCE"), "state": "PAUSED" if definition.get("IsPaused") else
            "SCHEDULED", "runs": 0, "next_run_at": start or start_instant(schedule, T0), "created_at": now,
            "modified_at": now}, definition)
    return campaign_id


def _records(ctx, event_type: str | None = None) -> list[dict]:
    with ctx.db.read() as conn:
        records = [row["record"] for row in outbox.read_after(conn, 0, 100_000)]
    return [r for r in records if event_type is None or r["event_type"] == event_type]


def _sends(ctx, campaign_id: str) -> list[dict]:
    return [r for r in _records(ctx, "_campaign.send") if r["attributes"]["campaign_id"] == campaign_id]


def _batches(ctx) -> list[dict]:
    """Every queued email batch with its definition and how many messages it holds."""
    import sqlalchemy as sa

    from pinfold.db.tables import email_batches
    messages = email_messages.email_messages
    with ctx.db.read() as conn:
        query = (sa.select(email_batches.c.definition, sa.func.count(messages.c.id).label("messages"))
                 .join(messages, messages.c.batch_id == email_batches.c.id).group_by(email_batches.c.id))
        return [dict(row) for row in conn.execute(query).mappings()]


def _queued(ctx) -> list:
    with ctx.db.read() as conn:
        return list(conn.execute(email_messages.email_messages.select()))


def _state(ctx, campaign_id: str) -> dict:
    with ctx.db.read() as conn:
        return campaign_store.get_by_id(conn, campaign_id)


def _activities(ctx, campaign_id: str) -> list[dict]:
    with ctx.db.read() as conn:
        return activity_store.of_campaign(conn, campaign_id)


def _drain(scheduler: CampaignScheduler, now: float, passes: int = 50) -> None:
    for _ in range(passes):
        if not scheduler.run_once(now=now):
            return
    raise AssertionError("the scheduler did not settle")


def test_a_run_sends_to_the_segment_once_with_records_and_campaign_attributes(ctx, shop):
    owner, project = shop
    members = _endpoints(ctx, owner, project, 12)
    _endpoints(ctx, owner, project, 3, plan="silver", prefix="s")
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project))
    scheduler = CampaignScheduler(ctx, slice_size=5)
    _drain(scheduler, T0)

    (activity,) = _activities(ctx, campaign_id)
    assert activity["state"] == "COMPLETED" and activity["result"] == "SUCCESS" and activity["run"] == 1
    assert activity["counts"]["TotalEndpointCount"] == 12 and activity["counts"]["SuccessfulEndpointCount"] == 12
    assert activity["counts"]["ExecutionMetrics"]["ENDPOINT_PRODUCED"] == "12"
    assert _state(ctx, campaign_id)["state"] == "COMPLETED" and _state(ctx, campaign_id)["next_run_at"] is None
    sends = _sends(ctx, campaign_id)
    assert sorted(r["client"]["client_id"] for r in sends) == members
    assert {(r["attributes"]["campaign_send_status"], r["attributes"]["delivery_type"],
             r["attributes"]["treatment_id"], r["attributes"]["campaign_activity_id"]) for r in sends} == {
        ("SUCCESS", "EMAIL", "0", activity["id"])}
    assert all(r["pinfold"]["tenant_id"] == "shop" for r in sends)

    delivery = EmailDelivery(ctx)
    try:
        while delivery.run_once():
            pass
    finally:
        delivery.stop()
    delivered = [r for r in _records(ctx, "_email.delivered") if r["attributes"].get("campaign_id") == campaign_id]
    assert sorted(r["client"]["client_id"] for r in delivered) == members
    assert {r["attributes"]["campaign_activity_id"] for r in delivered} == {activity["id"]}
    _drain(scheduler, T0 + 7200)
    assert len(_activities(ctx, campaign_id)) == 1  # ONCE: no more runs


def test_treatments_split_deterministically_and_the_holdout_gets_holdout_records(ctx, shop):
    owner, project = shop
    members = _endpoints(ctx, owner, project, 200)
    definition = {"HoldoutPercent": 10, "AdditionalTreatments": [
        {"SizePercent": 30, "MessageConfiguration": {"EmailMessage": {"Title": "B", "HtmlBody": "<p>B</p>"}},
         "TreatmentName": "B"}]}
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project), **definition)
    _drain(CampaignScheduler(ctx, slice_size=64), T0)

    expected = {eid: treatments.cohort(definition, treatments.bucket(campaign_id, eid)) for eid in members}
    shares = Counter(expected.values())
    assert 5 <= shares[None] <= 35 and 35 <= shares["1"] <= 85  # about 10% and 30% of 200
    activities = {a["treatment_id"]: a for a in _activities(ctx, campaign_id)}
    assert set(activities) == {"0", "1"} and all(a["state"] == "COMPLETED" for a in activities.values())
    sends = _sends(ctx, campaign_id)
    by_status = Counter((r["attributes"]["treatment_id"], r["attributes"]["campaign_send_status"]) for r in sends)
    assert by_status == {("0", "HOLDOUT"): shares[None], ("0", "SUCCESS"): shares["0"], ("1", "SUCCESS"): shares["1"]}
    for record in sends:
        cohort = expected[record["client"]["client_id"]]
        assert record["attributes"]["treatment_id"] == (cohort or "0")
    metrics_b = activities["1"]["counts"]["ExecutionMetrics"]
    assert int(metrics_b["TREATMENT_HOLDOUT"]) == shares[None] + shares["0"]
    # Each treatment's messages carry its own content.
    subjects = Counter((batch["definition"]["attributes"]["treatment_id"], batch["definition"]["subject"])
                       for batch in _batches(ctx) for _ in range(batch["messages"]))
    assert subjects == {("0", "Sale {{Attributes.name}}"): shares["0"], ("1", "B"): shares["1"]}


def test_quiet_time_drops_endpoints_whose_local_time_is_quiet(ctx, shop):
    owner, project = shop
    # T0 is 03:33 UTC: quiet in Tokyo (12:33) under 12:00-13:00, not in UTC; no time zone: never quiet.
    tokyo = _endpoints(ctx, owner, project, 3, prefix="tok", Demographic={"Timezone": "Asia/Tokyo"})
    utc = _endpoints(ctx, owner, project, 2, prefix="utc", Demographic={"Timezone": "UTC"})
    unknown = _endpoints(ctx, owner, project, 2, prefix="unk", Demographic={"Timezone": "Mars/Olympus"})
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project),
                            Schedule={"StartTime": "IMMEDIATE", "Frequency": "ONCE",
                                      "QuietTime": {"Start": "12:00", "End": "13:00"}})
    _drain(CampaignScheduler(ctx), T0)
    statuses = {r["client"]["client_id"]: r["attributes"]["campaign_send_status"] for r in _sends(ctx, campaign_id)}
    assert statuses == {**dict.fromkeys(tokyo, "QUIET_TIME"), **dict.fromkeys(utc + unknown, "SUCCESS")}


def test_a_quiet_window_crossing_midnight(ctx, shop):
    owner, project = shop
    # 03:33 UTC: inside 22:00-06:00 in UTC, outside it in Tokyo (12:33).
    utc = _endpoints(ctx, owner, project, 2, prefix="utc", Demographic={"Timezone": "UTC"})
    tokyo = _endpoints(ctx, owner, project, 2, prefix="tok", Demographic={"Timezone": "Asia/Tokyo"})
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project),
                            Schedule={"StartTime": "IMMEDIATE", "Frequency": "ONCE",
                                      "QuietTime": {"Start": "22:00", "End": "06:00"}})
    _drain(CampaignScheduler(ctx), T0)
    statuses = {r["client"]["client_id"]: r["attributes"]["campaign_send_status"] for r in _sends(ctx, campaign_id)}
    assert statuses == {**dict.fromkeys(utc, "QUIET_TIME"), **dict.fromkeys(tokyo, "SUCCESS")}


def test_local_time_sends_at_each_endpoints_wall_clock_and_skips_endpoints_without_a_zone(ctx, shop):
    owner, project = shop
    york = _endpoints(ctx, owner, project, 2, prefix="ny", Demographic={"Timezone": "America/New_York"})
    _endpoints(ctx, owner, project, 3, prefix="none")
    start = "2033-05-18T09:00:00Z"
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project),
                            Schedule={"StartTime": start, "Frequency": "ONCE", "IsLocalTime": True,
                                      "Timezone": "UTC"})
    run_at = datetime.fromisoformat(start).timestamp()
    scheduler = CampaignScheduler(ctx)
    _drain(scheduler, run_at - 60)
    assert _activities(ctx, campaign_id) == []  # not due yet
    _drain(scheduler, run_at)
    (activity,) = _activities(ctx, campaign_id)
    assert activity["counts"]["ExecutionMetrics"]["ENDPOINT_MISSING_TIMEZONE"] == "3"
    assert activity["counts"]["TimezonesTotalCount"] == 1 == activity["counts"]["TimezonesCompletedCount"]
    sends = _sends(ctx, campaign_id)
    assert sorted(r["client"]["client_id"] for r in sends) == york
    assert {row.due_at for row in _queued(ctx)} == {run_at + 4 * 3600}  # 09:00 in New York (EDT) is 13:00 UTC


def test_total_and_daily_caps_over_hourly_runs(ctx, shop):
    owner, project = shop
    members = _endpoints(ctx, owner, project, 4)
    hourly = {"StartTime": "IMMEDIATE", "Frequency": "HOURLY"}
    total = _campaign(ctx, project, _segment(ctx, owner, project), Schedule=hourly, Limits={"Total": 2})
    daily = _campaign(ctx, project, _segment(ctx, owner, project), Schedule=hourly, Limits={"Daily": 1})
    scheduler = CampaignScheduler(ctx)
    for hour in range(3):
        _drain(scheduler, T0 + hour * 3600 + 1)
        assert _state(ctx, total)["state"] == "PENDING_NEXT_RUN"
    for campaign_id, expected in ((total, ["SUCCESS", "SUCCESS", "CAMPAIGN_CAP"]),
                                  (daily, ["SUCCESS", "DAILY_CAP", "DAILY_CAP"])):
        runs_by_id = {a["id"]: a["run"] for a in _activities(ctx, campaign_id)}
        assert sorted(runs_by_id.values()) == [1, 2, 3]
        per_run = {}
        for record in _sends(ctx, campaign_id):
            per_run.setdefault(runs_by_id[record["attributes"]["campaign_activity_id"]], set()).add(
                record["attributes"]["campaign_send_status"])
        assert [per_run[n] for n in (1, 2, 3)] == [{status} for status in expected]
    # The day turns (T0 is 03:33 UTC): the daily cap lets the next run through.
    _drain(scheduler, T0 + 21 * 3600 + 1)
    last = max(_activities(ctx, daily), key=lambda a: a["run"])
    assert {r["attributes"]["campaign_send_status"] for r in _sends(ctx, daily)
            if r["attributes"]["campaign_activity_id"] == last["id"]} == {"SUCCESS"}
    assert len(members) == 4


def test_hourly_runs_follow_the_clock_until_the_end_time(ctx, shop):
    owner, project = shop
    _endpoints(ctx, owner, project, 2)
    schedule = {"StartTime": "2033-05-18T04:00:00Z", "EndTime": "2033-05-18T06:30:00Z", "Frequency": "HOURLY"}
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project), Schedule=schedule)
    first = datetime.fromisoformat(schedule["StartTime"]).timestamp()
    scheduler = CampaignScheduler(ctx)
    assert scheduler.run_once(now=first - 1) == 0 and _state(ctx, campaign_id)["state"] == "SCHEDULED"
    _drain(scheduler, first)
    assert _state(ctx, campaign_id)["state"] == "PENDING_NEXT_RUN"
    assert _state(ctx, campaign_id)["next_run_at"] == first + 3600
    _drain(scheduler, first + 1800)
    assert len(_activities(ctx, campaign_id)) == 1
    _drain(scheduler, first + 3600)
    _drain(scheduler, first + 7200 + 5)
    assert [a["run"] for a in _activities(ctx, campaign_id)] == [1, 2, 3]
    assert _state(ctx, campaign_id)["state"] == "COMPLETED" and _state(ctx, campaign_id)["next_run_at"] is None
    assert len(_sends(ctx, campaign_id)) == 6


def test_pausing_lets_the_run_in_progress_finish_and_starts_no_new_run(ctx, shop):
    owner, project = shop
    _endpoints(ctx, owner, project, 10)
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project),
                            Schedule={"StartTime": "IMMEDIATE", "Frequency": "HOURLY"})
    scheduler = CampaignScheduler(ctx, slice_size=3)
    scheduler.run_once(now=T0)  # the run starts and its first slice goes
    with ctx.db.write() as conn:
        campaign_store.update(conn, campaign_id, state="PAUSED")
    _drain(scheduler, T0 + 1)
    (activity,) = _activities(ctx, campaign_id)
    assert activity["state"] == "COMPLETED" and len(_sends(ctx, campaign_id)) == 10
    assert _state(ctx, campaign_id)["state"] == "PAUSED"
    _drain(scheduler, T0 + 3 * 3600)
    assert len(_activities(ctx, campaign_id)) == 1 and _state(ctx, campaign_id)["state"] == "PAUSED"


def test_an_sa_sp_tenants_campaign_reaches_only_its_own_endpoints(ctx, admin):
    acme_row, acme = onboard(ctx, admin, "acme", "sa-sp")
    _globex_row, globex = onboard(ctx, admin, "globex", "sa-sp")
    project = acme_row["project_id"]
    _email_channel(ctx, admin, acme_row["account_id"], project)
    own = _endpoints(ctx, acme, project, 4, prefix="acme")
    _endpoints(ctx, globex, project, 5, prefix="globex")
    segment_id = _segment(ctx, acme, project)
    campaign_id = _campaign(ctx, project, segment_id, tenant_id="acme")
    _drain(CampaignScheduler(ctx, slice_size=2), T0)
    sends = _sends(ctx, campaign_id)
    assert sorted(r["client"]["client_id"] for r in sends) == own
    assert {r["pinfold"]["tenant_id"] for r in sends} == {"acme"}
    rows = _queued(ctx)
    assert sorted(row.recipient["endpoint_id"] for row in rows) == own


def test_a_run_starts_once_and_a_killed_scheduler_loses_and_repeats_nothing(ctx, shop):
    owner, project = shop
    members = _endpoints(ctx, owner, project, 25)
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project))
    assert runs.start_run(ctx, campaign_id, T0) is True
    assert runs.start_run(ctx, campaign_id, T0) is False  # a second scheduler finds it started
    (activity,) = _activities(ctx, campaign_id)

    assert runs.advance(ctx, activity["id"], T0, size=10, queue_bound=10_000) == 10
    with ctx.db.write() as conn:  # the first scheduler claims the activity, then dies before its next slice
        assert [a["id"] for a in activity_store.claim(conn, now=T0, until=T0 + 30, limit=8)] == [activity["id"]]
    second = CampaignScheduler(ctx, slice_size=10)
    assert second.run_once(now=T0 + 10) == 0  # held by the dead scheduler's lease
    _drain(second, T0 + 31)
    sends = _sends(ctx, campaign_id)
    assert sorted(r["client"]["client_id"] for r in sends) == members  # each once
    assert len(_queued(ctx)) == 25
    assert _activities(ctx, campaign_id)[0]["state"] == "COMPLETED"


def test_a_slice_read_by_a_scheduler_that_loses_the_race_is_not_planned_twice(ctx, shop):
    owner, project = shop
    _endpoints(ctx, owner, project, 6)
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project))
    runs.start_run(ctx, campaign_id, T0)
    (activity,) = _activities(ctx, campaign_id)
    with ctx.db.read() as conn:
        stale = runs._read(conn, activity["id"], T0, 4, 10_000)
    assert runs.advance(ctx, activity["id"], T0, size=4, queue_bound=10_000) == 4
    with ctx.db.write() as conn:
        assert runs._plan(conn, stale, T0) == 0  # its cursor moved meanwhile
    assert len(_sends(ctx, campaign_id)) == 4


def test_slices_wait_while_the_sending_queue_is_full(ctx, shop):
    owner, project = shop
    _endpoints(ctx, owner, project, 9)
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project))
    scheduler = CampaignScheduler(ctx, slice_size=4, queue_bound=4)
    scheduler.run_once(now=T0)
    assert scheduler.run_once(now=T0) == 0  # 4 queued: at the bound
    assert len(_sends(ctx, campaign_id)) == 4
    delivery = EmailDelivery(ctx)
    try:
        delivery.run_once()  # the queue empties: the next slice goes, then waits again
        assert scheduler.run_once(now=T0 + 1) == 4 and scheduler.run_once(now=T0 + 1) == 0
        assert len(_sends(ctx, campaign_id)) == 8
        delivery.run_once()
        _drain(scheduler, T0 + 2)
    finally:
        delivery.stop()
    assert len(_sends(ctx, campaign_id)) == 9 and _activities(ctx, campaign_id)[0]["state"] == "COMPLETED"


def test_a_filter_hook_drops_and_changes_endpoints_and_its_failure_is_recorded(ctx, shop):
    owner, project = shop
    members = _endpoints(ctx, owner, project, 6)
    calls = []

    def poster(url, body):
        import json
        payload = json.loads(body)
        calls.append(payload)
        if url.endswith("/down"):
            raise OSError("connection refused")
        return {eid: {**doc, "Attributes": {**doc["Attributes"], "name": ["VIP"]}}
                for eid, doc in payload["Endpoints"].items() if eid != members[0]}

    kept = _campaign(ctx, project, _segment(ctx, owner, project),
                     Hook={"WebUrl": "https://hooks.example.com/filter", "Mode": "FILTER"})
    _drain(CampaignScheduler(ctx, poster=poster), T0)
    assert {key for key in calls[0]} >= {"ApplicationId", "CampaignId", "TreatmentId", "ActivityId", "ScheduledTime",
                                         "MessageConfiguration", "Endpoints"}
    assert calls[0]["CampaignId"] == kept and len(calls[0]["Endpoints"]) == 6
    sends = {r["client"]["client_id"]: r["attributes"]["campaign_send_status"] for r in _sends(ctx, kept)}
    assert sends == dict.fromkeys(members[1:], "SUCCESS")
    assert {row.recipient["data"]["Attributes"]["name"][0] for row in _queued(ctx)} == {"VIP"}  # as the hook said

    failing = _campaign(ctx, project, _segment(ctx, owner, project),
                        Hook={"WebUrl": "https://hooks.example.com/down", "Mode": "FILTER"})
    before = len(calls)
    _drain(CampaignScheduler(ctx, poster=poster), T0)
    assert len(calls) - before == 3  # three attempts
    assert {r["attributes"]["campaign_send_status"] for r in _sends(ctx, failing)} == {"HOOK_FAILURE"}


def test_a_deleted_segment_marks_the_campaign_deleted(ctx, shop):
    owner, project = shop
    _endpoints(ctx, owner, project, 2)
    segment_id = _segment(ctx, owner, project)
    campaign_id = _campaign(ctx, project, segment_id)
    segments.delete(ctx, owner, project, segment_id)
    _drain(CampaignScheduler(ctx), T0)
    assert _state(ctx, campaign_id)["state"] == "DELETED" and _activities(ctx, campaign_id) == []


def test_messages_per_second_spaces_due_times_and_maximum_duration_expires_the_rest(ctx, shop):
    owner, project = shop
    _endpoints(ctx, owner, project, 10)
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project),
                            Limits={"MessagesPerSecond": 1, "MaximumDuration": 60})
    _drain(CampaignScheduler(ctx, slice_size=4), T0)
    assert sorted(row.due_at for row in _queued(ctx)) == [T0 + n for n in range(10)]
    assert {r["attributes"]["campaign_send_status"] for r in _sends(ctx, campaign_id)} == {"SUCCESS"}
    late = _campaign(ctx, project, _segment(ctx, owner, project), Limits={"MaximumDuration": 60})
    _drain(CampaignScheduler(ctx), T0 + 120)
    assert {r["attributes"]["campaign_send_status"] for r in _sends(ctx, late)} == {"EXPIRED"}


def test_a_slice_refused_by_the_send_rate_is_rolled_back_and_planned_later(ctx, admin, shop):
    owner, project = shop
    email_account.set_production(ctx, admin, owner.account_id, max_rate=4)
    members = _endpoints(ctx, owner, project, 6)
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project))
    scheduler = CampaignScheduler(ctx, slice_size=4)
    assert scheduler.run_once(now=T0) == 1 + 4  # the run starts; a first slice of 4 costs a second of rate
    assert scheduler.run_once(now=T0) == 0  # the next slice is over the rate: rolled back
    (activity,) = _activities(ctx, campaign_id)
    assert len(_sends(ctx, campaign_id)) == 4 and len(_queued(ctx)) == 4
    assert activity["lease_until"] == T0 + 1 and activity["state"] == "RUNNING"
    time.sleep(1.2)  # the account's rate is measured on the real clock
    _drain(scheduler, T0 + 2)
    assert sorted(r["client"]["client_id"] for r in _sends(ctx, campaign_id)) == members
    assert {r["attributes"]["campaign_send_status"] for r in _sends(ctx, campaign_id)} == {"SUCCESS"}


def test_a_spent_daily_quota_gives_throttled_records(ctx, admin, shop):
    owner, project = shop
    email_account.set_production(ctx, admin, owner.account_id, max_24h=5, max_rate=100_000)
    _endpoints(ctx, owner, project, 10)
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project))
    _drain(CampaignScheduler(ctx, slice_size=4), T0)
    statuses = Counter(r["attributes"]["campaign_send_status"] for r in _sends(ctx, campaign_id))
    assert statuses == {"SUCCESS": 4, "THROTTLED": 6}
    (activity,) = _activities(ctx, campaign_id)
    assert activity["state"] == "COMPLETED" and activity["counts"]["SuccessfulEndpointCount"] == 4


def test_a_run_whose_channel_goes_away_ends_and_the_campaign_is_invalid(ctx, shop):
    owner, project = shop
    _endpoints(ctx, owner, project, 6)
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project))
    scheduler = CampaignScheduler(ctx, slice_size=4)
    scheduler.run_once(now=T0)
    identity = f"arn:aws:ses:{owner.region}:{owner.account_id}:identity/example.com"
    channels.update_email(ctx, owner, project, {"FromAddress": "shop@example.com", "Identity": identity,
                                                "Enabled": False})
    _drain(scheduler, T0 + 1)
    (activity,) = _activities(ctx, campaign_id)
    assert activity["state"] == "COMPLETED" and activity["result"] == "FAIL"
    assert _state(ctx, campaign_id)["state"] == "INVALID" and len(_sends(ctx, campaign_id)) == 4
    later = _campaign(ctx, project, _segment(ctx, owner, project))
    _drain(scheduler, T0 + 2)  # a run cannot start on a disabled channel
    assert _state(ctx, later)["state"] == "INVALID" and _activities(ctx, later) == []


def test_an_imported_segment_is_walked_in_slices_from_its_member_list(ctx, shop):
    from pinfold.audience.store import jobs as job_store

    owner, project = shop
    members = _endpoints(ctx, owner, project, 7)
    segment_id = segments.create_imported(ctx, owner, project, "imported", {"Format": "CSV", "Size": 0})
    with ctx.db.write() as conn:  # as an import job lists them (one listed endpoint no longer exists)
        job_store.add_members(conn, segment_id, [*members[1:], "gone"])
    campaign_id = _campaign(ctx, project, segment_id)
    _drain(CampaignScheduler(ctx, slice_size=3), T0)
    assert sorted(r["client"]["client_id"] for r in _sends(ctx, campaign_id)) == members[1:]
    assert _activities(ctx, campaign_id)[0]["counts"]["ExecutionMetrics"]["ENDPOINT_PRODUCED"] == "6"


def test_a_failing_slice_holds_up_neither_the_other_campaigns_nor_its_own_retry(ctx, shop, monkeypatch, caplog):
    owner, project = shop
    _endpoints(ctx, owner, project, 6)
    segment_id = _segment(ctx, owner, project)
    broken, healthy = _campaign(ctx, project, segment_id), _campaign(ctx, project, segment_id)
    for campaign_id in (broken, healthy):
        runs.start_run(ctx, campaign_id, T0)
    (stuck,) = _activities(ctx, broken)
    advance = runs.advance

    def failing(ctx_, activity_id, *args, **kwargs):
        if activity_id == stuck["id"]:
            raise RuntimeError("the database went away mid-slice")
        return advance(ctx_, activity_id, *args, **kwargs)

    monkeypatch.setattr(runs, "advance", failing)
    scheduler = CampaignScheduler(ctx, slice_size=10, lease_seconds=30)
    _drain(scheduler, T0)
    assert len(_sends(ctx, healthy)) == 6 and _activities(ctx, healthy)[0]["state"] == "COMPLETED"
    assert _sends(ctx, broken) == [] and "planning a slice failed" in caplog.text
    monkeypatch.setattr(runs, "advance", advance)
    assert scheduler.run_once(now=T0 + 29) == 0  # its claim stands until the lease runs out
    _drain(scheduler, T0 + 31)
    assert len(_sends(ctx, broken)) == 6 and _activities(ctx, broken)[0]["state"] == "COMPLETED"


def test_a_campaign_is_held_while_its_tenants_sending_is_paused(ctx, admin, shop):
    from pinfold.reputation import pauses
    from pinfold.tenancy.store import tenants as registry

    owner, project = shop
    _endpoints(ctx, owner, project, 6)
    campaign_id = _campaign(ctx, project, _segment(ctx, owner, project))
    with ctx.db.write() as conn:
        registry.update_tenant(conn, "shop", sending_paused=True)
    scheduler = CampaignScheduler(ctx, slice_size=5)
    _drain(scheduler, T0)
    (activity,) = _activities(ctx, campaign_id)
    assert activity["state"] == "PENDING" and _sends(ctx, campaign_id) == []
    pauses.resume_tenant(ctx, admin, "shop")
    _drain(scheduler, T0 + 60)
    assert len(_sends(ctx, campaign_id)) == 6 and _activities(ctx, campaign_id)[0]["state"] == "COMPLETED"
