"""Projects' event streams as sinks: each destination ARN a project's event stream names receives
that project's records. A Kinesis ARN publishes to NATS JetStream (sinks/nats.py), a Firehose ARN
writes Parquet files at its own location (PINFOLD_FIREHOSE_URL, laid out like the lake)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson
from sqlalchemy.engine import Connection

from pinfold.core.errors import InvalidInput
from pinfold.events import store
from pinfold.events.destinations import destination
from pinfold.events.sinks.base import Outlets, Sink
from pinfold.events.sinks.nats import stream_name


@dataclass(frozen=True)
class _ProjectsSink(Sink):
    """A destination that receives the records of the projects whose event stream names it."""

    name: str  # the destination's ARN
    projects: frozenset[str]
    outlets: Outlets

    def wants(self, row: dict) -> bool:
        return row["project_id"] in self.projects


@dataclass(frozen=True)
class StreamSink(_ProjectsSink):
    """A Kinesis stream on NATS JetStream; each message carries its event id, so JetStream drops a
    second copy of a batch sent again."""

    def deliver(self, rows: list[dict], batch: str) -> None:
        stream = stream_name(destination(self.name).name)
        messages = [(f"{stream}.{row['record']['pinfold']['account_id']}.{row['project_id']}", row["event_id"],
                     orjson.dumps(row["record"])) for row in rows]
        self.outlets.nats().publish(stream, messages)


@dataclass(frozen=True)
class FirehoseSink(_ProjectsSink):
    """A Firehose delivery stream: Parquet files at its location, named after the batch (rewritten,
    not duplicated, when the batch comes again)."""

    location: str = ""

    def deliver(self, rows: list[store.OutboxRow], batch: str) -> None:
        self.outlets.files(self.location).write_rows(rows, batch)


class ProjectStreams:
    """The sink source of projects' event streams (events/store.py holds them)."""

    def __init__(self, outlets: Outlets, firehose_location: Callable[[str], str]) -> None:
        self.outlets = outlets
        self.firehose_location = firehose_location  # delivery stream name → its file location

    def sinks(self, conn: Connection) -> list[Sink]:
        projects: dict[str, set[str]] = {}
        for project, arn in store.destinations(conn).items():
            projects.setdefault(arn, set()).add(project)
        return [self._sink(arn, frozenset(members)) for arn, members in projects.items()]

    def _sink(self, arn: str, projects: frozenset[str]) -> Sink:
        try:
            target = destination(arn)
        except InvalidInput:  # cannot be stored today; such a sink fails on delivery and its records wait
            return StreamSink(arn, projects, self.outlets)
        if target.service == "firehose":
            return FirehoseSink(arn, projects, self.outlets, self.firehose_location(target.name))
        return StreamSink(arn, projects, self.outlets)

    def close(self) -> None:
        self.outlets.close()
