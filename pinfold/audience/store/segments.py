"""Segments: one row per segment (its latest version) and every version's definition."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import segment_versions, segments

_INSERT_SEGMENT = segments.insert()
_INSERT_VERSION = segment_versions.insert()
_SEGMENT = sa.select(segments).where(segments.c.id == sa.bindparam("id"), segments.c.project_id == sa.bindparam("p"))
_VERSION = sa.select(segment_versions).where(
    segment_versions.c.segment_id == sa.bindparam("id"), segment_versions.c.version == sa.bindparam("version")
)


def insert(conn: Connection, segment: dict, definition: dict) -> None:
    """A new segment with its first version."""
    conn.execute(_INSERT_SEGMENT, segment)
    add_version(conn, segment["id"], segment["version"], segment["name"], definition, segment["modified_at"])


def add_version(conn: Connection, segment_id: str, version: int, name: str, definition: dict, at: str) -> None:
    conn.execute(_INSERT_VERSION, {"segment_id": segment_id, "version": version, "name": name,
                                   "definition": definition, "created_at": at})


def set_definition(conn: Connection, segment_id: str, version: int, definition: dict) -> None:
    """Rewrite one version's definition (only an import filling its own segment does this)."""
    conn.execute(segment_versions.update().where(segment_versions.c.segment_id == segment_id,
                                                 segment_versions.c.version == version).values(definition=definition))


def set_latest(conn: Connection, segment_id: str, *, version: int, name: str, modified_at: str) -> None:
    conn.execute(segments.update().where(segments.c.id == segment_id)
                 .values(version=version, name=name, modified_at=modified_at))


def get(conn: Connection, project_id: str, segment_id: str) -> dict | None:
    row = conn.execute(_SEGMENT, {"id": segment_id, "p": project_id}).mappings().first()
    return dict(row) if row else None


def get_version(conn: Connection, segment_id: str, version: int) -> dict | None:
    row = conn.execute(_VERSION, {"id": segment_id, "version": version}).mappings().first()
    return dict(row) if row else None


def list_page(conn: Connection, project_id: str, *, tenant_id: str | None, after: tuple[str, str] | None,
              limit: int) -> list[dict]:
    """A page of a project's segments, oldest first; `tenant_id` confines it to one sa-sp tenant's."""
    query = sa.select(segments).where(segments.c.project_id == project_id)
    if tenant_id is not None:
        query = query.where(segments.c.tenant_id == tenant_id)
    if after is not None:
        query = query.where(sa.tuple_(segments.c.created_at, segments.c.id) > sa.tuple_(*after))
    query = query.order_by(segments.c.created_at, segments.c.id).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def versions_page(conn: Connection, segment_id: str, *, after: int, limit: int) -> list[dict]:
    """A page of one segment's versions, oldest first, after version number `after`."""
    query = (sa.select(segment_versions)
             .where(segment_versions.c.segment_id == segment_id, segment_versions.c.version > after)
             .order_by(segment_versions.c.version).limit(limit))
    return [dict(row) for row in conn.execute(query).mappings()]


def delete(conn: Connection, segment_id: str) -> None:
    conn.execute(segment_versions.delete().where(segment_versions.c.segment_id == segment_id))
    conn.execute(segments.delete().where(segments.c.id == segment_id))


def delete_project(conn: Connection, project_id: str) -> list[str]:
    """Remove every segment of a project; returns their ids (their tags go with them)."""
    ids = list(conn.execute(sa.select(segments.c.id).where(segments.c.project_id == project_id)).scalars())
    if ids:
        conn.execute(segment_versions.delete().where(segment_versions.c.segment_id.in_(ids)))
        conn.execute(segments.delete().where(segments.c.project_id == project_id))
    return ids


def delete_for_tenant(conn: Connection, project_id: str, tenant_id: str) -> list[str]:
    """Remove one sa-sp tenant's segments from a shared project; returns their ids."""
    query = sa.select(segments.c.id).where(segments.c.project_id == project_id, segments.c.tenant_id == tenant_id)
    ids = list(conn.execute(query).scalars())
    for segment_id in ids:
        delete(conn, segment_id)
    return ids


def get_by_id(conn: Connection, segment_id: str) -> dict | None:
    row = conn.execute(sa.select(segments).where(segments.c.id == segment_id)).mappings().first()
    return dict(row) if row else None
