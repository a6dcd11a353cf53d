"""Background jobs: claim, heartbeat, progress with checkpoint, and listing."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import execute_many
from pinfold.db.tables import endpoints, jobs, segment_members

_INSERT = jobs.insert()
_ACTIVE = ("INITIALIZING", "PROCESSING")


def insert(conn: Connection, job: dict) -> None:
    conn.execute(_INSERT, job)


def get(conn: Connection, job_id: str) -> dict | None:
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
    return dict(row) if row else None


def claim_next(conn: Connection, *, now: float, stale_after: float) -> dict | None:
    """Take the oldest waiting job, or one whose runner stopped beating; None if there is none.

    Run inside a write transaction: the conditional update makes two runners never take one job.
    """
    waiting = sa.or_(jobs.c.status == "CREATED",
                     sa.and_(jobs.c.status.in_(_ACTIVE), jobs.c.heartbeat_at < now - stale_after))
    for row in conn.execute(sa.select(jobs.c.id, jobs.c.status).where(waiting).order_by(jobs.c.created_at).limit(5)):
        status = "INITIALIZING" if row.status == "CREATED" else row.status
        taken = conn.execute(jobs.update().where(jobs.c.id == row.id, jobs.c.status == row.status, waiting)
                             .values(status=status, heartbeat_at=now))
        if taken.rowcount == 1:
            return get(conn, row.id)
    return None


def update(conn: Connection, job_id: str, **values) -> None:
    conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))


def list_page(conn: Connection, project_id: str, job_type: str, *, after: tuple[str, str] | None, limit: int,
              segment_id: str | None = None, principal_ids: list[str] | None = None) -> list[dict]:
    """A project's jobs of one type, oldest first (optionally one segment's, or only some principals')."""
    query = sa.select(jobs).where(jobs.c.project_id == project_id, jobs.c.job_type == job_type)
    if segment_id is not None:
        query = query.where(jobs.c.segment_id == segment_id)
    if principal_ids is not None:
        query = query.where(jobs.c.principal_id.in_(principal_ids))
    if after is not None:
        query = query.where(sa.tuple_(jobs.c.created_at, jobs.c.id) > sa.tuple_(*after))
    query = query.order_by(jobs.c.created_at, jobs.c.id).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def add_members(conn: Connection, segment_id: str, endpoint_ids: list[str]) -> None:
    rows = [(segment_id, endpoint_id) for endpoint_id in dict.fromkeys(endpoint_ids)]
    execute_many(conn, segment_members, "upsert", _MEMBER_KEYS, rows, _MEMBER_KEYS)


_MEMBER_KEYS = ("segment_id", "endpoint_id")


def member_channel_counts(conn: Connection, project_id: str, segment_id: str) -> dict[str, int]:
    """How many of the segment's members exist, by channel type ("NONE" for endpoints without one)."""
    channel = sa.func.coalesce(endpoints.c.channel_type, "NONE")
    query = (sa.select(channel, sa.func.count())
             .select_from(segment_members.join(endpoints, sa.and_(endpoints.c.project_id == project_id,
                                                                 endpoints.c.id == segment_members.c.endpoint_id)))
             .where(segment_members.c.segment_id == segment_id).group_by(channel))
    return {name: count for name, count in conn.execute(query).all()}


def member_ids(conn: Connection, segment_id: str) -> set[str]:
    query = sa.select(segment_members.c.endpoint_id).where(segment_members.c.segment_id == segment_id)
    return set(conn.execute(query).scalars())


def delete_members(conn: Connection, segment_id: str) -> None:
    conn.execute(segment_members.delete().where(segment_members.c.segment_id == segment_id))


def count_by_status(conn: Connection) -> list[tuple[str, int]]:
    """How many import and export jobs are in each status."""
    query = sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status).order_by(jobs.c.status)
    return [(status, count) for status, count in conn.execute(query)]
