"""SES v2 contact lists per account and region, and the contacts on each (keyed by lower-cased address)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.core.arns import contact_list_arn
from pinfold.db.tables import contact_lists, contacts


def arn(account_id: str, region: str, name: str) -> str:
    return contact_list_arn(region, account_id, name)


def _list_where(account_id: str, region: str, name: str):
    c = contact_lists.c
    return sa.and_(c.account_id == account_id, c.region == region, c.name == name)


def _contact_where(account_id: str, region: str, list_name: str, address_key: str):
    c = contacts.c
    return sa.and_(c.account_id == account_id, c.region == region, c.contact_list == list_name,
                   c.address_key == address_key)


# --- lists --------------------------------------------------------------------------------------------

def insert(conn: Connection, row: dict) -> None:
    conn.execute(contact_lists.insert().values(**row))


def row(conn: Connection, account_id: str, region: str, name: str) -> dict | None:
    found = conn.execute(sa.select(contact_lists).where(_list_where(account_id, region, name))).mappings().first()
    return dict(found) if found else None


def update(conn: Connection, account_id: str, region: str, name: str, **values) -> None:
    conn.execute(contact_lists.update().where(_list_where(account_id, region, name)).values(**values))


def delete(conn: Connection, account_id: str, region: str, name: str) -> None:
    """Delete the list and every contact on it."""
    c = contacts.c
    conn.execute(contacts.delete().where(c.account_id == account_id, c.region == region, c.contact_list == name))
    conn.execute(contact_lists.delete().where(_list_where(account_id, region, name)))


def count(conn: Connection, account_id: str, region: str, *, owner: str | None = None,
          any_owner: bool = False) -> int:
    """Lists in the account, all of them (`any_owner`) or those of one owner (None: the account's own)."""
    c = contact_lists.c
    query = sa.select(sa.func.count()).where(c.account_id == account_id, c.region == region)
    if not any_owner:
        query = query.where(c.owner.is_(None) if owner is None else c.owner == owner)
    return conn.execute(query).scalar_one()


def page(conn: Connection, account_id: str, region: str, *, after: str | None, limit: int,
         owner: str | None = None, any_owner: bool = True) -> list[dict]:
    """Up to `limit` (name, updated_at) rows in name order after `after`, of all owners or of one."""
    c = contact_lists.c
    query = sa.select(c.name, c.updated_at).where(c.account_id == account_id, c.region == region)
    if not any_owner:
        query = query.where(c.owner.is_(None) if owner is None else c.owner == owner)
    if after is not None:
        query = query.where(c.name > after)
    return [dict(found) for found in conn.execute(query.order_by(c.name).limit(limit)).mappings()]


# --- contacts -----------------------------------------------------------------------------------------

def insert_contact(conn: Connection, row: dict) -> None:
    conn.execute(contacts.insert().values(**row))


def contact(conn: Connection, account_id: str, region: str, list_name: str, address_key: str) -> dict | None:
    query = sa.select(contacts).where(_contact_where(account_id, region, list_name, address_key))
    found = conn.execute(query).mappings().first()
    return dict(found) if found else None


def update_contact(conn: Connection, account_id: str, region: str, list_name: str, address_key: str,
                   **values) -> None:
    conn.execute(contacts.update().where(_contact_where(account_id, region, list_name, address_key))
                 .values(**values))


def delete_contact(conn: Connection, account_id: str, region: str, list_name: str, address_key: str) -> None:
    conn.execute(contacts.delete().where(_contact_where(account_id, region, list_name, address_key)))


def contacts_page(conn: Connection, account_id: str, region: str, list_name: str, *, after: str | None,
                  limit: int) -> list[dict]:
    """Up to `limit` contacts of a list in address order after the address key `after`."""
    c = contacts.c
    query = sa.select(contacts).where(c.account_id == account_id, c.region == region, c.contact_list == list_name)
    if after is not None:
        query = query.where(c.address_key > after)
    return [dict(found) for found in conn.execute(query.order_by(c.address_key).limit(limit)).mappings()]


def contacts_by_address(conn: Connection, account_id: str, region: str, list_name: str,
                        address_keys: list[str]) -> dict[str, dict]:
    """The contacts of a list among these lower-cased addresses, by address key."""
    c = contacts.c
    found: dict[str, dict] = {}
    keys = sorted(set(address_keys))
    for first in range(0, len(keys), 500):
        query = sa.select(contacts).where(c.account_id == account_id, c.region == region,
                                          c.contact_list == list_name, c.address_key.in_(keys[first:first + 500]))
        found.update({row["address_key"]: dict(row) for row in conn.execute(query).mappings()})
    return found
