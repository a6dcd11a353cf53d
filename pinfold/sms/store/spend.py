"""SMS spend per account, region and calendar month (UTC), and per tenant and month, in US dollars."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import upsert
from pinfold.db.tables import sms_spend as table
from pinfold.db.tables import sms_tenant_spend as tenant_table


def month_of(at: float) -> str:
    return time.strftime("%Y-%m", time.gmtime(at))


def spent(conn: Connection, account_id: str, region: str, month: str) -> float:
    query = sa.select(table.c.dollars).where(table.c.account_id == account_id, table.c.region == region,
                                             table.c.month == month)
    return conn.execute(query).scalar() or 0.0


def add(conn: Connection, account_id: str, region: str, month: str, dollars: float) -> None:
    """Add to the month's spend (in the transaction that queues or sends what it pays for)."""
    c = table.c
    changed = conn.execute(table.update().where(c.account_id == account_id, c.region == region, c.month == month)
                           .values(dollars=c.dollars + dollars)).rowcount
    if not changed:
        upsert(conn, table, [{"account_id": account_id, "region": region, "month": month, "dollars": dollars}],
               ["account_id", "region", "month"])


def tenant_spent(conn: Connection, tenant_id: str, month: str) -> float:
    c = tenant_table.c
    query = sa.select(c.dollars).where(c.tenant_id == tenant_id, c.month == month)
    return conn.execute(query).scalar() or 0.0


def add_tenant(conn: Connection, tenant_id: str, month: str, dollars: float) -> None:
    """Add to a tenant's month (in the transaction that queues what it pays for)."""
    c = tenant_table.c
    changed = conn.execute(tenant_table.update().where(c.tenant_id == tenant_id, c.month == month)
                           .values(dollars=c.dollars + dollars)).rowcount
    if not changed:
        upsert(conn, tenant_table, [{"tenant_id": tenant_id, "month": month, "dollars": dollars}],
               ["tenant_id", "month"])
