"""The claim discipline every channel's queue table shares (email_messages, sms_messages): a message is
`queued` until a pass claims it, then `sending` with its lease's expiry as `due_at` (the fencing
token) until the pass records its outcome.

Messages are in one of two lanes, each claimed on its own by a worker of its own: transactional
sends (SendEmail, SendMessages, texts) and campaign sends, so a campaign's backlog never sits in front
of a transactional message.

Each table needs a partial index on `(lane, due_at)` for `status IN ('queued', 'sending')` and one for
`status = 'sending'`; the predicates below are written exactly as those indexes', since both
databases use a partial index only for a condition they can prove implies it, and a bound parameter
proves nothing. The lane is the indexes' leading column, not their condition, so it may be bound: a
claim is a range scan of one lane in due order, with no sort.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import execute_many

TRANSACTIONAL, CAMPAIGN = 0, 1  # the lanes: each is claimed on its own, by a worker of its own
LANES = (TRANSACTIONAL, CAMPAIGN)
LANE_NAMES = {TRANSACTIONAL: "transactional", CAMPAIGN: "campaign"}
WAITING = ("queued", "sending")
WAITING_SQL = sa.text("status IN ('queued', 'sending')")
LEASED_SQL = sa.text("status = 'sending'")
_CHUNK = 500  # ids per statement


def lane_of(activity_id: str | None) -> int:
    """A message a campaign activity queued goes in the campaign lane; every other in the transactional one."""
    return CAMPAIGN if activity_id else TRANSACTIONAL


def activity_of(attributes: dict | None) -> str | None:
    """The campaign activity named by a message's record attributes (what a campaign's planner passes)."""
    return (attributes or {}).get("campaign_activity_id") or None


def claim(conn: Connection, table: sa.Table, columns: list, *, lane: int, now: float, until: float,
          limit: int) -> list[dict]:
    """Take up to `limit` due messages of one lane, held until `until`, returning `columns` of each
    (and `taken_over`): first those whose holder's lease ran out (they were first in line when it
    took them), then the queue in order of due time; oldest first."""
    claimed = [{**row, "taken_over": True}
               for row in _take(conn, table, columns, LEASED_SQL, lane, now, until, limit)]
    if len(claimed) < limit:
        claimed += [{**row, "taken_over": False}
                    for row in _take(conn, table, columns, WAITING_SQL, lane, now, until, limit - len(claimed))]
    claimed.sort(key=lambda row: row["created_at"])
    return claimed


def any_due(conn: Connection, table: sa.Table, lanes: tuple[int, ...], *, now: float) -> bool:
    """Whether a claim of these lanes at `now` would find anything (a held message whose lease ran
    out is waiting too): the first entry of each lane's range of the waiting index."""
    return any(conn.execute(due_ids(table, WAITING_SQL, lane, now, 1)).first() is not None for lane in lanes)


def _take(conn: Connection, table: sa.Table, columns: list, which, lane: int, now: float, until: float,
          limit: int) -> list[dict]:
    due = due_ids(table, which, lane, now, limit).with_for_update(skip_locked=True)
    statement = (table.update().where(table.c.id.in_(due.scalar_subquery())).values(status="sending", due_at=until)
                 .returning(*columns))
    return [dict(row) for row in conn.execute(statement).mappings()]


def due_ids(table: sa.Table, which, lane: int, now: float, limit: int) -> sa.Select:
    """The first `limit` ids of a lane due by `now`, in due order: a range of one of the claim indexes."""
    return (sa.select(table.c.id).where(which, table.c.lane == lane, table.c.due_at <= now)
            .order_by(table.c.due_at).limit(limit))


def renew(conn: Connection, table: sa.Table, ids: list[str], *, held_until: float, until: float) -> int:
    """Move the lease on those of these messages still held until `held_until` to `until`."""
    renewed = 0
    for first in range(0, len(ids), _CHUNK):
        statement = (table.update().where(table.c.id.in_(ids[first:first + _CHUNK]), table.c.status == "sending",
                                          table.c.due_at == held_until).values(due_at=until))
        renewed += conn.execute(statement).rowcount
    return renewed


def still_held(conn: Connection, table: sa.Table, ids: list[str], *, held_until: float) -> set[str]:
    """Which of these messages are still held under the lease that runs out at `held_until`: nobody
    has claimed or finished them since (a pass that overran its lease loses them to the next)."""
    held = set()
    for first in range(0, len(ids), _CHUNK):
        query = sa.select(table.c.id, table.c.due_at).where(table.c.id.in_(ids[first:first + _CHUNK]), LEASED_SQL)
        held.update(found.id for found in conn.execute(query) if found.due_at == held_until)
    return held


def depths(conn: Connection, table: sa.Table, now: float) -> dict[int, tuple[int, float]]:
    """Per lane: (messages waiting or being sent, seconds the most overdue has waited past its due
    time). One pass over the due index, which is in lane order."""
    query = (sa.select(table.c.lane, sa.func.count(), sa.func.min(table.c.due_at)).where(WAITING_SQL)
             .group_by(table.c.lane))
    found = dict.fromkeys(LANES, (0, 0.0))
    for lane, count, oldest in conn.execute(query):
        found[lane] = (count, max(0.0, now - oldest))
    return found


def due_now(conn: Connection, table: sa.Table, lane: int, now: float, *, up_to: int) -> int:
    """How many of one lane's messages are due by `now` (waiting, or held under a lease that ran out),
    counting no further than `up_to`: a range of the due index, however long the queue."""
    due = sa.select(table.c.id).where(WAITING_SQL, table.c.lane == lane, table.c.due_at <= now).limit(up_to).subquery()
    return conn.execute(sa.select(sa.func.count()).select_from(due)).scalar_one()


def activity_progress(conn: Connection, table: sa.Table, activity_ids: list[str]) -> dict[str, int]:
    """Messages per status across what these campaign activities queued."""
    found: dict[str, int] = {}
    for first in range(0, len(activity_ids), 500):
        query = (sa.select(table.c.status, sa.func.count())
                 .where(table.c.activity_id.in_(activity_ids[first:first + 500])).group_by(table.c.status))
        for status, count in conn.execute(query):
            found[status] = found.get(status, 0) + count
    return found


def next_due(conn: Connection, table: sa.Table) -> float | None:
    """When the earliest waiting message of any lane is due (one index probe per lane)."""
    found = [conn.execute(sa.select(sa.func.min(table.c.due_at)).where(WAITING_SQL, table.c.lane == lane)).scalar()
             for lane in LANES]
    return min((due for due in found if due is not None), default=None)


class StoreQueue:
    """The queue half of a Channel (sending/channel.py) whose store module keeps this discipline
    (`any_due`, `claim`, `renew`, `still_held`, `finish_held`): a pass claims up to `claim_limit`
    messages from `lanes`, in that order, each wrapped by `claimed(row, now)`."""

    queue_store: Any  # the channel's store module
    lanes: tuple[int, ...]
    claim_limit: int

    def claimed(self, row: dict, now: float):
        raise NotImplementedError

    def due(self, conn, *, now: float) -> bool:
        return self.queue_store.any_due(conn, lanes=self.lanes, now=now)

    def claim(self, conn, *, now: float, until: float) -> list:
        rows: list[dict] = []
        for lane in self.lanes:
            left = self.claim_limit - len(rows)
            if left > 0:
                rows += self.queue_store.claim(conn, lane=lane, now=now, until=until, limit=left)
        return [self.claimed(row, now) for row in rows]

    def renew(self, conn, ids: list[str], *, held_until: float, until: float) -> int:
        return self.queue_store.renew(conn, ids, held_until=held_until, until=until)

    def still_held(self, conn, ids: list[str], *, held_until: float) -> set[str]:
        return self.queue_store.still_held(conn, ids, held_until=held_until)

    def finish(self, conn, results: list[dict], *, held_until: float) -> int:
        return self.queue_store.finish_held(conn, results, held_until=held_until)


_FINISH_COLUMNS = ("status", "due_at", "attempts", "sent_at", "detail", "remote_id")


class TableQueue:
    """The queue operations on one channel's table of this discipline (sms_messages, push_messages,
    custom_calls: one row per message, its resolved content in `message`), as its store module
    offers them to the channel (StoreQueue's `queue_store`) and to the campaigns."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self._claimed = [table.c[name] for name in ("id", "account_id", "region", "project_id", "tenant_id",
                                                    "message", "attempts", "sent_at", "created_at", "due_at")]

    def add_many(self, conn: Connection, rows: list[dict]) -> None:
        """Queue messages in one statement, each due at its `due_at` (else at its creation); a
        message a campaign activity queued (its `activity_id`) goes in the campaign lane."""
        conn.execute(self.table.insert(), [
            {"status": "queued", "due_at": row["created_at"], "attempts": 0, "activity_id": None, **row,
             "lane": lane_of(row.get("activity_id"))} for row in rows])

    def any_due(self, conn: Connection, *, lanes: tuple[int, ...], now: float) -> bool:
        return any_due(conn, self.table, lanes, now=now)

    def claim(self, conn: Connection, *, lane: int, now: float, until: float, limit: int) -> list[dict]:
        return claim(conn, self.table, self._claimed, lane=lane, now=now, until=until, limit=limit)

    def renew(self, conn: Connection, ids: list[str], *, held_until: float, until: float) -> int:
        return renew(conn, self.table, ids, held_until=held_until, until=until)

    def still_held(self, conn: Connection, ids: list[str], *, held_until: float) -> set[str]:
        return still_held(conn, self.table, ids, held_until=held_until)

    def finish_held(self, conn: Connection, results: list[dict], *, held_until: float) -> int:
        """Record the outcomes (id, status, due_at, attempts, sent_at, detail, remote_id) of those
        messages still held under the lease that runs out at `held_until`; returns how many were."""
        rows = [(r["status"], r["due_at"], r["attempts"], r["sent_at"], r["detail"], r.get("remote_id"), r["id"],
                 "sending", held_until) for r in results]
        return execute_many(conn, self.table, "update", _FINISH_COLUMNS, rows, ("id", "status", "due_at"))

    def due_now(self, conn: Connection, lane: int, now: float, *, up_to: int) -> int:
        return due_now(conn, self.table, lane, now, up_to=up_to)

    def activity_progress(self, conn: Connection, activity_ids: list[str]) -> dict[str, int]:
        return activity_progress(conn, self.table, activity_ids)

    def queue_depths(self, conn: Connection, now: float) -> dict[int, tuple[int, float]]:
        return depths(conn, self.table, now)

    def get(self, conn: Connection, message_id: str) -> dict | None:
        found = conn.execute(sa.select(self.table).where(self.table.c.id == message_id)).mappings().first()
        return dict(found) if found else None


@dataclass(eq=False)
class ClaimedRow:
    """A claimed message as the pipeline's `Held` needs it: its row, whose id the lease holds."""

    row: dict

    @property
    def id(self) -> str:
        return self.row["id"]

    @property
    def taken_over(self) -> bool:
        return self.row["taken_over"]


@dataclass(eq=False)
class Claimed(ClaimedRow):
    """A claimed message of a TableQueue with what a pass learns about it: why it is held back at the
    gate, if it is, and its adapter's outcome. Channels add what they build on the way."""

    claimed_at: float
    held: Any = None
    outcome: Any = None
