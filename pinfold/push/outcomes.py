"""What a push sending pass decided: message states and retired tokens, for the pipeline to write in
the group's transaction (sending/outcomes.py).

A push the provider took is `delivered`; one it refused for good is `failed`, and when the provider
declared the token dead (adapters/base.dead_token) its endpoint becomes INACTIVE in the same
transaction; one it could not take for now is tried again with doubling waits until the push's expiry
(then `expired`). A push held back at the gate is `expired` (past its expiry) or `failed` (its
channel is gone, off, or cannot be delivered to here).

Direct pushes write no event records: Pinpoint streamed none for them (its push events are the
campaign and journey sends and what the device SDKs report back).
"""

from __future__ import annotations

from pinfold.audience import endpoints
from pinfold.push.adapters.base import dead_token
from pinfold.sending.outcomes import answered, started

FIRST_RETRY_SECONDS = 10.0


def decide(conn, group: list, *, now: float) -> tuple[list[dict], list[dict]]:
    """Each push's result (for store.finish_held), no event records, and the dead tokens retired."""
    results, retired = [], {}
    for item in group:
        result = _decide(item, now)
        results.append(result)
        message = item.row["message"]
        if item.outcome is not None and dead_token(item.outcome) and message.get("endpoint_id"):
            retired.setdefault(item.row["project_id"], {})[message["endpoint_id"]] = message["token"]
    for project_id, tokens in retired.items():
        endpoints.retire_tokens(conn, project_id, tokens)
    return results, []


def _decide(item, now: float) -> dict:
    if item.held is not None:
        status, detail = item.held
        return {**started(item.row, now=now), "attempts": item.row["attempts"], "status": status, "detail": detail}
    return answered(item.row, item.outcome, now=now, first_wait=FIRST_RETRY_SECONDS)
