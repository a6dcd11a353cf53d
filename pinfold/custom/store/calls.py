"""Outgoing custom-channel calls: the `custom_calls` queue, one row per webhook call (up to 50
endpoints), with its state, and the call-rate limiters.

A call is `queued` until a worker claims it, `sending` while a worker holds its lease, then finished:
`delivered` (the receiver answered 2xx), `failed` (refused for good), or `expired` (not taken before
its retries ran out). `message` holds the URL, the payload, the endpoint ids and the expiry.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import custom_call_rates as rates
from pinfold.db.tables import custom_calls as table
from pinfold.sending import queue

_queue = queue.TableQueue(table)
add_many, any_due, claim, renew = _queue.add_many, _queue.any_due, _queue.claim, _queue.renew
still_held, finish_held = _queue.still_held, _queue.finish_held
due_now, activity_progress = _queue.due_now, _queue.activity_progress
queue_depths, get = _queue.queue_depths, _queue.get


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
