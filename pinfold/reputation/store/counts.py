"""The reputation tables: counts per scope and hour, judged levels, the history of findings, pauses and
resumes, and the tally's cursor."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import upsert
from pinfold.db.tables import reputation_counts as counts
from pinfold.db.tables import reputation_cursor as cursor
from pinfold.db.tables import reputation_history as history
from pinfold.db.tables import reputation_levels as levels
from pinfold.reputation.rules.levels import DAY_HOURS, METRICS, NONE, WEEK_HOURS, Window, family_of

CURSOR = "tally"


def windows(conn: Connection, keys: list[tuple[str, str]], hour: int) -> dict[tuple[str, str], Window]:
    """Each (scope, key)'s sums over the windows ending with `hour`."""
    day, week = hour - DAY_HOURS + 1, hour - WEEK_HOURS + 1
    found = {key: Window() for key in keys}
    for scope, key in keys:
        query = sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((counts.c.hour >= day, counts.c.sends), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(counts.c.sends), 0),
            sa.func.coalesce(sa.func.sum(sa.case((counts.c.hour >= day, counts.c.bounces), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(counts.c.complaints), 0),
        ).where(counts.c.scope == scope, counts.c.key == key, counts.c.hour >= week, counts.c.hour <= hour)
        sends_day, sends_week, bounces, complaints = conn.execute(query).one()
        found[(scope, key)] = Window(int(sends_day), int(sends_week), int(bounces), int(complaints))
    return found


def add(conn: Connection, increments: dict[tuple[str, str, int], list[int]]) -> None:
    """Add (sends, bounces, complaints) to each (scope, key, hour)'s counts: one UPDATE each, an INSERT
    for an hour not counted yet."""
    c = counts.c
    for (scope, key, hour), (sends, bounces, complaints) in increments.items():
        changed = conn.execute(counts.update().where(c.scope == scope, c.key == key, c.hour == hour).values(
            sends=c.sends + sends, bounces=c.bounces + bounces, complaints=c.complaints + complaints)).rowcount
        if not changed:
            upsert(conn, counts, [{"scope": scope, "key": key, "hour": hour, "sends": sends, "bounces": bounces,
                                   "complaints": complaints}], ["scope", "key", "hour"])


def judged(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
    """Each (scope, key)'s last judged level per metric of its family (NONE when never judged). The
    table's bounce_level and complaint_level hold a family's first and second metric's."""
    found = {}
    for scope, key in keys:
        first, second = METRICS[family_of(scope)]
        row = conn.execute(sa.select(levels.c.bounce_level, levels.c.complaint_level).where(
            levels.c.scope == scope, levels.c.key == key)).first()
        found[(scope, key)] = {first: row[0], second: row[1]} if row else {first: NONE, second: NONE}
    return found


def save_judged(conn: Connection, changed: dict[tuple[str, str], dict[str, str]], now: float) -> None:
    rows = []
    for (scope, key), found in changed.items():
        first, second = METRICS[family_of(scope)]
        rows.append({"scope": scope, "key": key, "bounce_level": found[first], "complaint_level": found[second],
                     "updated_at": now})
    upsert(conn, levels, rows, ["scope", "key"])


def record(conn: Connection, rows: list[dict]) -> None:
    """History rows: id, scope, key, action (FINDING | PAUSED | RESUMED), actor, detail, at."""
    if rows:
        conn.execute(history.insert(), rows)


def history_of(conn: Connection, scope: str, key: str, *, limit: int = 100) -> list[dict]:
    query = (sa.select(history).where(history.c.scope == scope, history.c.key == key)
             .order_by(history.c.at.desc(), history.c.id.desc()).limit(limit))
    return [dict(row) for row in conn.execute(query).mappings()]


def daily(conn: Connection, scope: str, key: str, since_hour: int) -> dict[int, tuple[int, int, int]]:
    """(sends, bounces, complaints) per UTC day (epoch days) from `since_hour` on."""
    query = (sa.select(counts.c.hour, counts.c.sends, counts.c.bounces, counts.c.complaints)
             .where(counts.c.scope == scope, counts.c.key == key, counts.c.hour >= since_hour))
    found: dict[int, list[int]] = {}
    for hour, sends, bounces, complaints in conn.execute(query):
        day = found.setdefault(hour // 24, [0, 0, 0])
        day[0] += sends
        day[1] += bounces
        day[2] += complaints
    return {day: tuple(values) for day, values in sorted(found.items())}


def position(conn: Connection) -> int:
    """The last outbox seq the tally counted (0 before the first), locked for this transaction."""
    query = sa.select(cursor.c.seq).where(cursor.c.name == CURSOR)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    found = conn.execute(query).scalar()
    return int(found) if found is not None else 0


def move(conn: Connection, seq: int) -> None:
    upsert(conn, cursor, [{"name": CURSOR, "seq": seq}], ["name"])


def prune(conn: Connection, before_hour: int) -> int:
    """Forget counts older than every window."""
    return conn.execute(counts.delete().where(counts.c.hour < before_hour)).rowcount
