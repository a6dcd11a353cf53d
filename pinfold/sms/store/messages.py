"""Outgoing text messages: the `sms_messages` queue, one row per SendTextMessage (or per SMS address
of a Pinpoint send), with its state.

A message is `queued` until a worker claims it, `sending` while a worker holds its lease, then
finished: `delivered`, `failed` (the carrier refused it for good), `expired` (its TimeToLive ran out
before a carrier took it) or `opted_out` (the destination opted out after it was accepted). `due_at`
is when a queued message may next be tried, or when a sending message's lease runs out: a worker
that dies leaves its messages to be claimed again. `message` holds what the send resolved
(destination, origination, body, parts, encoding, type, country, price, expiry, context, ...).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import execute_many
from pinfold.db.tables import sms_messages as table
from pinfold.sending import queue

WAITING = queue.WAITING
_FINISH_COLUMNS = ("status", "due_at", "attempts", "sent_at", "detail", "remote_id")


def add(conn: Connection, row: dict) -> None:
    """Queue one message (id, account_id, region, project_id, tenant_id, message, created_at), due now."""
    add_many(conn, [row])


def add_many(conn: Connection, rows: list[dict]) -> None:
    """Queue messages in one statement (an executemany: a request's texts do not each pay for an INSERT);
    each is due at its own `due_at` when it has one, else now. A text a campaign activity queued (its
    `activity_id`) goes in the campaign lane."""
    conn.execute(table.insert(), [{"status": "queued", "due_at": row["created_at"], "attempts": 0,
                                   "activity_id": None, **row, "lane": queue.lane_of(row.get("activity_id"))}
                                  for row in rows])


# What a claim returns of each message.
_CLAIMED = [table.c.id, table.c.account_id, table.c.region, table.c.project_id, table.c.tenant_id, table.c.message,
            table.c.attempts, table.c.sent_at, table.c.created_at, table.c.due_at]


def any_due(conn: Connection, *, lanes: tuple[int, ...], now: float) -> bool:
    return queue.any_due(conn, table, lanes, now=now)


def claim(conn: Connection, *, lane: int, now: float, until: float, limit: int) -> list[dict]:
    """Take up to `limit` due messages of one lane, held until `until` (sending/queue.py: the
    discipline every channel's queue shares)."""
    return queue.claim(conn, table, _CLAIMED, lane=lane, now=now, until=until, limit=limit)


def renew(conn: Connection, ids: list[str], *, held_until: float, until: float) -> int:
    return queue.renew(conn, table, ids, held_until=held_until, until=until)


def still_held(conn: Connection, ids: list[str], *, held_until: float) -> set[str]:
    return queue.still_held(conn, table, ids, held_until=held_until)


def finish_held(conn: Connection, results: list[dict], *, held_until: float) -> int:
    """Record the outcomes (id, status, due_at, attempts, sent_at, detail, remote_id) of those
    messages still held under the lease that runs out at `held_until`; returns how many were."""
    rows = [(r["status"], r["due_at"], r["attempts"], r["sent_at"], r["detail"], r.get("remote_id"), r["id"],
             "sending", held_until) for r in results]
    return execute_many(conn, table, "update", _FINISH_COLUMNS, rows, ("id", "status", "due_at"))


def get(conn: Connection, message_id: str) -> dict | None:
    found = conn.execute(sa.select(table).where(table.c.id == message_id)).mappings().first()
    return dict(found) if found else None


def get_many(conn: Connection, message_ids: list[str]) -> dict[str, dict]:
    """The messages of these ids that exist, by id."""
    found: dict[str, dict] = {}
    for first in range(0, len(message_ids), 500):
        query = sa.select(table).where(table.c.id.in_(message_ids[first:first + 500]))
        found.update((row["id"], dict(row)) for row in conn.execute(query).mappings())
    return found


def counts(conn: Connection) -> dict[str, int]:
    """Messages per status."""
    return dict(conn.execute(sa.select(table.c.status, sa.func.count()).group_by(table.c.status)).all())


def activity_progress(conn: Connection, activity_ids: list[str]) -> dict[str, int]:
    return queue.activity_progress(conn, table, activity_ids)


def queue_depths(conn: Connection, now: float) -> dict[int, tuple[int, float]]:
    """Per lane: (messages waiting or being sent, seconds the most overdue has waited past its due time)."""
    return queue.depths(conn, table, now)


def due_now(conn: Connection, lane: int, now: float, *, up_to: int) -> int:
    """One lane's messages due by `now`, counted up to `up_to`."""
    return queue.due_now(conn, table, lane, now, up_to=up_to)


def purge(conn: Connection, before: float) -> int:
    """Forget finished messages created before `before`."""
    return conn.execute(table.delete().where(table.c.created_at < before, table.c.status.not_in(WAITING))).rowcount


def report(conn: Connection, message_id: str, *, from_status: str, to_status: str, detail: str, at: float) -> bool:
    """Move a message on from `from_status` as a delivery report says; False if it was not there any
    more (another report moved it first)."""
    statement = (table.update().where(table.c.id == message_id, table.c.status == from_status)
                 .values(status=to_status, detail=detail, due_at=at))
    return conn.execute(statement).rowcount == 1
