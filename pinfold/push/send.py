"""Queueing pushes: what a Pinpoint send (messaging/push_planner.py) hands the push channel."""

from __future__ import annotations

from pinfold.core import ids
from pinfold.push.store import messages as store


def queue_pushes(conn, account_id: str, region: str, project_id: str, pushes: list[dict], *, now: float) -> list[str]:
    """Queue one push each (platform, token, payload, headers, endpoint_id, tenant_id, due_at,
    expires_at, attributes, activity_id, and auth: the message's PreferredAuthenticationMethod);
    returns their message ids in order."""
    rows = []
    for push in pushes:
        message = {key: push[key] for key in ("platform", "token", "payload", "headers", "endpoint_id",
                                              "expires_at", "attributes", "request_id", "auth")
                   if push.get(key) is not None}
        rows.append({"id": ids.new_message_id(), "account_id": account_id, "region": region, "project_id": project_id,
                     "tenant_id": push.get("tenant_id"), "message": message, "created_at": now,
                     "due_at": push.get("due_at") or now, "activity_id": push.get("activity_id")})
    store.add_many(conn, rows)
    return [row["id"] for row in rows]
