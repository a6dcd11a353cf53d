"""The organization and its accounts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import accounts, organizations

_INSERT_ORGANIZATIONS = organizations.insert()

_INSERT_ACCOUNTS = accounts.insert()


def get_organization(conn: Connection) -> dict | None:
    """The installation's organization (there is at most one)."""
    row = conn.execute(sa.select(organizations).limit(1)).mappings().first()
    return dict(row) if row else None


def insert_organization(conn: Connection, **values) -> None:
    conn.execute(_INSERT_ORGANIZATIONS, values)


def set_shared_account(conn: Connection, organization_id: str, account_id: str) -> None:
    conn.execute(
        organizations.update()
        .where(organizations.c.id == organization_id)
        .values(shared_account_id=account_id)
    )


def insert_account(conn: Connection, **values) -> None:
    conn.execute(_INSERT_ACCOUNTS, values)


_ACCOUNT = sa.select(accounts).where(accounts.c.id == sa.bindparam("id"))


def get_account(conn: Connection, account_id: str) -> dict | None:
    row = conn.execute(_ACCOUNT, {"id": account_id}).mappings().first()
    return dict(row) if row else None


def list_accounts(conn: Connection) -> list[dict]:
    rows = conn.execute(sa.select(accounts).order_by(accounts.c.created_at, accounts.c.id))
    return [dict(row) for row in rows.mappings()]


def update_account(conn: Connection, account_id: str, **values) -> None:
    conn.execute(accounts.update().where(accounts.c.id == account_id).values(**values))
