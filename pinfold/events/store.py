"""Event streams (one per project, many projects per stream) and the pump's cursor per sink."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
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


class OutboxRow(dict):
    """An outbox record as the pump hands it to sinks: seq, account_id, project_id, event_id,
    event_type and arrival_ms, and `record`, decoded from its JSON text on first use. A sink that passes rows over
    by their event type (most do, for most records) never pays for decoding them."""

    __slots__ = ("_text",)

    def __init__(self, seq: int, account_id: str, project_id: str, event_id: str, event_type: str,
                 arrival_ms: int, text: str) -> None:
        super().__init__(seq=seq, account_id=account_id, project_id=project_id, event_id=event_id,
                         event_type=event_type, arrival_ms=arrival_ms)
        self._text = text

    @property
    def text(self) -> str:
        """The record as the outbox holds it: JSON text."""
        return self._text

    def __missing__(self, key: str):
        if key != "record":
            raise KeyError(key)
        self["record"] = record = orjson.loads(self._text)
        return record


def outbox_range(conn: Connection, first: int, last: int) -> list[OutboxRow]:
    """The records with seq from `first` to `last`. The record is read as text (not through the
    JSON type, which would decode every one at once) and decoded when a sink asks for it."""
    c = event_outbox.c
    query = (sa.select(c.seq, c.account_id, c.project_id, c.event_id, c.event_type, c.arrival_ms,
                       sa.cast(c.record, sa.Text))
             .where(c.seq.between(first, last)).order_by(c.seq))
    return [OutboxRow(*row) for row in conn.execute(query)]


@dataclass(frozen=True)
class Waiting:
    """What waits for a sink after its cursor, up to its batch: the range, how many, and the arrival
    of the oldest; what a sink needs to say whether to deliver now, without reading any record."""

    first: int
    last: int
    count: int
    oldest_arrival_ms: int


def waiting(conn: Connection, seq: int, limit: int) -> Waiting | None:
    """Up to `limit` records after `seq`, summed up; None when there are none. The pump asks this of
    every sink on every pass, and most often the answer is "fewer than a batch": then it comes from
    two index lookups, the first record after `seq` and the newest, with the count taken from their
    seqs (at most that many; a rolled-back append leaves a gap) and the first record's arrival as
    the oldest (records are appended in arrival order, give or take a transaction). Only a full
    window is counted row by row."""
    c = event_outbox.c
    head = conn.execute(sa.select(c.seq, c.arrival_ms).where(c.seq > seq).order_by(c.seq).limit(1)).first()
    if head is None:
        return None
    newest = last_seq(conn)
    if newest - head.seq < limit:
        return Waiting(head.seq, newest, newest - head.seq + 1, head.arrival_ms)
    window = sa.select(c.seq, c.arrival_ms).where(c.seq > seq).order_by(c.seq).limit(limit).subquery()
    first, last, count, oldest = conn.execute(
        sa.select(sa.func.min(window.c.seq), sa.func.max(window.c.seq), sa.func.count(),
                  sa.func.min(window.c.arrival_ms))).one()
    return Waiting(first, last, count, oldest)


def trim_outbox(conn: Connection, through: int, limit: int) -> int:
    """Delete the oldest `limit` records every sink has (seq up to `through`); returns how many went."""
    c = event_outbox.c
    oldest = sa.select(c.seq).where(c.seq <= through).order_by(c.seq).limit(limit).scalar_subquery()
    return conn.execute(event_outbox.delete().where(c.seq.in_(oldest))).rowcount


def lags(conn: Connection) -> list[tuple[str, int]]:
    """Each sink's name and how many outbox records it has not yet delivered."""
    newest = last_seq(conn)
    return [(sink["name"], max(0, newest - sink["delivered_seq"])) for sink in sinks(conn)]
