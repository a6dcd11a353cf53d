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

from pinfold.db.tables import sms_messages as table
from pinfold.sending import queue

WAITING = queue.WAITING


def add(conn: Connection, row: dict) -> None:
    """Queue one message (id, account_id, region, project_id, tenant_id, message, created_at), due now."""
    add_many(conn, [row])


_queue = queue.TableQueue(table)
add_many, any_due, claim, renew = _queue.add_many, _queue.any_due, _queue.claim, _queue.renew
still_held, finish_held = _queue.still_held, _queue.finish_held
due_now, activity_progress = _queue.due_now, _queue.activity_progress
queue_depths, get = _queue.queue_depths, _queue.get


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


def purge(conn: Connection, before: float) -> int:
    """Forget finished messages created before `before`."""
    return conn.execute(table.delete().where(table.c.created_at < before, table.c.status.not_in(WAITING))).rowcount


def report(conn: Connection, message_id: str, *, from_status: str, to_status: str, detail: str, at: float) -> bool:
    """Move a message on from `from_status` as a delivery report says; False if it was not there any
    more (another report moved it first)."""
    statement = (table.update().where(table.c.id == message_id, table.c.status == from_status)
                 .values(status=to_status, detail=detail, due_at=at))
    return conn.execute(statement).rowcount == 1
