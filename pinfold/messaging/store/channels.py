"""A project's channels: one row per (project, channel type) with the channel's settings as JSON."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import upsert
from pinfold.db.tables import channels

_ONE = sa.select(channels).where(channels.c.project_id == sa.bindparam("p"),
                                 channels.c.channel_type == sa.bindparam("t"))


def get_row(conn: Connection, project_id: str, channel_type: str) -> dict | None:
    """The stored row (document, version, dates, modified_by), or None when the channel is not set up."""
    row = conn.execute(_ONE, {"p": project_id, "t": channel_type}).mappings().first()
    return dict(row) if row else None


def get(conn: Connection, project_id: str, channel_type: str) -> dict | None:
    """The channel's settings document (e.g. FromAddress, Identity, Enabled for EMAIL), or None."""
    row = get_row(conn, project_id, channel_type)
    return dict(row["document"]) if row else None


def put(conn: Connection, row: dict) -> None:
    upsert(conn, channels, [row], ["project_id", "channel_type"])


def list_project(conn: Connection, project_id: str) -> list[dict]:
    """Every configured channel of a project, by channel type."""
    query = sa.select(channels).where(channels.c.project_id == project_id).order_by(channels.c.channel_type)
    return [dict(row) for row in conn.execute(query).mappings()]


def delete(conn: Connection, project_id: str, channel_type: str) -> None:
    conn.execute(channels.delete().where(channels.c.project_id == project_id,
                                         channels.c.channel_type == channel_type))


def delete_project(conn: Connection, project_id: str) -> None:
    """Remove every channel of a project (the project is going away)."""
    conn.execute(channels.delete().where(channels.c.project_id == project_id))
