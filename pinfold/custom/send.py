"""Queueing custom-channel calls: what a campaign's custom planner (messaging/custom_planner.py) hands
the channel."""

from __future__ import annotations

from pinfold.core import ids
from pinfold.custom.store import calls as store


def queue_calls(conn, account_id: str, region: str, project_id: str, calls: list[dict], *, now: float) -> list[str]:
    """Queue one webhook call each (url, payload, endpoint_ids, signer, expires_at, tenant_id, due_at,
    activity_id); returns their ids in order."""
    rows = []
    for call in calls:
        message = {key: call[key] for key in ("url", "payload", "endpoint_ids", "signer", "expires_at")
                   if call.get(key) is not None}
        rows.append({"id": ids.new_message_id(), "account_id": account_id, "region": region, "project_id": project_id,
                     "tenant_id": call.get("tenant_id"), "message": message, "created_at": now,
                     "due_at": call.get("due_at") or now, "activity_id": call.get("activity_id")})
    store.add_many(conn, rows)
    return [row["id"] for row in rows]
