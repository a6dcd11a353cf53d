"""The campaign scheduler: starts due runs and advances open activities, once per database (by lease).

Each pass first starts the runs that are due (runs.start_run), plans the triggers event-based
campaigns have waiting (event_runs.py), then claims a few open activities under a lease and plans
one slice of each (runs.advance). An activity lets go of its claim after every slice, stamped with
the moment, and claims take the least recently advanced first: two tenants' campaigns progress at
the same pace, whatever their sizes. A slice that fails keeps its claim and is tried again once the
claim runs out; the others claimed with it go on. A slice waits while the channel's sending queue
holds `queue_bound` messages, so a large campaign never floods the queue that transactional sends
share. A slice the account's send rate refuses is rolled back and tried again after
RATE_RETRY_SECONDS. A scheduler killed mid-slice leaves its claims behind; the next one to hold the
lease frees them (take_over) and goes on from each activity's cursor, rather than waiting
`lease_seconds` for them to run out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pinfold.campaigns import event_runs, hook, runs
from pinfold.campaigns.store import activities as activity_store
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.context import Context
from pinfold.core.service import LeasedService

log = logging.getLogger("pinfold.campaigns")

SLICE = 1000  # endpoints read per slice
SQLITE_SLICE = 250  # SQLite's one writer waits for a slice's transaction: a short one keeps other sends' waits short
QUEUE_BOUND = 10_000  # campaign-lane messages due now (per channel) above which slices wait
CLAIM = 8  # activities advanced per pass
LEASE_SECONDS = 60.0  # a claim's life: a new leader frees a dead one's at once; it spaces a failed slice's retry
RATE_RETRY_SECONDS = 1.0
DUE_PER_PASS = 50


class CampaignScheduler(LeasedService):
    name = "campaigns"
    lease_name, role = "campaigns", "campaign scheduler"
    idle_seconds = 0.5

    def __init__(self, ctx: Context, *, clock: Callable[[], float] = time.time, slice_size: int | None = None,
                 queue_bound: int = QUEUE_BOUND, claim: int = CLAIM, lease_seconds: float = LEASE_SECONDS,
                 poster: hook.Poster = hook.post_json) -> None:
        super().__init__()
        self.ctx, self.clock = ctx, clock
        self.slice_size = slice_size or (SQLITE_SLICE if ctx.db.is_sqlite else SLICE)
        self.queue_bound, self.claim = queue_bound, claim
        self.lease_seconds, self.poster = lease_seconds, poster

    def took_lease(self) -> None:
        self.take_over(self.clock())

    def take_over(self, now: float) -> None:
        """Free the activities the previous scheduler had claimed: holding the lease, this one is the only
        scheduler, so whoever claimed them is dead or has lost its lease. A slice it is still planning
        cannot commit twice (runs._plan checks the cursor under a row lock)."""
        with self.ctx.db.write() as conn:
            released = activity_store.release_claims(conn, now=now, until=now + self.lease_seconds)
        if released:
            log.warning("took over %d campaign activit%s the previous scheduler held", released,
                        "y" if released == 1 else "ies")

    def run_once(self, now: float | None = None) -> int:
        """One pass at `now` (the clock's time by default): runs started plus endpoints handled."""
        now = self.clock() if now is None else now
        return self.start_due(now) + event_runs.fire_waiting(self.ctx, now, poster=self.poster) + self.advance(now)

    def start_due(self, now: float) -> int:
        with self.ctx.db.read() as conn:
            due = campaign_store.due(conn, now, DUE_PER_PASS)
        return sum(runs.start_run(self.ctx, campaign["id"], now) for campaign in due)

    def advance(self, now: float) -> int:
        with self.ctx.db.write() as conn:
            claimed = activity_store.claim(conn, now=now, until=now + self.lease_seconds, limit=self.claim)
        handled = 0
        for activity in claimed:
            try:
                done = runs.advance(self.ctx, activity["id"], now, size=self.slice_size,
                                    queue_bound=self.queue_bound, poster=self.poster)
            except runs.RateLimited:
                runs.hold(self.ctx, activity["id"], now + RATE_RETRY_SECONDS)
                continue
            except Exception:  # the others claimed with it go on; it keeps its claim, so it waits the lease out
                log.exception("campaign activity %s: planning a slice failed; it is tried again in %.0f s",
                              activity["id"], self.lease_seconds)
                continue
            if not done:  # nothing planned (the queue is full): let go, to be claimed again next pass
                runs.hold(self.ctx, activity["id"], now)
            handled += done
        return handled
