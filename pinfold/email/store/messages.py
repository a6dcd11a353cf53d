"""Outgoing email: batches (what a request asked for) and messages (one envelope each, with its state).

A message is `queued` until a worker claims it, `sending` while a worker holds its lease, then
finished: `delivered`, `bounced`, `suppressed`, `failed` (could not be rendered or built) or
`soft_bounced` (the retry budget ran out). `due_at` is when a queued message may next be tried, or
when a sending message's lease runs out: a worker that dies leaves its messages to be claimed again.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import execute_many, json_text
from pinfold.db.tables import email_batches, email_messages
from pinfold.sending import queue

WAITING = queue.WAITING
_WAITING_SQL = queue.WAITING_SQL  # as the due index's predicate (sending/queue.py says why)
_FINISH_COLUMNS = ("status", "due_at", "attempts", "sent_at", "detail", "mail")
_MESSAGE_COLUMNS = ("id", "batch_id", "account_id", "region", "recipient", "status", "due_at", "attempts",
                    "created_at", "lane")


def add(conn: Connection, batch: dict, messages: list[dict]) -> None:
    """Store a batch and its messages (each: id, recipient dict, and optionally due_at), due at their
    due_at or else now. A deferred message counts as created when it falls due, so its delivery budget
    and processing time run from then. A batch a campaign activity queued (its `activity_id`) puts its
    messages in the campaign lane."""
    conn.execute(email_batches.insert(), [{"activity_id": None, **batch}])
    lane = queue.lane_of(batch.get("activity_id"))
    rows = []
    for message in messages:
        due = message.get("due_at") or batch["created_at"]
        rows.append((message["id"], batch["id"], batch["account_id"], batch["region"],
                     json_text(message["recipient"]), "queued", due, 0, due, lane))
    execute_many(conn, email_messages, "insert", _MESSAGE_COLUMNS, rows)


def envelope(recipient: dict) -> list[str]:
    """Every address a message's recipient document sends to: To, then Cc, then Bcc."""
    return [*(recipient.get("to") or []), *(recipient.get("cc") or []), *(recipient.get("bcc") or [])]


# What a claim returns of each message.
_CLAIMED = [email_messages.c.id, email_messages.c.batch_id, email_messages.c.recipient, email_messages.c.attempts,
            email_messages.c.sent_at, email_messages.c.created_at, email_messages.c.due_at]


def any_due(conn: Connection, *, lanes: tuple[int, ...], now: float) -> bool:
    return queue.any_due(conn, email_messages, lanes, now=now)


def claim(conn: Connection, *, lane: int, now: float, until: float, limit: int) -> list[dict]:
    """Take up to `limit` due messages of one lane, held until `until` (sending/queue.py: the
    discipline every channel's queue shares)."""
    return queue.claim(conn, email_messages, _CLAIMED, lane=lane, now=now, until=until, limit=limit)


def renew(conn: Connection, ids: list[str], *, held_until: float, until: float) -> int:
    return queue.renew(conn, email_messages, ids, held_until=held_until, until=until)


def still_held(conn: Connection, ids: list[str], *, held_until: float) -> set[str]:
    return queue.still_held(conn, email_messages, ids, held_until=held_until)


def batches(conn: Connection, ids: set[str]) -> dict[str, dict]:
    query = sa.select(email_batches).where(email_batches.c.id.in_(sorted(ids)))
    return {row["id"]: dict(row) for row in conn.execute(query).mappings()}


def finish(conn: Connection, results: list[dict]) -> None:
    """Record outcomes: each has id, status, due_at, attempts, sent_at, detail and mail."""
    rows = [(r["status"], r["due_at"], r["attempts"], r["sent_at"], r["detail"],
             None if r["mail"] is None else json_text(r["mail"]), r["id"]) for r in results]
    execute_many(conn, email_messages, "update", _FINISH_COLUMNS, rows, ("id",))


def finish_held(conn: Connection, results: list[dict], *, held_until: float) -> int:
    """Record the outcomes of those messages still held under the lease that runs out at
    `held_until` (the check and the write are one statement); returns how many were."""
    rows = [(r["status"], r["due_at"], r["attempts"], r["sent_at"], r["detail"],
             None if r["mail"] is None else json_text(r["mail"]), r["id"], "sending", held_until) for r in results]
    return execute_many(conn, email_messages, "update", _FINISH_COLUMNS, rows, ("id", "status", "due_at"))


def get(conn: Connection, message_id: str) -> dict | None:
    """A message with its batch's account, project and tenant (for feedback that names it)."""
    query = (sa.select(email_messages, email_batches.c.project_id, email_batches.c.tenant_id,
                       email_batches.c.ses_tenant, email_batches.c.configuration_set, email_batches.c.definition)
             .join(email_batches, email_batches.c.id == email_messages.c.batch_id)
             .where(email_messages.c.id == message_id))
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def counts(conn: Connection, batch_id: str | None = None) -> dict[str, int]:
    """Messages per status (of one batch, or of all)."""
    query = sa.select(email_messages.c.status, sa.func.count()).group_by(email_messages.c.status)
    if batch_id is not None:
        query = query.where(email_messages.c.batch_id == batch_id)
    return dict(conn.execute(query).all())


def activity_progress(conn: Connection, activity_ids: list[str]) -> dict[str, int]:
    """Messages per status across what these campaign activities queued (through their batches)."""
    found: dict[str, int] = {}
    for first in range(0, len(activity_ids), 500):
        query = (sa.select(email_messages.c.status, sa.func.count())
                 .join(email_batches, email_batches.c.id == email_messages.c.batch_id)
                 .where(email_batches.c.activity_id.in_(activity_ids[first:first + 500]))
                 .group_by(email_messages.c.status))
        for status, count in conn.execute(query):
            found[status] = found.get(status, 0) + count
    return found


def waiting(conn: Connection) -> int:
    """Messages not yet finished (queued or being sent); answered from the due index."""
    query = sa.select(sa.func.count()).select_from(email_messages).where(_WAITING_SQL)
    return conn.execute(query).scalar_one()


def next_due(conn: Connection) -> float | None:
    return queue.next_due(conn, email_messages)


def purge(conn: Connection, before: float) -> int:
    """Forget finished messages created before `before`, and batches left with no messages."""
    removed = conn.execute(email_messages.delete().where(email_messages.c.created_at < before,
                                                         email_messages.c.status.not_in(WAITING))).rowcount
    orphaned = ~sa.exists().where(email_messages.c.batch_id == email_batches.c.id)
    conn.execute(email_batches.delete().where(email_batches.c.created_at < before, orphaned))
    return removed


def queue_depths(conn: Connection, now: float) -> dict[int, tuple[int, float]]:
    """Per lane: (messages waiting or being sent, seconds the most overdue has waited past its due time)."""
    return queue.depths(conn, email_messages, now)


def due_now(conn: Connection, lane: int, now: float, *, up_to: int) -> int:
    """One lane's messages due by `now`, counted up to `up_to`."""
    return queue.due_now(conn, email_messages, lane, now, up_to=up_to)
