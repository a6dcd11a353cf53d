"""SES v2 configuration sets, their event destinations, and the operator's event-bus webhooks.

`get()` is the view the sending pipeline reads; the other functions serve the configuration API.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.core.arns import configuration_set_arn
from pinfold.db.database import upsert
from pinfold.db.tables import configuration_set_event_destinations as destinations_table
from pinfold.db.tables import configuration_sets, event_bus_webhooks


def arn(account_id: str, region: str, name: str) -> str:
    return configuration_set_arn(region, account_id, name)


def _where(account_id: str, region: str, name: str):
    c = configuration_sets.c
    return sa.and_(c.account_id == account_id, c.region == region, c.name == name)


def insert(conn: Connection, row: dict) -> None:
    conn.execute(configuration_sets.insert().values(**row))


def row(conn: Connection, account_id: str, region: str, name: str) -> dict | None:
    """The stored row (options as the API names them), or None."""
    found = conn.execute(sa.select(configuration_sets).where(_where(account_id, region, name))).mappings().first()
    return dict(found) if found else None


def update(conn: Connection, account_id: str, region: str, name: str, **values) -> None:
    conn.execute(configuration_sets.update().where(_where(account_id, region, name)).values(**values))


def delete(conn: Connection, account_id: str, region: str, name: str) -> None:
    """Delete the set and its event destinations."""
    d = destinations_table.c
    conn.execute(destinations_table.delete().where(
        d.account_id == account_id, d.region == region, d.configuration_set == name))
    conn.execute(configuration_sets.delete().where(_where(account_id, region, name)))


def count(conn: Connection, account_id: str, region: str) -> int:
    c = configuration_sets.c
    query = sa.select(sa.func.count()).where(c.account_id == account_id, c.region == region)
    return conn.execute(query).scalar_one()


def names_page(conn: Connection, account_id: str, region: str, *, after: str | None, limit: int,
               only: set[str] | None = None, contains: str | None = None) -> list[str]:
    """Up to `limit` names in name order after `after`; `only` narrows to those names, `contains` to
    names holding that substring."""
    c = configuration_sets.c
    query = sa.select(c.name).where(c.account_id == account_id, c.region == region)
    if contains:
        query = query.where(c.name.contains(contains, autoescape=True))
    if after is not None:
        query = query.where(c.name > after)
    if only is not None:
        query = query.where(c.name.in_(sorted(only)))
    return list(conn.execute(query.order_by(c.name).limit(limit)).scalars())


def destinations(conn: Connection, account_id: str, region: str, name: str) -> list[dict]:
    """The set's event destinations in name order."""
    d = destinations_table.c
    query = (sa.select(destinations_table)
             .where(d.account_id == account_id, d.region == region, d.configuration_set == name)
             .order_by(d.name))
    return [dict(found) for found in conn.execute(query).mappings()]


def put_destination(conn: Connection, values: dict) -> None:
    upsert(conn, destinations_table, [values], ["account_id", "region", "configuration_set", "name"])


def delete_destination(conn: Connection, account_id: str, region: str, name: str, destination: str) -> bool:
    d = destinations_table.c
    result = conn.execute(destinations_table.delete().where(
        d.account_id == account_id, d.region == region, d.configuration_set == name, d.name == destination))
    return result.rowcount > 0


def get(conn: Connection, account_id: str, region: str, name: str) -> dict | None:
    """What a send through this set must honour, or None if there is no such set.

    `suppression` is None when the account's settings apply, else the reasons that add an address
    to the suppression list for mail sent through this set (an empty list: none do).
    """
    found = row(conn, account_id, region, name)
    if found is None:
        return None
    options, suppression = found["options"], found["suppression"]
    return {
        "name": name,
        "arn": arn(account_id, region, name),
        "sending_enabled": found["sending_enabled"],
        "suppression": None if suppression is None or "SuppressedReasons" not in suppression
        else list(suppression["SuppressedReasons"]),
        "suppression_scope": (suppression or {}).get("SuppressionScope"),
        "tracking": dict(options.get("TrackingOptions") or {}),
        "delivery": dict(options.get("DeliveryOptions") or {}),
        "reputation": dict(options.get("ReputationOptions") or {}),
        "event_destinations": [
            {"name": d["name"], "enabled": d["enabled"], "matching_event_types": list(d["matching_event_types"]),
             "sink": d["sink"], "target": d["target"]}
            for d in destinations(conn, account_id, region, name)
        ],
    }


def put_webhook(conn: Connection, values: dict) -> None:
    upsert(conn, event_bus_webhooks, [values], ["event_bus_arn"])


def webhook(conn: Connection, event_bus_arn: str) -> dict | None:
    """The webhook standing in for an EventBridge bus: url and secret_ciphertext (None: unsigned)."""
    query = sa.select(event_bus_webhooks).where(event_bus_webhooks.c.event_bus_arn == event_bus_arn)
    found = conn.execute(query).mappings().first()
    return dict(found) if found else None


def webhooks(conn: Connection) -> list[dict]:
    query = sa.select(event_bus_webhooks).order_by(event_bus_webhooks.c.event_bus_arn)
    return [dict(found) for found in conn.execute(query).mappings()]


def delete_webhook(conn: Connection, event_bus_arn: str) -> bool:
    result = conn.execute(event_bus_webhooks.delete().where(event_bus_webhooks.c.event_bus_arn == event_bus_arn))
    return result.rowcount > 0


def publishing(conn: Connection) -> list[dict]:
    """Every enabled event destination with somewhere to deliver to (lake, NATS, webhook), any account."""
    d = destinations_table.c
    query = (sa.select(d.account_id, d.region, d.configuration_set, d.name, d.matching_event_types, d.sink, d.target)
             .where(d.enabled.is_(True), d.sink.in_(("lake", "nats", "webhook"))))
    return [dict(found) for found in conn.execute(query).mappings()]
