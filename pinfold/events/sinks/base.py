"""What the pump delivers to: a `Sink` (one destination with its own cursor) and a `SinkSource`
(which sinks are active now), plus `Outlets`, the connections sinks share.

The pump knows no kind of sink. The composition root hands it sources: the lake, projects' event
streams (sinks/streams.py), SES configuration-set event destinations (email/event_destinations.py).
A row the pump hands a sink is an outbox record (events/store.OutboxRow): seq, account_id, project_id, event_id,
event_type, arrival_ms and record; the record is decoded when first read, so `wants` should decide by
the other fields where it can.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.engine import Connection

from pinfold.core.sources import S3Settings
from pinfold.events.sinks.lake import Lake
from pinfold.events.sinks.nats import Publisher
from pinfold.events.store import Waiting

STREAM_BATCH = 1000  # records per pass to a stream sink: streams favour latency over file size
# Records per pass to a sink that wants few of them and picks them by event type (campaign triggers,
# two-way publishing): it passes most over undecoded, and a pass's fixed cost would otherwise cap it
# below what a campaign writes (on PostgreSQL, 1,000 a pass fell 67 s behind a 200,000-message campaign;
# 10,000 a pass kept within 2 s).
FILTER_BATCH = 10_000


class Sink(Protocol):
    """One destination of outbox records. Sinks are values rebuilt by their source on each pass;
    what they deliver through (connections, writers) outlives them. Subclass for the defaults."""

    name: str  # the cursor's name: unique among active sinks and unchanged while the sink exists
    batch: int = STREAM_BATCH  # most records per pass
    from_start: bool = False  # a new cursor starts at the outbox's first record, else after its last

    def ready(self, waiting: Waiting) -> bool:
        """Whether to deliver what waits now rather than wait for more (a flush skips asking). Asked
        of a summary (how many, the oldest's arrival): the records are read once the answer is yes."""
        return True

    def wants(self, row: dict) -> bool:
        """Whether this sink receives the row; the others in a batch are passed over."""
        ...

    def deliver(self, rows: list[dict], batch: str) -> None:
        """Deliver the wanted rows of one batch, or raise. The same batch (same name, same rows) may
        come again after a failure or a crash: delivering it twice must not duplicate anything."""
        ...


class SinkSource(Protocol):
    """Where a family of sinks comes from; asked on every pass, so a new destination soon hears."""

    def sinks(self, conn: Connection) -> list[Sink]:
        """The sinks active now, read inside the pump's read transaction."""
        ...

    def close(self) -> None:
        """Release what the sinks delivered through: the pump has stopped."""
        ...


class Always:
    """A source of sinks that are always active (the lake)."""

    def __init__(self, *sinks: Sink) -> None:
        self._sinks = list(sinks)

    def sinks(self, conn: Connection) -> list[Sink]:
        return self._sinks

    def close(self) -> None:
        pass


class Outlets:
    """The connections sinks deliver through, shared by every source: one NATS publisher, connected
    on first use, and one file writer per location. Each source may call `close()`; a later use
connects again."""

    def __init__(self, nats_url: str, s3: S3Settings | None = None) -> None:
        self.nats_url = nats_url
        self.s3 = s3
        self._publisher: Publisher | None = None
        self._files: dict[str, Lake] = {}

    def nats(self) -> Publisher:
        if self._publisher is None:
            self._publisher = Publisher(self.nats_url)
        return self._publisher

    def files(self, location: str) -> Lake:
        """The writer of files under `location` (file:// or s3://)."""
        if location not in self._files:
            self._files[location] = Lake(location, self.s3)
        return self._files[location]

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None
