"""What a sending pass decided, written down: one group's message states and event records, in the
transaction the pipeline opened for it, only while the pass still holds the group's messages.

The channel decides (email/outcomes.py for email); this module writes, and says when to try again.
"""

from __future__ import annotations

from pinfold.events import outbox

MAX_RETRY_WAIT = 3600.0


class LeaseLost(Exception):
    """Some of a group's messages are no longer held; the transaction must be rolled back."""


def record(channel, conn, group: list, *, now: float, lease_expires: float) -> None:
    """Write each message's outcome, its events and what else the channel decided (suppression,
    deactivation), all held under the lease that expires at `lease_expires`; raises LeaseLost (roll
    back) if any is not."""
    results, events = channel.decide(conn, group, now=now)
    if channel.finish(conn, results, held_until=lease_expires) != len(results):
        raise LeaseLost()
    outbox.append(conn, events)


def retry_at(*, now: float, created_at: float, attempts: int, budget: float, first_wait: float) -> float | None:
    """When a message that failed for now is tried again: after `first_wait` seconds doubling with each
    attempt made (at most an hour), or None once it has been on its way `budget` seconds."""
    if now - created_at >= budget:
        return None
    return now + min(first_wait * 2 ** attempts, MAX_RETRY_WAIT)
