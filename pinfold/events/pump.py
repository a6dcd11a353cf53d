"""The pump: moves outbox records to their sinks, at least once, without duplicates, and in order.

The pump knows no kind of sink: the composition root hands it sink sources (events/sinks/base.py),
asked on every pass which sinks are active: the lake (every record), each destination named by a
project's event stream (that project's records; sinks/streams.py), and each enabled SES
configuration-set event destination (email/event_destinations.py). Each sink has a cursor (the last
outbox seq it holds): a new sink's cursor starts after the outbox's last record, the lake's at its
first. A pass over a sink:

1. takes the next records after its cursor, up to its batch size, once the sink is ready for them
   (the lake waits until a file would be full or its oldest record has waited long enough);
2. records that range as in flight, and commits (a range the sink wants none of skips this);
3. delivers the records of the range the sink wants, named after the range: lake files are named
   after it, so writing it again replaces them; NATS messages carry their event id, so JetStream
   drops a second copy;
4. moves the cursor past the range and clears the in-flight mark.

A pump that dies between 2 and 4 redoes exactly the in-flight range on its next pass. A sink that
fails keeps its cursor and is tried again after RETRY_SECONDS: its records wait in the outbox, which
is trimmed only up to the slowest sink, and flow when it returns. A sink that has failed for longer
than PINFOLD_SINK_GIVE_UP_SECONDS no longer holds the outbox back (see `_trim`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from pinfold.context import Context
from pinfold.core.service import LeasedService
from pinfold.events import store
from pinfold.events.sinks.base import Sink, SinkSource

log = logging.getLogger("pinfold.pump")

RETRY_SECONDS = 2.0  # a failing sink is tried again after this long
# A sink this many records behind the outbox is logged as falling behind (once, until it is back
# under half of it): it is slower than the records come in, or it is failing.
BEHIND_RECORDS = 50_000
TRIM_STEP = 1_000  # outbox records deleted per transaction


@dataclass
class Outcome:
    """What one pass did: records delivered, records any cursor moved past (a sink passes over those it
    does not want), sinks that failed. True when a cursor moved: the loop then goes on at once, so a
    sink that wants few of the records keeps pace with the outbox instead of taking a batch per idle wait."""

    delivered: int = 0
    moved: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return self.moved > 0


class Pump(LeasedService):
    """One pass at a time over every sink its sources name; runs where this process holds the lease.
    Two pumps would still be correct (a batch rewrites the same files; NATS drops repeated ids), but
    they would do every piece of work twice."""

    name = "pump"
    lease_name, role = "event-pump", "event pump"

    def __init__(self, ctx: Context, *, sources: Sequence[SinkSource]) -> None:
        super().__init__()
        self.ctx = ctx
        self.sources = list(sources)
        self._retry_at: dict[str, float] = {}
        self._trimmed_through = 0
        self._given_up: set[str] = set()
        self._behind: set[str] = set()

    def stopped(self) -> None:
        super().stopped()
        for source in self.sources:
            source.close()

    def run_once(self, *, flush: bool = False) -> Outcome:
        """One pass over every sink; `flush` delivers what waits now instead of waiting for the sink
        to be ready (the lake: to roll a file)."""
        outcome = Outcome()
        with self.ctx.db.read() as conn:
            active = {sink.name: sink for source in self.sources for sink in source.sinks(conn)}
            known = {cursor["name"] for cursor in store.sinks(conn)}
        if known != set(active):  # an idle pump writes nothing: only a changed set of sinks needs a transaction
            with self.ctx.db.write() as conn:
                store.drop_sinks(conn, sorted(known - set(active)))
                for sink in active.values():
                    store.ensure_sink(conn, sink.name, 0 if sink.from_start else store.last_seq(conn))
        for name, sink in sorted(active.items()):
            if time.monotonic() < self._retry_at.get(name, 0):
                outcome.failed += 1
                continue
            try:
                delivered, moved = self._pass(sink, flush)
                outcome.delivered += delivered
                outcome.moved += moved
                self._retry_at.pop(name, None)
            except Exception as error:  # the sink is down or refusing: keep the records, retry later
                outcome.failed += 1
                self._retry_at[name] = time.monotonic() + RETRY_SECONDS
                self._record_failure(name, error)
        self._trim()
        return outcome

    def _pass(self, sink: Sink, flush: bool) -> tuple[int, int]:
        """Steps 1 to 4 of the module docstring for one sink; returns how many records it received and
        how many its cursor moved past. A range the sink wants none of is not marked in flight (there is
        nothing to redo): its cursor just moves on, in one write instead of two."""
        self.ctx.db.give_way()
        with self.ctx.db.read() as conn:
            cursor = store.sink(conn, sink.name)
            if cursor["inflight_first"] is not None:
                first, last = cursor["inflight_first"], cursor["inflight_last"]
                rows = store.outbox_range(conn, first, last)
                wanted = [row for row in rows if sink.wants(row)]
            else:
                # Whether to deliver is asked of the records' seq and arrival alone: a sink that waits
                # for a full batch (the lake) would otherwise decode every waiting record each pass.
                waiting = store.waiting(conn, cursor["delivered_seq"], sink.batch)
                if waiting is None or not (flush or sink.ready(waiting)):
                    return 0, 0
                first, last = waiting.first, waiting.last
                rows = store.outbox_range(conn, first, last)
                wanted = [row for row in rows if sink.wants(row)]
                if wanted:
                    with self.ctx.db.write() as marking:
                        store.update_sink(marking, sink.name, inflight_first=first, inflight_last=last)
        if wanted:
            self.ctx.db.give_way()
            sink.deliver(wanted, f"part-{first:015d}-{last:015d}")
        with self.ctx.db.write() as conn:
            store.update_sink(conn, sink.name, delivered_seq=last, inflight_first=None, inflight_last=None,
                              failing_since=None, last_error=None)
        return len(wanted), len(rows)

    def _record_failure(self, name: str, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}"[:500]
        log.warning("event sink %s failed, records wait in the outbox: %s", name, message)
        with self.ctx.db.write() as conn:
            cursor = store.sink(conn, name)
            store.update_sink(conn, name, failing_since=cursor["failing_since"] or time.time(), last_error=message)

    def _watch_lag(self, cursors: list[dict], newest: int) -> None:
        for cursor in cursors:
            name, lag = cursor["name"], newest - cursor["delivered_seq"]
            if lag >= BEHIND_RECORDS and name not in self._behind:
                self._behind.add(name)
                log.warning("event sink %s is %d records behind the outbox%s", name, lag,
                            "; it is failing" if cursor["failing_since"] else "; it takes them slower than they come")
            elif lag < BEHIND_RECORDS // 2 and name in self._behind:
                self._behind.discard(name)
                log.info("event sink %s has caught up (%d records behind)", name, lag)

    def _trim(self) -> None:
        """Drop outbox records every sink holds (only when the slowest sink has moved on). A sink
        that has failed for longer than PINFOLD_SINK_GIVE_UP_SECONDS no longer holds the outbox back:
        one tenant's dead destination must not fill the database for everyone. It misses what is
        trimmed meanwhile, which is logged."""
        with self.ctx.db.read() as conn:
            cursors = store.sinks(conn)
            newest = store.last_seq(conn)
        self._watch_lag(cursors, newest)
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
            # In steps, each its own transaction: one long delete would keep SQLite's one writer from
            # everyone else's sends for its whole length.
            while True:
                with self.ctx.db.write() as conn:
                    if store.trim_outbox(conn, through, TRIM_STEP) < TRIM_STEP:
                        break
            self._trimmed_through = through
