"""An account's SMS resources in a region, one row each: `kind` is the model's ResourceType
("phone-number", "sender-id", "pool", "opt-out-list", "configuration-set",
"verified-destination-number", and "account" for the account's own SMS settings), `document` the
resource's information shape as the API answers it, less what is worked out on reading (its ARN)."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import sms_resources as table


def _where(account_id: str, region: str, kind: str):
    c = table.c
    return sa.and_(c.account_id == account_id, c.region == region, c.kind == kind)


def _row(found) -> dict:
    return {**found._mapping, "document": dict(found.document)}


def get(conn: Connection, account_id: str, region: str, kind: str, resource_id: str) -> dict | None:
    """The row (id, name, pool_id, document, created_at), or None."""
    found = conn.execute(sa.select(table).where(_where(account_id, region, kind), table.c.id == resource_id)).first()
    return _row(found) if found else None


def by_name(conn: Connection, account_id: str, region: str, kind: str, name: str) -> dict | None:
    found = conn.execute(sa.select(table).where(_where(account_id, region, kind), table.c.name == name)).first()
    return _row(found) if found else None


def listing(conn: Connection, account_id: str, region: str, kind: str, *, after: str | None = None,
            limit: int | None = None, pool_id: str | None = None) -> list[dict]:
    """Rows of one kind in id order, after the id `after`; those in `pool_id` when given."""
    query = sa.select(table).where(_where(account_id, region, kind)).order_by(table.c.id)
    if after is not None:
        query = query.where(table.c.id > after)
    if pool_id is not None:
        query = query.where(table.c.pool_id == pool_id)
    if limit is not None:
        query = query.limit(limit)
    return [_row(found) for found in conn.execute(query)]


def count(conn: Connection, account_id: str, region: str, kind: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(_where(account_id, region, kind))).scalar()


def insert(conn: Connection, account_id: str, region: str, kind: str, resource_id: str, name: str, document: dict,
           *, pool_id: str | None = None, created_at: float | None = None) -> None:
    conn.execute(table.insert().values(account_id=account_id, region=region, kind=kind, id=resource_id, name=name,
                                       pool_id=pool_id, document=document,
                                       created_at=time.time() if created_at is None else created_at))


def update(conn: Connection, account_id: str, region: str, kind: str, resource_id: str, **values) -> int:
    """Change `document`, `pool_id` or `name`; how many rows changed (0: it is gone)."""
    statement = table.update().where(_where(account_id, region, kind), table.c.id == resource_id).values(**values)
    return conn.execute(statement).rowcount


def delete(conn: Connection, account_id: str, region: str, kind: str, resource_id: str) -> int:
    return conn.execute(table.delete().where(_where(account_id, region, kind), table.c.id == resource_id)).rowcount


def ensure(conn: Connection, account_id: str, region: str, kind: str, resource_id: str, name: str,
           document: dict) -> dict:
    """The row, made with `document` if it does not exist yet (the `Default` opt-out list, the
    account's settings)."""
    found = get(conn, account_id, region, kind, resource_id)
    if found is None:
        insert(conn, account_id, region, kind, resource_id, name, document)
        found = get(conn, account_id, region, kind, resource_id)
    return found


def phone_number_anywhere(conn: Connection, number: str) -> dict | None:
    """The phone number row for an E.164 number, whichever account holds it (an inbound message
    names only the number it was sent to), with its account_id and region."""
    query = sa.select(table).where(table.c.kind == "phone-number", table.c.name == number).order_by(table.c.created_at)
    found = conn.execute(query).first()
    return _row(found) if found else None
