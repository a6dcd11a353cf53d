"""Event-based campaigns (Schedule.Frequency EVENT): the pump's sink that notices matching events.

Every record the outbox carries passes the trigger sink: PutEvents' records and the ones Pinfold
writes for its own messages alike, so both kinds of EventFilter see what they name. A record
matching an active event campaign's filter, inside its StartTime–EndTime window, for an endpoint
of that campaign's tenant, becomes a trigger row; the scheduler plans triggers into messages
within its next pass (runs decide segment membership, caps and quiet time, as for any run).

The sink is always active, so its cursor keeps pace with the outbox even while no event campaign
exists; the campaigns it matches are read again at every pump pass, which is how a new campaign
starts listening within a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from pinfold.campaigns.rules import event_filter
from pinfold.campaigns.rules.schedule import end_instant, parse_time, start_instant
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.campaigns.store import event_triggers
from pinfold.context import Context
from pinfold.core.errors import InvalidInput
from pinfold.events.sinks.base import FILTER_BATCH, Sink


@dataclass(frozen=True)
class Listening:
    """One active event campaign as the sink matches it."""

    campaign_id: str
    tenant_id: str | None
    rule: event_filter.EventFilter
    starts_ms: int
    ends_ms: int | None


class TriggerSink(Sink):
    name = "campaigns:triggers"
    from_start = False  # events from before the sink existed trigger nothing
    batch = FILTER_BATCH

    def __init__(self, ctx: Context, listening: dict[str, list[Listening]]) -> None:
        self.ctx = ctx
        self.listening = listening  # by project id

    def wants(self, row: dict) -> bool:
        found = self.listening.get(row["project_id"])
        if not found:
            return False
        return any(item.rule.may_match(row["event_type"]) for item in found)

    def deliver(self, rows: list[dict], batch: str) -> None:
        now = time.time()
        fired = [trigger for row in rows for trigger in self.matches(row, now)]
        if fired:
            with self.ctx.db.write() as conn:
                event_triggers.add(conn, fired)

    def matches(self, row: dict, now: float) -> list[dict]:
        record = row["record"]
        endpoint_id = _endpoint_of(record)
        if endpoint_id is None:
            return []
        own = record.get("pinfold") or {}
        at_ms = record.get("event_timestamp") or row["arrival_ms"]
        fired = []
        for item in self.listening.get(row["project_id"], ()):
            if item.tenant_id is not None and own.get("tenant_id") != item.tenant_id:
                continue
            if (record.get("attributes") or {}).get("campaign_id") == item.campaign_id:
                continue  # a campaign's own messages never trigger it again
            if at_ms < item.starts_ms or (item.ends_ms is not None and at_ms > item.ends_ms):
                continue
            if item.rule.matches(record):
                fired.append({"campaign_id": item.campaign_id, "endpoint_id": endpoint_id,
                              "event_id": row["event_id"], "event_ms": at_ms, "created_at": now})
        return fired


def _endpoint_of(record: dict) -> str | None:
    """The endpoint a record is about; None when its client is a message to a bare address (its
    client id is then the message's own id)."""
    client_id = (record.get("client") or {}).get("client_id")
    if not client_id:
        return None
    mail = (((record.get("facets") or {}).get("email_channel") or {}).get("mail_event") or {}).get("mail") or {}
    if client_id in (mail.get("message_id"), (record.get("attributes") or {}).get("message_id")):
        return None
    return client_id


class CampaignTriggers:
    """The sink source: one trigger sink over every active event campaign."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._compiled: dict[tuple[str, int], Listening | None] = {}

    def sinks(self, conn: Connection) -> list[Sink]:
        listening: dict[str, list[Listening]] = {}
        for row in event_triggers.active_event_campaigns(conn):
            item = self._listening(conn, row)
            if item is not None:
                listening.setdefault(row["project_id"], []).append(item)
        return [TriggerSink(self.ctx, listening)]

    def _listening(self, conn: Connection, row: dict) -> Listening | None:
        key = (row["id"], row["version"])
        if key not in self._compiled:
            if len(self._compiled) > 10_000:
                self._compiled.clear()
            version = campaign_store.get_version(conn, row["id"], row["version"])
            self._compiled[key] = _compile(row, (version or {}).get("definition") or {})
        return self._compiled[key]

    def close(self) -> None:
        self._compiled.clear()


def _compile(row: dict, definition: dict) -> Listening | None:
    schedule = definition.get("Schedule") or {}
    if definition.get("IsPaused"):
        return None
    try:
        rule = event_filter.compile_filter(schedule.get("EventFilter"))
    except InvalidInput:  # checked when the campaign was written; a stored one that fails never fires
        return None
    created = parse_time(row["created_at"]).timestamp()  # an IMMEDIATE campaign listens from its creation
    starts = start_instant(schedule, created)
    ends = end_instant(schedule)
    return Listening(row["id"], row["tenant_id"], rule, int(starts * 1000), None if ends is None else int(ends * 1000))
