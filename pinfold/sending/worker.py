"""The sending pass every channel shares: claim due messages under a lease, gate, compose, deliver,
and record outcomes and events as the adapters acknowledge them.

Each pass claims a chunk of due messages under a short lease that a heartbeat renews while the pass
runs (sending/lease.py): a worker that dies leaves them to be claimed again once the lease runs out
(PINFOLD_SENDING_LEASE_SECONDS), a live one keeps them. The adapter only reports what happened and
the channel decides what it means (sending/channel.py). Outcomes are written as the adapter
acknowledges them, GROUP_SIZE at a time: each group's states, what the channel's decisions cause
(suppression, deactivation) and their event records in one transaction.

A message the adapter accepted is marked so only when its group commits. A worker killed between
the two sends that group again once its lease expires: delivery is at least once at the adapter
boundary, as with every mail transfer agent, and a crash repeats at most one group plus one message
per adapter connection (per sending thread).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from pinfold.context import Context
from pinfold.core.service import Service
from pinfold.db.database import commit_without_flush
from pinfold.sending import outcomes
from pinfold.sending.channel import Channel
from pinfold.sending.lease import Lease, Recorder

log = logging.getLogger("pinfold.sending")

# A claimed chunk is ours for settings.sending_lease_seconds without a heartbeat (one beats every
# quarter of it). Outcomes are recorded only while the lease still holds (see outcomes.record), so a
# pass that lost it cannot overwrite what another worker decided since.
MAX_PASS_SECONDS = 900.0  # a wedged pass stops renewing after this, and its messages are taken over
# Outcomes are committed this many at a time, or when one finds the oldest waiting GROUP_SECONDS (a slow relay).
GROUP_SIZE = 50
GROUP_SECONDS = 0.5


@dataclass
class Pass:
    """One pass's claimed messages, those built for delivery, the lease they are held under and the
    recorder of their outcomes."""

    claimed: list
    ready: list
    lease: Lease
    recorder: Recorder

    def __len__(self) -> int:
        return len(self.claimed)


class SendWorker(Service):
    """Sends one channel's queue: `start(threads)` runs passes until `stop()`; `run_once()` is one pass
    (tests call it directly). One thread is fastest on a small machine; more overlap slow relays.

    One pass at a time per thread: overlapping the relay's wait with composing the next chunk was
    measured slower (2,674 against 3,000 messages/s on 2 cores): the threads only traded the GIL."""

    name = "sending"  # its threads are pinfold-sending-N; a failed pass logs "sending pass failed"
    idle_seconds = 0.2

    def __init__(self, ctx: Context, channel: Channel) -> None:
        super().__init__()
        self.ctx = ctx
        self.channel = channel

    def stopped(self) -> None:
        self.channel.close()

    def run_once(self, *, now: float | None = None) -> int:
        """Claim, gate, compose, deliver and record one chunk; returns how many messages it handled.
        `now` (tests) stands for the clock at the start and the end of the pass."""
        work = self._prepare(now)
        if work is None:
            return 0
        try:
            self._send(work)
        finally:
            self._finish(work)
        return len(work)

    def _prepare(self, now: float | None = None) -> Pass | None:
        """Claim due messages under a beating lease, gate them and compose those that may go."""
        start = time.time() if now is None else now
        seconds = self.ctx.settings.sending_lease_seconds
        expires = start + seconds
        with self.ctx.db.read() as conn:  # an idle poll, the most common, takes no write transaction
            if not self.channel.due(conn, now=start):
                return None
        with self.ctx.db.write() as conn:
            claimed = self.channel.claim(conn, now=start, until=expires)
        if not claimed:
            return None
        taken_over = sum(1 for item in claimed if item.taken_over)
        if taken_over:
            log.warning("took over %d %s message(s) whose worker's lease ran out (it stopped or stalled); "
                        "they go out now", taken_over, self.channel.name)
        log.debug("claimed %d %s message(s)", len(claimed), self.channel.name)
        lease = Lease(self.ctx.db, self.channel, [item.id for item in claimed], expires, seconds=seconds,
                      renew_for=MAX_PASS_SECONDS).beat()
        recorder = Recorder(lease, lambda group, held_until: self._record(group, held_until, now),
                            size=GROUP_SIZE, seconds=GROUP_SECONDS)
        try:
            with self.ctx.db.read() as conn:
                passed = self.channel.gate(conn, claimed)
            return Pass(claimed, self.channel.compose(passed), lease, recorder)
        except BaseException:
            lease.end()
            raise

    def _send(self, work: Pass) -> None:
        """Deliver; every outcome goes to the recorder as it is known (those decided already first)."""
        ready = {item.id for item in work.ready}
        for item in work.claimed:
            if item.id not in ready:  # held back at the gate, or it could not be built
                work.recorder.add(item)
        for route, items in self.channel.routes(work.ready).items():
            if not work.recorder.accepting():
                return  # the rest stay claimed, unsent, for whoever takes them over
            self.channel.deliver(route, items, work.recorder.add)

    def _finish(self, work: Pass) -> None:
        """Record the last group, let the lease go, then the reports the pass caused."""
        try:
            work.recorder.close()
        finally:
            work.lease.end()
        if work.recorder.failed is not None:  # those messages come back when the lease runs out
            raise work.recorder.failed
        self.channel.after_pass()

    def _record(self, group: list, lease_expires: float, now: float | None) -> None:
        """One group in one transaction; messages whose lease was lost are left to the worker that
        took them over (the check is in the write itself, so it costs nothing when all are held)."""
        while group:
            try:
                with self.ctx.db.write() as conn:
                    # Waiting for a WAL flush on each of a claim's twenty group commits cost PostgreSQL
                    # bulk sending a tenth (1,749 msg/s with the wait, 1,914 without). A group lost in a
                    # database crash is only redone: its messages are still `sending` and go out again.
                    commit_without_flush(conn)
                    outcomes.record(self.channel, conn, group, now=time.time() if now is None else now,
                                    lease_expires=lease_expires)
                return
            except outcomes.LeaseLost:
                with self.ctx.db.read() as conn:
                    held = self.channel.still_held(conn, [item.id for item in group], held_until=lease_expires)
                lost = [item.id for item in group if item.id not in held]
                if not lost:
                    raise RuntimeError("the database counted fewer outcomes written than messages held") from None
                log.warning("the lease on %d message(s) ran out during delivery; another worker records them "
                            "(they may have been sent twice), e.g. %s", len(lost), lost[0])
                group = [item for item in group if item.id in held]
