"""Event-based campaigns end to end at the service level: PutEvents → the pump's trigger sink → the
scheduler plans a message for each reporting endpoint of the segment, once, as a scheduled run would."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from pinfold.audience import events as event_service
from pinfold.campaigns import campaigns
from pinfold.campaigns.scheduler import CampaignScheduler
from pinfold.campaigns.store import event_triggers
from pinfold.campaigns.triggers import CampaignTriggers
from pinfold.core import ids
from pinfold.events.pump import Pump
from tests.service.test_campaign_runs import (  # noqa: F401 - shop is a fixture
    EMAIL,
    _activities,
    _endpoints,
    _queued,
    _segment,
    _sends,
    _state,
    shop,
)

PURCHASE = {"FilterType": "ENDPOINT", "Dimensions": {"EventType": {"DimensionType": "INCLUSIVE",
                                                                   "Values": ["purchase"]}}}


@pytest.fixture
def pump(ctx):
    built = Pump(ctx, sources=[CampaignTriggers(ctx)])
    built.run_once(flush=True)
    yield built
    built.stopped()


def _event_campaign(ctx, caller, project: str, segment_id: str, **schedule) -> str:
    request = {"Name": "thanks", "SegmentId": segment_id, "MessageConfiguration": EMAIL,
               "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "EVENT", "EventFilter": PURCHASE, **schedule}}
    return campaigns.create(ctx, caller, project, request)["Id"]


def _iso(epoch: float) -> str:
    return ids.iso(datetime.fromtimestamp(epoch, UTC))


def _report(ctx, caller, project: str, endpoint_id: str, *event_types: str) -> None:
    events = {f"e{n}": {"EventType": event_type, "Timestamp": ids.iso_now()}
              for n, event_type in enumerate(event_types)}
    event_service.put_events(ctx, caller, project, {endpoint_id: {"Endpoint": {}, "Events": events}})


def test_a_reported_event_sends_one_message_to_a_member_endpoint(ctx, shop, pump):  # noqa: F811
    owner, project = shop
    members = _endpoints(ctx, owner, project, 3)
    outsider = _endpoints(ctx, owner, project, 1, plan="silver", prefix="s")[0]
    campaign_id = _event_campaign(ctx, owner, project, _segment(ctx, owner, project))
    scheduler = CampaignScheduler(ctx)
    assert scheduler.run_once() == 0 and _activities(ctx, campaign_id) == []  # nothing before an event

    _report(ctx, owner, project, members[0], "purchase", "purchase", "signup")  # two matching events
    _report(ctx, owner, project, members[1], "signup")
    _report(ctx, owner, project, outsider, "purchase")  # not in the segment
    pump.run_once(flush=True)
    assert scheduler.run_once() > 0

    sends = _sends(ctx, campaign_id)
    assert [(r["client"]["client_id"], r["attributes"]["campaign_send_status"]) for r in sends] == [
        (members[0], "SUCCESS")]
    assert [row.recipient["endpoint_id"] for row in _queued(ctx)] == [members[0]]
    (activity,) = _activities(ctx, campaign_id)
    assert activity["state"] == "RUNNING" and activity["counts"]["SuccessfulEndpointCount"] == 1
    assert _state(ctx, campaign_id)["state"] == "EXECUTING"

    _report(ctx, owner, project, members[2], "purchase")  # a later event: the same activity goes on
    pump.run_once(flush=True)  # (the pump trims the records every sink has passed)
    scheduler.run_once()
    assert [r["client"]["client_id"] for r in _sends(ctx, campaign_id)] == [members[2]]
    assert sorted(row.recipient["endpoint_id"] for row in _queued(ctx)) == [members[0], members[2]]
    assert len(_activities(ctx, campaign_id)) == 1
    assert scheduler.run_once() == 0  # the walk of scheduled runs never claims the event activity


def test_an_event_waiting_longer_than_five_minutes_expires(ctx, shop):  # noqa: F811
    owner, project = shop
    member = _endpoints(ctx, owner, project, 1)[0]
    campaign_id = _event_campaign(ctx, owner, project, _segment(ctx, owner, project))
    now = time.time()
    with ctx.db.write() as conn:
        event_triggers.add(conn, [{"campaign_id": campaign_id, "endpoint_id": member, "event_id": "old",
                                   "event_ms": int((now - 400) * 1000), "created_at": now - 400}])
    CampaignScheduler(ctx).run_once(now=now)
    assert [r["attributes"]["campaign_send_status"] for r in _sends(ctx, campaign_id)] == ["EXPIRED"]
    assert _queued(ctx) == []


def test_a_paused_campaign_drops_its_waiting_events_and_an_ended_one_completes(ctx, shop):  # noqa: F811
    owner, project = shop
    member = _endpoints(ctx, owner, project, 1)[0]
    segment_id = _segment(ctx, owner, project)
    end = time.time() + 3600
    paused = _event_campaign(ctx, owner, project, segment_id)
    ending = _event_campaign(ctx, owner, project, segment_id, EndTime=_iso(end))
    campaigns.update(ctx, owner, project, paused, {"IsPaused": True, "Schedule": {
        "StartTime": _iso(time.time() + 60), "Frequency": "EVENT", "EventFilter": PURCHASE}})
    now = time.time()
    with ctx.db.write() as conn:
        event_triggers.add(conn, [{"campaign_id": cid, "endpoint_id": member, "event_id": "e", "event_ms": 0,
                                   "created_at": now} for cid in (paused, ending)])
    scheduler = CampaignScheduler(ctx)
    scheduler.run_once(now=now)
    assert _sends(ctx, paused) == [] and [r["client"]["client_id"] for r in _sends(ctx, ending)] == [member]
    with ctx.db.read() as conn:
        assert event_triggers.waiting_campaigns(conn) == []

    scheduler.run_once(now=end + 1)
    assert _state(ctx, ending)["state"] == "COMPLETED"
    assert [(a["state"], a["result"]) for a in _activities(ctx, ending)] == [("COMPLETED", "SUCCESS")]
