"""The claim discipline every channel's queue table shares (email_messages, sms_messages): a message is
`queued` until a pass claims it, then `sending` with its lease's expiry as `due_at` (the fencing
token) until the pass records its outcome.

Each table needs a partial index on `due_at` for `status IN ('queued', 'sending')` and one for
`status = 'sending'`; the predicates below are written exactly as those indexes', since both
databases use a partial index only for a condition they can prove implies it, and a bound parameter
proves nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

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


def claim(conn: Connection, table: sa.Table, columns: list, *, now: float, until: float, limit: int) -> list[dict]:
    """Take up to `limit` due messages, held until `until`, returning `columns` of each (and
    `taken_over`): first those whose holder's lease ran out (they were first in line when it took
    them), then the queue in order of due time; oldest first."""
    claimed = [{**row, "taken_over": True} for row in _take(conn, table, columns, LEASED_SQL, now, until, limit)]
    if len(claimed) < limit:
        claimed += [{**row, "taken_over": False}
                    for row in _take(conn, table, columns, WAITING_SQL, now, until, limit - len(claimed))]
    claimed.sort(key=lambda row: row["created_at"])
    return claimed


def _take(conn: Connection, table: sa.Table, columns: list, which, now: float, until: float, limit: int) -> list[dict]:
    due = (sa.select(table.c.id).where(which, table.c.due_at <= now).order_by(table.c.due_at).limit(limit)
           .with_for_update(skip_locked=True))
    statement = (table.update().where(table.c.id.in_(due.scalar_subquery())).values(status="sending", due_at=until)
                 .returning(*columns))
    return [dict(row) for row in conn.execute(statement).mappings()]


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
