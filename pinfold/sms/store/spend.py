"""SMS spend per account, region and calendar month (UTC), in US dollars."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import upsert
from pinfold.db.tables import sms_spend as table


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
