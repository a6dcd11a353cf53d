"""The operator's campaign use cases (campaigns/operator.py) and a run's progress (campaigns/progress.py):
run now, the activities' messages by outcome while the run plans and sends, the estimate of the
run's size and time left, listing and showing campaigns, and pause and resume through UpdateCampaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pinfold.audience import endpoints, segments
from pinfold.campaigns import campaigns, operator, progress
from pinfold.campaigns.scheduler import CampaignScheduler
from pinfold.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from pinfold.email import account as email_account
from pinfold.email import identities as email_identities
from pinfold.email.delivery import EmailDelivery
from pinfold.messaging import channels
from tests.service.helpers import account_caller, onboard

SIMULATOR = "simulator.amazonses.com"
EMAIL = {"EmailMessage": {"Title": "Sale", "HtmlBody": "<p>Hi</p>"}}


def _future(days: int = 7) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def shop(ctx, admin):
    """An sa-mp tenant's project with a verified email channel and 12 gold endpoints (2 bounce);
    yields (owner caller, project id, segment id)."""
    tenant = onboard(ctx, admin, "shop", "sa-mp")[0]
    owner, project = account_caller(ctx, admin, tenant["account_id"]), tenant["project_id"]
    email_identities.create(ctx, owner, {"EmailIdentity": "example.com"})
    email_identities.confirm(ctx, admin, "example.com", account_id=owner.account_id, region=owner.region)
    email_account.set_production(ctx, admin, owner.account_id, max_rate=100_000)
    channels.update_email(ctx, owner, project, {
        "FromAddress": "shop@example.com", "Enabled": True,
        "Identity": f"arn:aws:ses:{owner.region}:{owner.account_id}:identity/example.com"})
    endpoints.update_batch(ctx, owner, project, [
        {"Id": f"e{n:02d}", "ChannelType": "EMAIL", "Address": f"{'bounce' if n < 2 else 'success'}+{n}@{SIMULATOR}",
         "Attributes": {"plan": ["gold"]}} for n in range(12)])
    segment = segments.create(ctx, owner, project, {"Name": "gold", "Dimensions": {"Attributes": {
        "plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}}})["Id"]
    return owner, project, segment


def _campaign(ctx, owner, project: str, segment: str, **members) -> str:
    request = {"Name": "sale", "SegmentId": segment, "MessageConfiguration": EMAIL,
               "Schedule": {"StartTime": _future(), "Frequency": "ONCE"}, **members}
    return campaigns.create(ctx, owner, project, request)["Id"]


def _deliver(ctx) -> None:
    delivery = EmailDelivery(ctx)
    try:
        while delivery.run_once():
            pass
    finally:
        delivery.stop()


def test_outcomes_sort_both_channels_statuses():
    assert progress.outcomes({"queued": 2, "sending": 1, "sent": 4, "delivered": 5, "bounced": 1, "soft_bounced": 1,
                              "rejected": 1, "suppressed": 1, "failed": 1, "expired": 1}) == {
        "queued": 3, "sent": 4, "delivered": 5, "failed": 6}


def test_a_run_started_now_shows_its_progress_from_due_to_delivered(ctx, admin, shop):
    owner, project, segment = shop
    campaign_id = _campaign(ctx, owner, project, segment)
    started = operator.run_now(ctx, admin, campaign_id)
    assert (started["Run"], started["ApplicationId"]) == (1, project)
    waiting = progress.run_progress(ctx, admin, campaign_id, 1)
    assert not waiting.started and not waiting.finished and waiting.expected(None) == (0, False)

    scheduler = CampaignScheduler(ctx, slice_size=5)
    scheduler.run_once()  # starts the run and plans its first slice
    planning = progress.run_progress(ctx, admin, campaign_id)
    (activity,) = planning.activities
    assert planning.started and planning.planning and not planning.finished
    assert (activity.read, activity.planned) == (5, 5) and planning.messages == {
        "queued": 5, "sent": 0, "delivered": 0, "failed": 0}
    audience = progress.Audience(campaign_id)
    assert audience.step(ctx, planning) == 12  # the segment, counted in one step
    assert planning.expected(12) == (12, False)  # 5 of 5 read were planned: about 12 in all
    assert planning.expected(None) == (5, False)

    while scheduler.run_once():
        pass
    planned = progress.run_progress(ctx, admin, campaign_id)
    assert not planned.planning and not planned.finished and planned.expected(None) == (12, True)
    assert planned.messages["queued"] == 12

    _deliver(ctx)
    done = progress.run_progress(ctx, admin, campaign_id)
    assert done.finished and done.done == 12
    assert done.messages == {"queued": 0, "sent": 0, "delivered": 10, "failed": 2}
    shown = done.as_dict()
    assert shown["Finished"] and shown["Activities"][0]["SuccessfulEndpointCount"] == 12
    assert shown["Activities"][0]["Result"] == "SUCCESS"

    # show: the campaign as GetCampaign answers it, with the run's activity and its messages
    found = operator.show(ctx, admin, campaign_id)
    assert found["Campaign"]["State"] == {"CampaignStatus": "COMPLETED"} and found["Runs"] == 1
    (listed,) = found["Activities"]
    assert listed["Run"] == 1 and listed["Id"] == activity.id and listed["TotalEndpointCount"] == 12
    assert listed["Messages"] == done.messages
    with pytest.raises(Conflict, match="COMPLETED"):
        operator.run_now(ctx, admin, campaign_id)


def test_the_meter_estimates_time_left_from_the_recent_rate():
    meter = progress.Meter(window=10)
    assert meter.seconds_left(100) is None
    meter.add(0.0, 0)
    meter.add(2.0, 20)  # 10 messages a second
    assert meter.rate() == 10 and meter.seconds_left(100) == 8
    for at in range(3, 30):
        meter.add(float(at), 20)  # stalled: the window forgets the burst
    assert meter.rate() == 0 and meter.seconds_left(100) is None


def test_run_now_refuses_campaigns_that_cannot_run(ctx, admin, shop):
    owner, project, segment = shop
    paused = _campaign(ctx, owner, project, segment, IsPaused=True)
    with pytest.raises(Conflict, match="PAUSED"):
        operator.run_now(ctx, admin, paused)
    event = _campaign(ctx, owner, project, segment, Schedule={
        "StartTime": _future(), "EndTime": _future(9), "Frequency": "EVENT",
        "EventFilter": {"FilterType": "ENDPOINT", "Dimensions": {"EventType": {"Values": ["buy"]}}}})
    with pytest.raises(Conflict, match="event-based"):
        operator.run_now(ctx, admin, event)
    running = _campaign(ctx, owner, project, segment)
    operator.run_now(ctx, admin, running)
    CampaignScheduler(ctx, slice_size=5).run_once()
    with pytest.raises(Conflict, match="EXECUTING"):
        operator.run_now(ctx, admin, running)
    gone = segments.create(ctx, owner, project, {"Name": "short-lived"})["Id"]
    orphan = _campaign(ctx, owner, project, gone)
    segments.delete(ctx, owner, project, gone)
    with pytest.raises(Conflict, match="DELETED"):
        operator.run_now(ctx, admin, orphan)
    with pytest.raises(NotFound):
        operator.run_now(ctx, admin, "0" * 32)
    with pytest.raises(Forbidden):  # the operator's commands are the organization's
        operator.run_now(ctx, owner, running)


def test_pause_and_resume_go_through_update_campaign(ctx, admin, shop):
    owner, project, segment = shop
    campaign_id = _campaign(ctx, owner, project, segment)
    paused = operator.set_paused(ctx, admin, campaign_id, True)
    assert paused["State"] == {"CampaignStatus": "PAUSED"} and paused["IsPaused"] and paused["Version"] == 2
    resumed = operator.set_paused(ctx, admin, campaign_id, False)
    assert resumed["State"] == {"CampaignStatus": "SCHEDULED"} and resumed["Version"] == 3
    immediate = _campaign(ctx, owner, project, segment, Schedule={"StartTime": "IMMEDIATE", "Frequency": "ONCE"})
    with pytest.raises(InvalidInput, match="cannot be paused"):
        operator.set_paused(ctx, admin, immediate, True)


def test_listing_pages_and_narrows_to_a_project_or_tenant(ctx, admin, shop):
    owner, project, segment = shop
    made = [_campaign(ctx, owner, project, segment, Name=f"c{n}") for n in range(3)]
    other_tenant, other_caller = onboard(ctx, admin, "other", "sa-mp")
    other_owner = account_caller(ctx, admin, other_tenant["account_id"])
    other_segment = segments.create(ctx, other_owner, other_tenant["project_id"], {"Name": "all"})["Id"]
    email_identities.create(ctx, other_owner, {"EmailIdentity": "example.org"})
    channels.update_email(ctx, other_owner, other_tenant["project_id"], {
        "FromAddress": "a@example.org",
        "Identity": f"arn:aws:ses:{other_owner.region}:{other_owner.account_id}:identity/example.org"})
    theirs = _campaign(ctx, other_owner, other_tenant["project_id"], other_segment)

    # Listings run oldest first; campaigns made within one millisecond come in id order.
    first, token = operator.list_campaigns(ctx, admin, tenant_id="shop", limit=2)
    assert len(first) == 2 and token
    rest, last_token = operator.list_campaigns(ctx, admin, tenant_id="shop", limit=2, token=token)
    assert len(rest) == 1 and last_token is None
    assert sorted(row["id"] for row in first + rest) == sorted(made)
    shown = next(row for row in first + rest if row["id"] == made[0])
    assert shown | {"next_run": None} == {
        "id": made[0], "project": project, "account": owner.account_id, "tenant": "shop", "name": "c0",
        "state": "SCHEDULED", "frequency": "ONCE", "version": 1, "runs": 0, "next_run": None}
    everything, _ = operator.list_campaigns(ctx, admin)
    assert sorted(row["id"] for row in everything[:3]) == sorted(made) and everything[3]["id"] == theirs
    assert [row["id"] for row in operator.list_campaigns(ctx, admin, project_id=other_tenant["project_id"])[0]] == [
        theirs]
    assert operator.list_campaigns(ctx, admin, project_id=project, tenant_id="other") == ([], None)
    with pytest.raises(NotFound):
        operator.list_campaigns(ctx, admin, tenant_id="nobody")
    with pytest.raises(Forbidden):
        operator.list_campaigns(ctx, other_caller)
