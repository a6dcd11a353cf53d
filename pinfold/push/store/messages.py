"""Outgoing pushes: the `push_messages` queue, one row per push recipient of a Pinpoint send, with its
state.

A push is `queued` until a worker claims it, `sending` while a worker holds its lease, then finished:
`delivered` (the provider took it), `failed` (refused for good: a dead token, a bad payload, no way
to send), or `expired` (not taken before its retries ran out). `due_at` is when a queued push may next
be tried, or when a sending one's lease runs out. `message` holds what the send resolved (platform,
token, payload, headers, endpoint, expiry, the campaign's attributes).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import execute_many
from pinfold.db.tables import push_messages as table
from pinfold.sending import queue

_FINISH_COLUMNS = ("status", "due_at", "attempts", "sent_at", "detail", "remote_id")
_CLAIMED = [table.c.id, table.c.account_id, table.c.region, table.c.project_id, table.c.tenant_id, table.c.message,
            table.c.attempts, table.c.sent_at, table.c.created_at, table.c.due_at]


def add_many(conn: Connection, rows: list[dict]) -> None:
    """Queue pushes in one statement, each due at its `due_at`; a campaign activity's go in its lane."""
    conn.execute(table.insert(), [{"status": "queued", "attempts": 0, "activity_id": None, **row,
                                   "lane": queue.lane_of(row.get("activity_id"))} for row in rows])


def any_due(conn: Connection, *, lanes: tuple[int, ...], now: float) -> bool:
    return queue.any_due(conn, table, lanes, now=now)


def claim(conn: Connection, *, lane: int, now: float, until: float, limit: int) -> list[dict]:
    return queue.claim(conn, table, _CLAIMED, lane=lane, now=now, until=until, limit=limit)


def renew(conn: Connection, ids: list[str], *, held_until: float, until: float) -> int:
    return queue.renew(conn, table, ids, held_until=held_until, until=until)


def still_held(conn: Connection, ids: list[str], *, held_until: float) -> set[str]:
    return queue.still_held(conn, table, ids, held_until=held_until)


def finish_held(conn: Connection, results: list[dict], *, held_until: float) -> int:
    """Record the outcomes of those pushes still held under the lease that runs out at `held_until`."""
    rows = [(r["status"], r["due_at"], r["attempts"], r["sent_at"], r["detail"], r.get("remote_id"), r["id"],
             "sending", held_until) for r in results]
    return execute_many(conn, table, "update", _FINISH_COLUMNS, rows, ("id", "status", "due_at"))


def due_now(conn: Connection, lane: int, now: float, *, up_to: int) -> int:
    return queue.due_now(conn, table, lane, now, up_to=up_to)


def activity_progress(conn: Connection, activity_ids: list[str]) -> dict[str, int]:
    return queue.activity_progress(conn, table, activity_ids)


def get(conn: Connection, message_id: str) -> dict | None:
    found = conn.execute(sa.select(table).where(table.c.id == message_id)).mappings().first()
    return dict(found) if found else None


def queue_depths(conn: Connection, now: float) -> dict[int, tuple[int, float]]:
    """Per lane: (pushes waiting or being sent, seconds the most overdue has waited past its due time)."""
    return queue.depths(conn, table, now)
