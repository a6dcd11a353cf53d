"""Outgoing custom-channel calls: the `custom_calls` queue, one row per webhook call (up to 50
endpoints), with its state, and the call-rate limiters.

A call is `queued` until a worker claims it, `sending` while a worker holds its lease, then finished:
`delivered` (the receiver answered 2xx), `failed` (refused for good), or `expired` (not taken before
its retries ran out). `message` holds the URL, the payload, the endpoint ids and the expiry.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import execute_many
from pinfold.db.tables import custom_call_rates as rates
from pinfold.db.tables import custom_calls as table
from pinfold.sending import queue

_FINISH_COLUMNS = ("status", "due_at", "attempts", "sent_at", "detail", "remote_id")
_CLAIMED = [table.c.id, table.c.account_id, table.c.region, table.c.project_id, table.c.tenant_id, table.c.message,
            table.c.attempts, table.c.sent_at, table.c.created_at, table.c.due_at]


def add_many(conn: Connection, rows: list[dict]) -> None:
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
    """Record the outcomes of those calls still held under the lease that runs out at `held_until`."""
    rows = [(r["status"], r["due_at"], r["attempts"], r["sent_at"], r["detail"], r.get("remote_id"), r["id"],
             "sending", held_until) for r in results]
    return execute_many(conn, table, "update", _FINISH_COLUMNS, rows, ("id", "status", "due_at"))


def due_now(conn: Connection, lane: int, now: float, *, up_to: int) -> int:
    return queue.due_now(conn, table, lane, now, up_to=up_to)


def activity_progress(conn: Connection, activity_ids: list[str]) -> dict[str, int]:
    return queue.activity_progress(conn, table, activity_ids)


def queue_depths(conn: Connection, now: float) -> dict[int, tuple[int, float]]:
    return queue.depths(conn, table, now)


def get(conn: Connection, call_id: str) -> dict | None:
    found = conn.execute(sa.select(table).where(table.c.id == call_id)).mappings().first()
    return dict(found) if found else None


def locked_rates(conn: Connection, keys: list[str]) -> dict[str, float]:
    """The limiters' theoretical arrival times (a new limiter owes nothing), locked until this
    transaction ends so two workers take turns at one limiter."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(rates).on_conflict_do_nothing(index_elements=["key"]), [{"key": k, "tat": 0.0} for k in keys])
    query = sa.select(rates.c.key, rates.c.tat).where(rates.c.key.in_(keys))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return dict(conn.execute(query).all())


def save_rates(conn: Connection, states: dict[str, float]) -> None:
    if states:
        conn.execute(rates.update().where(rates.c.key == sa.bindparam("k")).values(tat=sa.bindparam("t")),
                     [{"k": key, "t": tat} for key, tat in states.items()])
