"""Principals and their access keys (secrets are stored encrypted by the services layer)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import access_keys, principals, tenants

_INSERT_PRINCIPALS = principals.insert()

_INSERT_ACCESS_KEYS = access_keys.insert()


def insert_principal(conn: Connection, **values) -> None:
    conn.execute(_INSERT_PRINCIPALS, values)


def insert_access_key(conn: Connection, **values) -> None:
    conn.execute(_INSERT_ACCESS_KEYS, values)


# Runs on every request, so it is built once; each call only binds the key id.
_ACTIVE_KEY = (
    sa.select(
        access_keys.c.secret_ciphertext,
        principals.c.id.label("principal_id"),
        principals.c.account_id,
        principals.c.scope,
        principals.c.project_id,
        principals.c.tenant_id,
        tenants.c.model.label("tenant_model"),
        tenants.c.status.label("tenant_status"),
        tenants.c.project_id.label("tenant_project_id"),
        tenants.c.attribute_key.label("tenant_attribute_key"),
        tenants.c.attribute_value.label("tenant_attribute_value"),
    )
    .join(principals, principals.c.id == access_keys.c.principal_id)
    .outerjoin(tenants, tenants.c.id == principals.c.tenant_id)
    .where(access_keys.c.id == sa.bindparam("key_id"), access_keys.c.status == "active")
)


def find_active_key(conn: Connection, access_key_id: str) -> dict | None:
    """The key, its principal and (for tenant principals) the tenant's placement, in one read."""
    row = conn.execute(_ACTIVE_KEY, {"key_id": access_key_id}).mappings().first()
    return dict(row) if row else None


def revoke_keys(conn: Connection, *, revoked_at: str, tenant_id: str | None = None,
                account_id: str | None = None) -> int:
    """Revoke every active key of a tenant's principals, or of every principal in an account."""
    owners = sa.select(principals.c.id)
    owners = owners.where(principals.c.tenant_id == tenant_id) if tenant_id else owners.where(
        principals.c.account_id == account_id
    )
    result = conn.execute(
        access_keys.update()
        .where(access_keys.c.principal_id.in_(owners), access_keys.c.status == "active")
        .values(status="revoked", revoked_at=revoked_at)
    )
    return result.rowcount


_PRINCIPAL = (
    sa.select(*[c for c in _ACTIVE_KEY.selected_columns if c.name != "secret_ciphertext"])
    .select_from(principals.outerjoin(tenants, tenants.c.id == principals.c.tenant_id))
    .where(principals.c.id == sa.bindparam("principal_id"))
)


def find_principal(conn: Connection, principal_id: str) -> dict | None:
    """A principal with its tenant's placement and status (the same fields as find_active_key)."""
    row = conn.execute(_PRINCIPAL, {"principal_id": principal_id}).mappings().first()
    return dict(row) if row else None
