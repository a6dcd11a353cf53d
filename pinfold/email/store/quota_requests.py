"""Quota increase requests and their decisions."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import quota_requests as requests

MAX_LISTED = 1000


def add(conn: Connection, row: dict) -> None:
    conn.execute(requests.insert().values(**row))


def get(conn: Connection, request_id: str) -> dict | None:
    row = conn.execute(sa.select(requests).where(requests.c.id == request_id)).mappings().first()
    return dict(row) if row else None


def decide(conn: Connection, request_id: str, **values) -> bool:
    """Record a decision on a PENDING request; False when it was decided already."""
    return conn.execute(requests.update().where(requests.c.id == request_id, requests.c.status == "PENDING")
                        .values(**values)).rowcount == 1


def listed(conn: Connection, *, account_id: str | None = None, status: str | None = None) -> list[dict]:
    query = sa.select(requests).order_by(requests.c.requested_at.desc(), requests.c.id).limit(MAX_LISTED)
    if account_id:
        query = query.where(requests.c.account_id == account_id)
    if status:
        query = query.where(requests.c.status == status)
    return [dict(row) for row in conn.execute(query).mappings()]
