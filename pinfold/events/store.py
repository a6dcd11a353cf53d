"""Event streams (one per project, many projects per stream) and the pump's cursor per sink."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import upsert
from pinfold.db.tables import event_outbox, event_sinks, event_streams


def put(conn: Connection, row: dict) -> None:
    upsert(conn, event_streams, [row], ["project_id"])


def get(conn: Connection, project_id: str) -> dict | None:
    row = conn.execute(sa.select(event_streams).where(event_streams.c.project_id == project_id)).mappings().first()
    return dict(row) if row else None


def delete(conn: Connection, project_id: str) -> None:
    conn.execute(event_streams.delete().where(event_streams.c.project_id == project_id))


def destinations(conn: Connection) -> dict[str, str]:
    """Every configured stream: project id → destination ARN."""
    return dict(conn.execute(sa.select(event_streams.c.project_id, event_streams.c.destination_stream_arn)).all())


def sink(conn: Connection, name: str) -> dict | None:
    row = conn.execute(sa.select(event_sinks).where(event_sinks.c.name == name)).mappings().first()
    return dict(row) if row else None


def ensure_sink(conn: Connection, name: str, start_after: int) -> None:
    """Start a sink's cursor after `start_after` unless it has one already."""
    if sink(conn, name) is None:
        conn.execute(event_sinks.insert().values(name=name, delivered_seq=start_after))


def update_sink(conn: Connection, name: str, **values) -> None:
    conn.execute(event_sinks.update().where(event_sinks.c.name == name).values(**values))


def sinks(conn: Connection) -> list[dict]:
    return [dict(row) for row in conn.execute(sa.select(event_sinks).order_by(event_sinks.c.name)).mappings()]


def drop_sinks(conn: Connection, names: list[str]) -> None:
    if names:
        conn.execute(event_sinks.delete().where(event_sinks.c.name.in_(names)))


def last_seq(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(event_outbox.c.seq), 0))).scalar_one()


def outbox_range(conn: Connection, first: int, last: int) -> list[dict]:
    query = (sa.select(event_outbox.c.seq, event_outbox.c.project_id, event_outbox.c.event_id,
                       event_outbox.c.arrival_ms, event_outbox.c.record)
             .where(event_outbox.c.seq.between(first, last)).order_by(event_outbox.c.seq))
    return [dict(row) for row in conn.execute(query).mappings()]


def outbox_heads_after(conn: Connection, seq: int, limit: int) -> list[dict]:
    """The seq and arrival of up to `limit` records after `seq`, without the records: what a sink
    needs to say whether to deliver now, at a fraction of the cost of decoding them."""
    query = (sa.select(event_outbox.c.seq, event_outbox.c.arrival_ms)
             .where(event_outbox.c.seq > seq).order_by(event_outbox.c.seq).limit(limit))
    return [dict(row) for row in conn.execute(query).mappings()]


def trim_outbox(conn: Connection, through: int) -> int:
    """Delete records every sink has (seq up to `through`)."""
    return conn.execute(event_outbox.delete().where(event_outbox.c.seq <= through)).rowcount


def lags(conn: Connection) -> list[tuple[str, int]]:
    """Each sink's name and how many outbox records it has not yet delivered."""
    newest = last_seq(conn)
    return [(sink["name"], max(0, newest - sink["delivered_seq"])) for sink in sinks(conn)]
