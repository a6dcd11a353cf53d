"""Opted-out destination numbers per opt-out list."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import upsert
from pinfold.db.tables import sms_opted_out_numbers as table


def _where(account_id: str, region: str, list_name: str):
    c = table.c
    return sa.and_(c.account_id == account_id, c.region == region, c.list_name == list_name)


def opted_out(conn: Connection, account_id: str, region: str, list_name: str, numbers: list[str]) -> set[str]:
    """Which of `numbers` are opted out on the list (the sending gate asks this)."""
    if not numbers:
        return set()
    query = sa.select(table.c.number).where(_where(account_id, region, list_name), table.c.opted_out,
                                            table.c.number.in_(sorted(set(numbers))))
    return set(conn.execute(query).scalars())


def get(conn: Connection, account_id: str, region: str, list_name: str, number: str) -> dict | None:
    found = conn.execute(sa.select(table).where(_where(account_id, region, list_name),
                                                table.c.number == number)).mappings().first()
    return dict(found) if found else None


def put(conn: Connection, account_id: str, region: str, list_name: str, number: str, *, end_user: bool,
        at: float) -> None:
    """Opt the number out (again); the time of an earlier removal is kept for the 30-day rule."""
    upsert(conn, table, [{"account_id": account_id, "region": region, "list_name": list_name, "number": number,
                          "opted_out": True, "end_user": end_user, "opted_out_at": at}],
           ["account_id", "region", "list_name", "number"])


def remove(conn: Connection, account_id: str, region: str, list_name: str, number: str, *, at: float) -> int:
    statement = table.update().where(_where(account_id, region, list_name), table.c.number == number,
                                     table.c.opted_out).values(opted_out=False, removed_at=at)
    return conn.execute(statement).rowcount


def listing(conn: Connection, account_id: str, region: str, list_name: str, *, after: str | None = None,
            limit: int = 100, numbers: list[str] | None = None, end_user: bool | None = None) -> list[dict]:
    """Opted-out numbers on the list in number order, after `after`."""
    query = sa.select(table).where(_where(account_id, region, list_name), table.c.opted_out).order_by(table.c.number)
    if after is not None:
        query = query.where(table.c.number > after)
    if numbers:
        query = query.where(table.c.number.in_(sorted(set(numbers))))
    if end_user is not None:
        query = query.where(table.c.end_user == end_user)
    return [dict(found) for found in conn.execute(query.limit(limit)).mappings()]


def drop_list(conn: Connection, account_id: str, region: str, list_name: str) -> None:
    conn.execute(table.delete().where(_where(account_id, region, list_name)))
