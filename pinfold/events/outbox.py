"""The event outbox: records written with the change that caused them, pumped to sinks later."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import execute_many, json_text, lock_keys
from pinfold.db.tables import event_outbox

_COLUMNS = ("event_id", "account_id", "region", "project_id", "tenant_id", "event_type", "arrival_ms", "record")


def append(conn: Connection, rows: list[dict]) -> None:
    """Add records; each row has event_id, account_id, region, project_id, tenant_id, event_type,
    arrival_ms and record."""
    if rows:
        # On PostgreSQL, writers of the outbox take turns from here to their commit, so records
        # become visible in seq order and the pump, reading after its cursor, can never pass over
        # a record that commits late. (SQLite has one writer at a time anyway.)
        lock_keys(conn, "outbox", ["append"])
        execute_many(conn, event_outbox, "insert", _COLUMNS,
                     [(row["event_id"], row["account_id"], row["region"], row["project_id"], row["tenant_id"],
                       row["event_type"], row["arrival_ms"], json_text(row["record"])) for row in rows])


def read_after(conn: Connection, seq: int, limit: int = 1000) -> list[dict]:
    query = sa.select(event_outbox).where(event_outbox.c.seq > seq).order_by(event_outbox.c.seq).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def count(conn: Connection, project_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(event_outbox)
    if project_id is not None:
        query = query.where(event_outbox.c.project_id == project_id)
    return conn.execute(query).scalar_one()
