"""Suppression lists: the account's (list name "") and each SES tenant's (list name = tenant name).

Addresses are stored lowercased and compared that way. Which list a tenant's sends honour depends
on the tenant's SuppressionScope: TENANT reads only its own list, ACCOUNT (the default) the account's.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import upsert
from pinfold.db.tables import suppressed_destinations as suppressed_table
from pinfold.email.store import tenants as ses_tenants

ACCOUNT_LIST = ""
_LOOKUP_CHUNK = 500


def _list(account_id: str, region: str, list_name: str):
    return sa.and_(suppressed_table.c.account_id == account_id, suppressed_table.c.region == region,
                   suppressed_table.c.tenant_name == list_name)


def put(conn: Connection, account_id: str, region: str, list_name: str, address: str, reason: str, now: float, *,
        message_id: str | None = None, feedback_id: str | None = None) -> dict:
    """Add or refresh an entry of one list; returns the stored row."""
    row = {"account_id": account_id, "region": region, "tenant_name": list_name, "address": address.strip().lower(),
           "reason": reason, "updated_at": now, "message_id": message_id, "feedback_id": feedback_id}
    upsert(conn, suppressed_table, [row], ["account_id", "region", "tenant_name", "address"])
    return row


def get(conn: Connection, account_id: str, region: str, list_name: str, address: str) -> dict | None:
    query = sa.select(suppressed_table).where(_list(account_id, region, list_name),
                                              suppressed_table.c.address == address.strip().lower())
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def delete(conn: Connection, account_id: str, region: str, list_name: str, address: str) -> bool:
    statement = suppressed_table.delete().where(_list(account_id, region, list_name),
                                                suppressed_table.c.address == address.strip().lower())
    return conn.execute(statement).rowcount > 0


def delete_list(conn: Connection, account_id: str, region: str, list_name: str) -> int:
    return conn.execute(suppressed_table.delete().where(_list(account_id, region, list_name))).rowcount


def list_page(conn: Connection, account_id: str, region: str, list_name: str, *, after: str | None, limit: int,
              reasons: list[str] | None = None, start: float | None = None, end: float | None = None) -> list[dict]:
    """Entries in address order after `after`, filtered by reason and by last update in [start, end]."""
    query = sa.select(suppressed_table).where(_list(account_id, region, list_name))
    if after is not None:
        query = query.where(suppressed_table.c.address > after)
    if reasons:
        query = query.where(suppressed_table.c.reason.in_(reasons))
    if start is not None:
        query = query.where(suppressed_table.c.updated_at >= start)
    if end is not None:
        query = query.where(suppressed_table.c.updated_at <= end)
    rows = conn.execute(query.order_by(suppressed_table.c.address).limit(limit)).mappings()
    return [dict(row) for row in rows]


def list_for(conn: Connection, account_id: str, region: str, tenant_name: str | None) -> str:
    """The list a send honours: the tenant's own when its SuppressionScope is TENANT, else the account's."""
    if not tenant_name:
        return ACCOUNT_LIST
    tenant = ses_tenants.get(conn, account_id, region, tenant_name)
    if tenant is not None and tenant["suppression_scope"] == "TENANT":
        return tenant["name"]
    return ACCOUNT_LIST


_SUPPRESSED = sa.select(suppressed_table.c.address, suppressed_table.c.reason).where(
    suppressed_table.c.account_id == sa.bindparam("account_id"), suppressed_table.c.region == sa.bindparam("region"),
    suppressed_table.c.tenant_name == sa.bindparam("list_name"),
    suppressed_table.c.address.in_(sa.bindparam("addresses", expanding=True)))


def suppressed(conn: Connection, account_id: str, region: str, addresses: list[str],
               tenant_name: str | None) -> dict[str, str]:
    """Suppressed addresses among `addresses` (lowercased) → reason, in the list the tenant's scope names."""
    list_name = list_for(conn, account_id, region, tenant_name)
    wanted = sorted({address.strip().lower() for address in addresses})
    found: dict[str, str] = {}
    for first in range(0, len(wanted), _LOOKUP_CHUNK):
        params = {"account_id": account_id, "region": region, "list_name": list_name,
                  "addresses": wanted[first:first + _LOOKUP_CHUNK]}
        found.update(conn.execute(_SUPPRESSED, params).all())
    return found


def add(conn: Connection, account_id: str, region: str, address: str, reason: str, *, tenant_name: str | None = None,
        message_id: str | None = None, feedback_id: str | None = None) -> str:
    """Suppress an address after a bounce or complaint, in the list the tenant's scope names.

    Returns that list's name ("" for the account's). Whether `reason` should suppress at all
    (the account's or tenant's SuppressedReasons) is the caller's decision.
    """
    list_name = list_for(conn, account_id, region, tenant_name)
    put(conn, account_id, region, list_name, address, reason, time.time(), message_id=message_id,
        feedback_id=feedback_id)
    return list_name
