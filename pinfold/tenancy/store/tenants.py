"""The tenant registry: tenant → model and placement."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import tenants

_INSERT_TENANTS = tenants.insert()


def insert_tenant(conn: Connection, **values) -> None:
    conn.execute(_INSERT_TENANTS, values)


def get_tenant(conn: Connection, tenant_id: str) -> dict | None:
    row = conn.execute(sa.select(tenants).where(tenants.c.id == tenant_id)).mappings().first()
    return dict(row) if row else None


def list_tenants(conn: Connection, *, status: str | None = None, model: str | None = None) -> list[dict]:
    query = sa.select(tenants)
    if status:
        query = query.where(tenants.c.status == status)
    if model:
        query = query.where(tenants.c.model == model)
    return [dict(row) for row in conn.execute(query.order_by(tenants.c.created_at, tenants.c.id)).mappings()]


def update_tenant(conn: Connection, tenant_id: str, **values) -> None:
    conn.execute(tenants.update().where(tenants.c.id == tenant_id).values(**values))


def attribute_value_taken(conn: Connection, project_id: str, value: str) -> bool:
    query = sa.select(tenants.c.id).where(
        tenants.c.project_id == project_id, tenants.c.attribute_value == value, tenants.c.status != "offboarded"
    )
    return conn.execute(query).first() is not None


def active_in_project(conn: Connection, project_id: str) -> list[str]:
    """Ids of tenants (not offboarded) placed in the project."""
    query = sa.select(tenants.c.id).where(tenants.c.project_id == project_id, tenants.c.status != "offboarded")
    return list(conn.execute(query.order_by(tenants.c.id)).scalars())


def owners_in_project(conn: Connection, project_id: str) -> dict[str | None, str]:
    """The tenants (not offboarded) placed in a project, by their attribute value (None: the
    project's own tenant in sa-mp and ma-mp)."""
    query = sa.select(tenants.c.attribute_value, tenants.c.id).where(
        tenants.c.project_id == project_id, tenants.c.status != "offboarded"
    )
    return dict(conn.execute(query).all())


def sending_paused(conn: Connection, tenant_id: str) -> bool:
    """Whether the tenant's sending is paused (its reputation crossed its policy)."""
    query = sa.select(tenants.c.sending_paused).where(tenants.c.id == tenant_id)
    return bool(conn.execute(query).scalar())
