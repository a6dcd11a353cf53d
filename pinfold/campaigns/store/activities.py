"""Campaign activities: one row per run per treatment, with the cursor its planning has reached."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import campaign_activities as activities

OPEN_SQL = sa.text("state IN ('PENDING', 'INITIALIZING', 'RUNNING')")  # as ix_campaign_activities_open says


def add(conn: Connection, activity: dict) -> bool:
    """A new activity; False (and nothing written) when its run and treatment already have one."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(activities).values(**activity).on_conflict_do_nothing(
        index_elements=["campaign_id", "run", "treatment_id"])
    return conn.execute(statement).rowcount == 1


def get(conn: Connection, activity_id: str, *, for_update: bool = False) -> dict | None:
    query = sa.select(activities).where(activities.c.id == activity_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def update(conn: Connection, activity_id: str, **values) -> None:
    conn.execute(activities.update().where(activities.c.id == activity_id).values(**values))


def claim(conn: Connection, *, now: float, until: float, limit: int) -> list[dict]:
    """Open activities that are due and not held by a live scheduler, held until `until`: the least
    recently advanced first (a scheduler leaves `lease_until` at the moment it let go), so every open
    activity takes its turn."""
    due = (sa.select(activities.c.id).where(OPEN_SQL, activities.c.scheduled_at <= now,
                                             sa.or_(activities.c.lease_until.is_(None),
                                                    activities.c.lease_until <= now))
           .order_by(sa.func.coalesce(activities.c.lease_until, 0), activities.c.scheduled_at, activities.c.id)
           .limit(limit).with_for_update(skip_locked=True))
    statement = (activities.update().where(activities.c.id.in_(due.scalar_subquery()))
                 .values(lease_until=until).returning(*activities.c))
    return [dict(row) for row in conn.execute(statement).mappings()]


def release_claims(conn: Connection, *, now: float, until: float) -> int:
    """Let go of the claims a scheduler took before `now` (held until at most `until`): a new scheduler
    takes them over at once instead of waiting for them to run out. Event activities, held for good,
    stay held."""
    statement = activities.update().where(OPEN_SQL, activities.c.lease_until > now,
                                          activities.c.lease_until <= until).values(lease_until=now)
    return conn.execute(statement).rowcount


def of_campaign(conn: Connection, campaign_id: str, *, after: tuple[int, str] | None = None,
                limit: int | None = None) -> list[dict]:
    """A campaign's activities in run and treatment order (newest run last)."""
    query = sa.select(activities).where(activities.c.campaign_id == campaign_id)
    if after is not None:
        query = query.where(sa.tuple_(activities.c.run, activities.c.treatment_id) > sa.tuple_(*after))
    query = query.order_by(activities.c.run, activities.c.treatment_id)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def open_count(conn: Connection, campaign_id: str) -> int:
    query = sa.select(sa.func.count()).select_from(activities).where(activities.c.campaign_id == campaign_id,
                                                                     OPEN_SQL)
    return conn.execute(query).scalar_one()


def delete_campaign(conn: Connection, campaign_id: str) -> None:
    conn.execute(activities.delete().where(activities.c.campaign_id == campaign_id))


def cancel_open(conn: Connection, campaign_id: str, at: float) -> int:
    """Mark a deleted campaign's open activities CANCELLED (a scheduler holding one stops at its next step)."""
    statement = activities.update().where(activities.c.campaign_id == campaign_id, OPEN_SQL).values(
        state="CANCELLED", ended_at=at, lease_until=None)
    return conn.execute(statement).rowcount


def delete_project(conn: Connection, project_id: str) -> None:
    conn.execute(activities.delete().where(activities.c.project_id == project_id))


def close_open(conn: Connection, campaign_id: str, *, ended_at: float) -> None:
    """End a campaign's open activities as completed (an event-based campaign reached its EndTime)."""
    conn.execute(activities.update().where(activities.c.campaign_id == campaign_id, OPEN_SQL)
                 .values(state="COMPLETED", result="SUCCESS", ended_at=ended_at, lease_until=None))
