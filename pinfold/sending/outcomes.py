"""What a sending pass decided, written down: one group's message states and event records, in the
transaction the pipeline opened for it, only while the pass still holds the group's messages.

The channel decides (email/outcomes.py for email); this module writes, and says when to try again.
"""

from __future__ import annotations

from collections import Counter

from pinfold.core import metrics
from pinfold.db.database import after_commit
from pinfold.events import outbox

MAX_RETRY_WAIT = 3600.0
# A result's status as the messages metric names it (the others keep their own: delivered, bounced,
# suppressed, rejected, failed).
FINISHED = {"queued": "deferred", "soft_bounced": "bounced"}


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
    counted = Counter((result["account"], FINISHED.get(result["status"], result["status"])) for result in results)
    after_commit(conn, lambda: [metrics.count_messages(channel.name, account, outcome, count)
                                for (account, outcome), count in counted.items()])


def retry_at(*, now: float, created_at: float, attempts: int, budget: float, first_wait: float) -> float | None:
    """When a message that failed for now is tried again: after `first_wait` seconds doubling with each
    attempt made (at most an hour), or None once it has been on its way `budget` seconds."""
    if now - created_at >= budget:
        return None
    return now + min(first_wait * 2 ** attempts, MAX_RETRY_WAIT)


def started(row: dict, *, now: float) -> dict:
    """A TableQueue message's result before its outcome is known: one more attempt, due now."""
    return {"id": row["id"], "account": row["account_id"], "attempts": row["attempts"] + 1,
            "sent_at": row["sent_at"], "due_at": now, "remote_id": None}


def answered(row: dict, outcome, *, now: float, first_wait: float) -> dict:
    """The result of a message a remote answered (a push provider, a webhook): `delivered`, `failed`
    for good, or `queued` again with doubling waits from `first_wait` until the message's
    `expires_at`, then `expired`."""
    result = {**started(row, now=now), "remote_id": outcome.remote_id, "detail": outcome.detail}
    if outcome.status == "delivered":
        return {**result, "status": "delivered", "sent_at": now}
    if outcome.status in ("permanent", "skipped"):
        return {**result, "status": "failed"}
    expires_at = row["message"]["expires_at"]
    due = retry_at(now=now, created_at=row["created_at"], attempts=row["attempts"],
                   budget=expires_at - row["created_at"], first_wait=first_wait)
    if due is None or due > expires_at:
        return {**result, "status": "expired", "detail": f"not taken before it expired ({outcome.detail})"}
    return {**result, "status": "queued", "due_at": due}
