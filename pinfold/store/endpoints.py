"""Endpoints: the stored document plus the columns that make lookups and isolation indexed."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.domain.errors import Conflict
from pinfold.store.database import is_unique_violation, keyed_lookup, lock_keys, upsert
from pinfold.store.tables import endpoints

_KEYS = ["project_id", "id"]


def _tenant_filter(query, tenant_value: str | None):
    return query if tenant_value is None else query.where(endpoints.c.tenant_value == tenant_value)


def lock(conn: Connection, project_id: str, ids: list[str]) -> None:
    """Serialize writers of these endpoints until the transaction ends."""
    lock_keys(conn, f"endpoint:{project_id}", ids)


def get_many(conn: Connection, project_id: str, ids: list[str]) -> dict[str, dict]:
    """Stored rows by id (every tenant's: the caller decides what it may see)."""
    rows = keyed_lookup(conn, endpoints, ("id", "tenant_value", "document"), "project_id", "id",
                        scope_value=project_id, keys=ids)
    return {row.id: {"tenant_value": row.tenant_value, "document": row.document} for row in rows}


def address_holders(conn: Connection, project_id: str, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Which endpoint id holds each (channel type, address) pair in the project."""
    if not pairs:
        return {}
    wanted = set(pairs)
    rows = keyed_lookup(conn, endpoints, ("channel_type", "address", "id"), "project_id", "address",
                        scope_value=project_id, keys=list({address for _, address in pairs}))
    return {(row.channel_type, row.address): row.id for row in rows if (row.channel_type, row.address) in wanted}


def save(conn: Connection, project_id: str, docs: list[dict], tenant_values: list[str | None]) -> None:
    """Insert or replace endpoint documents (with their tenant column) in one statement."""
    rows = [
        {
            "project_id": project_id,
            "id": doc["Id"],
            "channel_type": doc.get("ChannelType"),
            "address": doc.get("Address"),
            "user_id": doc.get("User", {}).get("UserId"),
            "tenant_value": tenant_value,
            "document": doc,
        }
        for doc, tenant_value in zip(docs, tenant_values, strict=True)
    ]
    try:
        upsert(conn, endpoints, rows, _KEYS)
    except sa.exc.IntegrityError as error:
        # A concurrent writer claimed an address between our check and this write.
        if is_unique_violation(error):
            raise Conflict("Address conflict: a channel and address in this request were just claimed by "
                           "another request; channel and address must be unique within a project") from None
        raise


def by_user(conn: Connection, project_id: str, user_id: str, tenant_value: str | None) -> list[dict]:
    query = sa.select(endpoints.c.document).where(
        endpoints.c.project_id == project_id, endpoints.c.user_id == user_id
    )
    query = _tenant_filter(query, tenant_value).order_by(endpoints.c.id)
    return list(conn.execute(query).scalars())


def delete(conn: Connection, project_id: str, ids: list[str]) -> None:
    conn.execute(endpoints.delete().where(endpoints.c.project_id == project_id, endpoints.c.id.in_(ids)))


def delete_for_tenant(conn: Connection, project_id: str, tenant_value: str) -> int:
    result = conn.execute(
        endpoints.delete().where(endpoints.c.project_id == project_id, endpoints.c.tenant_value == tenant_value)
    )
    return result.rowcount


def delete_project(conn: Connection, project_id: str) -> None:
    conn.execute(endpoints.delete().where(endpoints.c.project_id == project_id))


def iter_with_attributes(conn: Connection, project_id: str, tenant_value: str | None, batch: int = 1000):
    """Yield (id, tenant_value, document) for every endpoint in the project, in id order, by pages."""
    last = None
    while True:
        query = sa.select(endpoints.c.id, endpoints.c.tenant_value, endpoints.c.document).where(
            endpoints.c.project_id == project_id
        )
        if last is not None:
            query = query.where(endpoints.c.id > last)
        rows = conn.execute(_tenant_filter(query, tenant_value).order_by(endpoints.c.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
