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
from pinfold.sending.outcomes import retry_at

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
    row = item.row
    result = {"id": row["id"], "account": row["account_id"], "attempts": row["attempts"] + 1,
              "sent_at": row["sent_at"], "due_at": now, "remote_id": None}
    if item.held is not None:
        status, detail = item.held
        return {**result, "attempts": row["attempts"], "status": status, "detail": detail}
    outcome = item.outcome
    result.update(remote_id=outcome.remote_id, detail=outcome.detail)
    if outcome.status == "delivered":
        return {**result, "status": "delivered", "sent_at": now}
    if outcome.status in ("permanent", "skipped"):
        return {**result, "status": "failed"}
    expires_at = row["message"]["expires_at"]
    due = retry_at(now=now, created_at=row["created_at"], attempts=row["attempts"],
                   budget=expires_at - row["created_at"], first_wait=FIRST_RETRY_SECONDS)
    if due is None or due > expires_at:
        return {**result, "status": "expired", "detail": f"not taken before it expired ({outcome.detail})"}
    return {**result, "status": "queued", "due_at": due}
