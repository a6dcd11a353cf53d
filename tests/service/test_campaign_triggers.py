"""Event-based campaigns hear of matching events through the pump: PutEvents' records and Pinfold's
own, confined to the campaign's window and tenant, each event once."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from pinfold.audience import endpoints as endpoint_service
from pinfold.audience import events as event_service
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.campaigns.store import event_triggers
from pinfold.campaigns.triggers import CampaignTriggers
from pinfold.core import ids
from pinfold.db.tables import campaign_triggers
from pinfold.events.pump import Pump

FILTER = {"FilterType": "ENDPOINT", "Dimensions": {
    "EventType": {"DimensionType": "INCLUSIVE", "Values": ["purchase"]},
    "Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}}}


@pytest.fixture
def pump(ctx):
    built = Pump(ctx, sources=[CampaignTriggers(ctx)])
    built.run_once(flush=True)  # the sink's cursor starts after what the outbox holds now
    yield built
    built.stopped()


def _campaign(ctx, project_id: str, *, schedule: dict | None = None, state: str = "SCHEDULED",
              tenant_id: str | None = None, paused: bool = False) -> str:
    campaign_id, now = ids.new_project_id(), ids.iso_now()
    schedule = schedule or {"StartTime": "IMMEDIATE", "Frequency": "EVENT", "EventFilter": FILTER}
    with ctx.db.write() as conn:
        campaign_store.insert(conn, {"id": campaign_id, "project_id": project_id, "tenant_id": tenant_id,
                                     "version": 1, "segment_id": "segment", "frequency": schedule["Frequency"],
                                     "state": state, "runs": 0, "next_run_at": None, "created_at": now,
                                     "modified_at": now},
                              {"Name": "on purchase", "SegmentId": "segment", "Schedule": schedule,
                               "IsPaused": paused})
    return campaign_id


def _events(ctx, admin, project: str, endpoint_id: str, *events: tuple[str, dict]) -> None:
    batch = {endpoint_id: {"Endpoint": {}, "Events": {
        f"e{n}": {"EventType": event_type, "Timestamp": ids.iso_now(), "Attributes": attributes}
        for n, (event_type, attributes) in enumerate(events)}}}
    event_service.put_events(ctx, admin, project, batch)


def _triggers(ctx) -> list[dict]:
    with ctx.db.read() as conn:
        return [dict(row) for row in conn.execute(sa.select(campaign_triggers).order_by(campaign_triggers.c.seq))
                .mappings()]


def test_a_matching_put_event_becomes_one_trigger_for_its_endpoint(ctx, admin, project, pump):
    endpoint_service.update_endpoint(ctx, admin, project, "buyer",
                                     {"Address": "buyer@example.com", "ChannelType": "EMAIL"})
    campaign_id = _campaign(ctx, project)
    other = _campaign(ctx, project, schedule={"StartTime": "IMMEDIATE", "Frequency": "EVENT", "EventFilter": {
        "FilterType": "ENDPOINT", "Dimensions": {"EventType": {"Values": ["refund"]}}}})
    _events(ctx, admin, project, "buyer", ("purchase", {"plan": "gold"}), ("purchase", {"plan": "basic"}),
            ("signup", {"plan": "gold"}))
    pump.run_once(flush=True)
    found = _triggers(ctx)
    assert [(row["campaign_id"], row["endpoint_id"]) for row in found] == [(campaign_id, "buyer")]
    assert other not in {row["campaign_id"] for row in found}
    pump.run_once(flush=True)  # nothing new: nothing more
    assert len(_triggers(ctx)) == 1
    with ctx.db.write() as conn:
        taken = event_triggers.peek(conn, campaign_id, 10)
        assert [row["endpoint_id"] for row in taken] == ["buyer"]
        assert event_triggers.remove(conn, [row["seq"] for row in taken]) == 1
    assert _triggers(ctx) == []


def test_a_redelivered_record_triggers_once(ctx, admin, project):
    campaign_id = _campaign(ctx, project)
    source = CampaignTriggers(ctx)
    row = {"project_id": project, "event_id": "event-1", "event_type": "purchase",
           "arrival_ms": int(time.time() * 1000) + 1,
           "record": {"event_type": "purchase", "event_timestamp": int(time.time() * 1000) + 1,
                      "client": {"client_id": "buyer"}, "attributes": {"plan": "gold"}, "metrics": {},
                      "pinfold": {"tenant_id": None}}}
    with ctx.db.read() as conn:
        sink = source.sinks(conn)[0]
    assert sink.wants(row)
    sink.deliver([row], "batch")
    sink.deliver([row], "batch")  # the pump may hand a batch again after a crash
    assert [(r["campaign_id"], r["event_id"]) for r in _triggers(ctx)] == [(campaign_id, "event-1")]


def test_paused_ended_inactive_and_other_tenants_campaigns_do_not_fire(ctx, admin, project):
    past = {"StartTime": "2020-01-01T00:00:00Z", "EndTime": "2020-02-01T00:00:00Z", "Frequency": "EVENT",
            "EventFilter": FILTER}
    ended = _campaign(ctx, project, schedule=past)
    paused = _campaign(ctx, project, paused=True, state="PAUSED")
    completed = _campaign(ctx, project, state="COMPLETED")
    tenants = _campaign(ctx, project, tenant_id="acme")
    source = CampaignTriggers(ctx)
    now_ms = int(time.time() * 1000) + 1  # after every campaign's creation

    def row(tenant: str | None, event_id: str) -> dict:
        return {"project_id": project, "event_id": event_id, "arrival_ms": now_ms,
                "record": {"event_type": "purchase", "event_timestamp": now_ms, "client": {"client_id": "e1"},
                           "attributes": {"plan": "gold"}, "metrics": {}, "pinfold": {"tenant_id": tenant}}}

    with ctx.db.read() as conn:
        sink = source.sinks(conn)[0]
    sink.deliver([row("globex", "a"), row("acme", "b"), row(None, "c")], "batch")
    fired = {(r["campaign_id"], r["event_id"]) for r in _triggers(ctx)}
    assert (tenants, "b") in fired
    assert not {campaign for campaign, _ in fired} & {ended, paused, completed}
    assert (tenants, "a") not in fired and (tenants, "c") not in fired


def test_a_campaigns_own_messages_and_bare_address_messages_never_trigger(ctx, admin, project):
    system = {"StartTime": "IMMEDIATE", "Frequency": "EVENT",
              "EventFilter": {"FilterType": "SYSTEM", "Dimensions": {"EventType": {"Values": ["_email.delivered"]}}}}
    campaign_id = _campaign(ctx, project, schedule=system)
    now_ms = int(time.time() * 1000) + 1

    def delivered(event_id: str, client_id: str, message_id: str, attributes: dict) -> dict:
        return {"project_id": project, "event_id": event_id, "arrival_ms": now_ms,
                "record": {"event_type": "_email.delivered", "event_timestamp": now_ms,
                           "client": {"client_id": client_id}, "attributes": attributes, "metrics": {},
                           "facets": {"email_channel": {"mail_event": {"mail": {"message_id": message_id}}}},
                           "pinfold": {"tenant_id": None}}}

    with ctx.db.read() as conn:
        sink = CampaignTriggers(ctx).sinks(conn)[0]
    sink.deliver([delivered("own", "e1", "m1", {"campaign_id": campaign_id}),
                  delivered("bare", "m2", "m2", {}),
                  delivered("other", "e3", "m3", {"campaign_id": "another"})], "batch")
    assert [(r["event_id"], r["endpoint_id"]) for r in _triggers(ctx)] == [("other", "e3")]
