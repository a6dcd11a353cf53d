"""The pump: moves outbox records to their sinks, at least once, without duplicates, and in order.

Sinks are the lake (every record), each destination named by a project's event stream (that
project's records), and each enabled SES configuration-set event destination (the `_email.*`
records of mail sent through that set whose type it matches, in SES's shape: email/events.py).
A Kinesis ARN or SNS topic publishes to NATS JetStream, a Firehose ARN writes files at
its own location. Each sink has a cursor (the last outbox seq it holds). A pass over a sink:

1. takes the next records after its cursor (for the lake, once enough wait or the oldest has
   waited long enough: files are rolled by size and age);
2. records that range as in flight, and commits;
3. delivers the range: lake files are named after it, so writing it again replaces them; NATS
   messages carry their event id, so JetStream drops a second copy;
4. moves the cursor past the range and clears the in-flight mark.

A pump that dies between 2 and 4 redoes exactly the in-flight range on its next pass. A sink that
fails keeps its cursor: its records wait in the outbox, which is trimmed only up to the slowest
sink, and flow when it returns.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import orjson

from pinfold.context import Context
from pinfold.db.database import Lease
from pinfold.email.events import destined, ses_event
from pinfold.email.store import configuration_sets
from pinfold.events import store
from pinfold.events.destinations import Destination, destination
from pinfold.events.sinks.lake import Lake
from pinfold.events.sinks.nats import Publisher, stream_name
from pinfold.events.sinks.webhook import post_webhook

log = logging.getLogger("pinfold.pump")

LAKE = "lake"
STREAM_BATCH = 1000  # records per pass to a stream sink: streams favour latency over file size
RETRY_SECONDS = 2.0  # a failing sink is tried again after this long


def ses_sink_name(destination: dict) -> str:
    """The cursor name of one configuration-set event destination."""
    return ":".join(("ses", destination["account_id"], destination["region"], destination["configuration_set"],
                     destination["name"]))


@dataclass
class Outcome:
    delivered: int = 0
    failed: int = 0


class Pump:
    """One pass at a time over every sink; `start()` runs passes on a thread until `stop()`."""

    def __init__(self, ctx: Context, *, interval: float = 0.5) -> None:
        self.ctx = ctx
        self.interval = interval
        settings = ctx.settings
        from pinfold.audience.storage import s3_settings

        self._s3 = s3_settings(ctx)
        self.lake = Lake(settings.resolved_lake_url, self._s3)
        self._firehoses: dict[str, Lake] = {}
        self._publisher: Publisher | None = None
        self._retry_at: dict[str, float] = {}
        self._trimmed_through = 0
        self._given_up: set[str] = set()
        self._lease: Lease | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- running -----------------------------------------------------------------------------

    def start(self) -> Pump:
        self._thread = threading.Thread(target=self._loop, name="pinfold-pump", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            delivered = 0
            try:
                if self._leading():
                    delivered = self.run_once().delivered
            except Exception:  # a broken pass must not stop the pump; records stay in the outbox
                log.exception("event pump pass failed")
            if not delivered:  # caught up (or failing, or another server pumps): wait; otherwise go on
                self._stop.wait(self.interval)
        if self._lease is not None:
            self._lease.release()

    def _leading(self) -> bool:
        """Whether this process is the one that pumps: servers sharing a database take turns by lease.

        Two pumps would still be correct (a batch rewrites the same files; NATS drops repeated ids),
        but they would do every piece of work twice."""
        if self._lease is not None and not self._lease.alive():
            log.warning("event pump lost its lease; another server may take over")
            self._lease = None
        if self._lease is None:
            self._lease = self.ctx.db.lease("event-pump")
            if self._lease is not None:
                log.info("this server now runs the event pump")
        return self._lease is not None

    def run_once(self, *, flush: bool = False) -> Outcome:
        """One pass over every sink; `flush` writes the lake now instead of waiting to roll a file."""
        outcome = Outcome()
        with self.ctx.db.read() as conn:
            routes = store.destinations(conn)  # project → destination ARN
            publishing = {ses_sink_name(d): d for d in configuration_sets.publishing(conn)}
            known = {sink["name"] for sink in store.sinks(conn)}
        active = {LAKE, *routes.values(), *publishing}
        if known != active:  # an idle pump writes nothing: only a changed set of streams needs a transaction
            with self.ctx.db.write() as conn:
                store.ensure_sink(conn, LAKE, 0)
                store.drop_sinks(conn, sorted(known - active))
                for arn in active - {LAKE}:
                    store.ensure_sink(conn, arn, store.last_seq(conn))
        for name in sorted(active):
            if time.monotonic() < self._retry_at.get(name, 0):
                outcome.failed += 1
                continue
            try:
                outcome.delivered += self._pass(name, routes, publishing, flush)
                self._retry_at.pop(name, None)
            except Exception as error:  # the sink is down or refusing: keep the records, retry later
                outcome.failed += 1
                self._retry_at[name] = time.monotonic() + RETRY_SECONDS
                self._record_failure(name, error)
        self._trim()
        return outcome

    # --- one sink ------------------------------------------------------------------------------

    def _pass(self, name: str, routes: dict[str, str], publishing: dict[str, dict], flush: bool) -> int:
        with self.ctx.db.read() as conn:
            cursor = store.sink(conn, name)
            if cursor["inflight_first"] is not None:
                rows = store.outbox_range(conn, cursor["inflight_first"], cursor["inflight_last"])
                first, last = cursor["inflight_first"], cursor["inflight_last"]
            else:
                limit = self.ctx.settings.lake_roll_rows if name == LAKE else STREAM_BATCH
                rows = store.outbox_after(conn, cursor["delivered_seq"], limit)
                if not rows or (name == LAKE and not flush and not self._ready(rows, limit)):
                    return 0
                first, last = rows[0]["seq"], rows[-1]["seq"]
                with self.ctx.db.write() as marking:
                    store.update_sink(marking, name, inflight_first=first, inflight_last=last)
        if name == LAKE:
            wanted = rows
        elif name in publishing:
            target = publishing[name]
            types = set(target["matching_event_types"])
            wanted = [row for row in rows if destined(row["record"], target["account_id"], target["region"],
                                                      target["configuration_set"], types)]
        else:
            wanted = [row for row in rows if routes.get(row["project_id"]) == name]
        batch = f"part-{first:015d}-{last:015d}"
        if wanted and name in publishing:
            self._publish_ses(publishing[name], wanted, batch)
        elif wanted:
            self._deliver(name, wanted, batch)
        with self.ctx.db.write() as conn:
            store.update_sink(conn, name, delivered_seq=last, inflight_first=None, inflight_last=None,
                              failing_since=None, last_error=None)
        return len(wanted)

    def _ready(self, rows: list[dict], limit: int) -> bool:
        """Roll a lake file when it would be full, or when its oldest record has waited long enough."""
        waited = time.time() - rows[0]["arrival_ms"] / 1000
        return len(rows) >= limit or waited >= self.ctx.settings.lake_roll_seconds

    def _deliver(self, name: str, rows: list[dict], batch: str) -> None:
        records = [row["record"] for row in rows]
        if name == LAKE:
            self.lake.write(records, batch)
            return
        target = destination(name)
        if target.service == "firehose":
            self._firehose(target).write(records, batch)
            return
        stream = stream_name(target.name)
        messages = [(f"{stream}.{record['pinfold']['account_id']}.{row['project_id']}", row["event_id"],
                     orjson.dumps(record)) for row, record in zip(rows, records, strict=True)]
        self._nats().publish(stream, messages)

    def _publish_ses(self, target: dict, rows: list[dict], batch: str) -> None:
        """Deliver SES-shaped events to a configuration set's destination (see email/events.py)."""
        events = [ses_event(row["record"]) for row in rows]
        if target["sink"] == "lake":
            self._firehose_at(target["target"]).write_json(events, batch, target["account_id"])
        elif target["sink"] == "nats":
            stream = target["target"]
            subject = f"{stream}.{target['account_id']}.{stream_name(target['configuration_set'])}"
            self._nats().publish(stream, [(subject, row["event_id"], orjson.dumps(event))
                                          for row, event in zip(rows, events, strict=True)])
        else:
            post_webhook(self.ctx, target["target"], events)

    def _firehose_at(self, location: str) -> Lake:
        if location not in self._firehoses:
            self._firehoses[location] = Lake(location, self._s3)
        return self._firehoses[location]

    def _firehose(self, target: Destination) -> Lake:
        return self._firehose_at(self.ctx.settings.firehose_location(target.name))

    def _nats(self) -> Publisher:
        if self._publisher is None:
            self._publisher = Publisher(self.ctx.settings.nats_url)
        return self._publisher

    def _record_failure(self, name: str, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}"[:500]
        log.warning("event sink %s failed, records wait in the outbox: %s", name, message)
        with self.ctx.db.write() as conn:
            cursor = store.sink(conn, name)
            store.update_sink(conn, name, failing_since=cursor["failing_since"] or time.time(), last_error=message)

    def _trim(self) -> None:
        """Drop outbox records every sink holds (only when the slowest sink has moved on). A sink
        that has failed for longer than PINFOLD_SINK_GIVE_UP_SECONDS no longer holds the outbox back:
        one tenant's dead destination must not fill the database for everyone. It misses what is
        trimmed meanwhile, which is logged."""
        with self.ctx.db.read() as conn:
            cursors = store.sinks(conn)
        give_up = time.time() - self.ctx.settings.sink_give_up_seconds
        waited_for = [cursor for cursor in cursors if not cursor["failing_since"] or cursor["failing_since"] > give_up]
        for cursor in cursors:
            if cursor not in waited_for and cursor["name"] not in self._given_up:
                self._given_up.add(cursor["name"])
                since = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(cursor["failing_since"]))
                log.error("event sink %s has failed since %s; the outbox no longer waits for it, and it will "
                          "miss records", cursor["name"], since)
        through = min((cursor["delivered_seq"] for cursor in waited_for), default=0)
        if through > self._trimmed_through:
            with self.ctx.db.write() as conn:
                store.trim_outbox(conn, through)
            self._trimmed_through = through
