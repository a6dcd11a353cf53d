"""SMS configuration sets' event destinations, and two-way channels, as sinks of the event pump.

Each enabled event destination receives End User Messaging's TEXT_* records (sms/events.py
`text_events`) of the texts sent with its configuration set whose type it matches
(MatchingEventTypes; ALL and TEXT_ALL match every type):

- KinesisFirehoseDestination: newline-delimited JSON files at the delivery stream's location
  (Settings.firehose_location of its name), under `sms-events/account=<id>/date=<day>/`;
- SnsDestination: NATS JetStream, on the stream named after the topic as for SES's SNS destinations,
  subject `<stream>.<account>.<configuration set>`;
- CloudWatchLogsDestination: stored only. Pinfold has no CloudWatch Logs, so it delivers nowhere.

Each record carries a `pinfold` member (event id, tenant, account, project, region, configuration
set), so a destination shared by tenants can tell them apart. A new destination hears of texts from
the pump's next pass on. `TwoWaySink` publishes inbound messages that sms/two_way.py wrote down.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.core.errors import InvalidInput
from pinfold.db.tables import sms_resources
from pinfold.events.destinations import destination as stream_destination
from pinfold.events.sinks.base import FILTER_BATCH, Outlets, Sink
from pinfold.events.sinks.nats import stream_name
from pinfold.sms import two_way
from pinfold.sms.events import destined, text_events

EVERY_TYPE = frozenset({"ALL", "TEXT_ALL"})  # MatchingEventTypes that take every TEXT_* record
_OWN = ("event_id", "tenant_id", "account_id", "project_id", "region", "configuration_set")


def sink_name(account_id: str, region: str, configuration_set: str, destination_name: str) -> str:
    """The cursor name of one SMS event destination."""
    return ":".join(("sms", account_id, region, configuration_set, destination_name))


def destination_records(record: dict, types: set[str]) -> list[dict]:
    """The TEXT_* records of one `_SMS.*` record that a destination matching `types` receives, each
    with Pinfold's own member."""
    own = record.get("pinfold") or {}
    pinfold = {key: own.get(key) for key in _OWN}
    return [{**event, "pinfold": pinfold} for event in text_events(record)
            if types & EVERY_TYPE or event["eventType"] in types]


class SmsSink(Sink):
    """One enabled Firehose or SNS event destination of one configuration set."""

    def __init__(self, account_id: str, region: str, configuration_set: str, definition: dict, outlets: Outlets,
                 target: tuple[str, str]) -> None:
        self.account_id, self.region, self.configuration_set = account_id, region, configuration_set
        self.name = sink_name(account_id, region, configuration_set, definition["EventDestinationName"])
        self.types = set(definition["MatchingEventTypes"])
        self.outlets = outlets
        self.kind, self.target = target  # ("files", location) or ("nats", stream)

    def wants(self, row: dict) -> bool:
        return row["account_id"] == self.account_id and destined(row["record"], self.account_id, self.region,
                                                                  self.configuration_set, self.types)

    def deliver(self, rows: list[dict], batch: str) -> None:
        events = [event for row in rows for event in destination_records(row["record"], self.types)]
        if not events:
            return
        if self.kind == "files":
            self._write_files(events, batch)
            return
        subject = f"{self.target}.{self.account_id}.{stream_name(self.configuration_set)}"
        # One _SMS.* record may become two TEXT_* records: each needs its own id for JetStream's de-duplication.
        self.outlets.nats().publish(self.target, [
            (subject, f"{event['pinfold']['event_id']}:{event['eventType']}", orjson.dumps(event))
            for event in events])

    def _write_files(self, events: list[dict], batch: str) -> None:
        lake = self.outlets.files(self.target)
        day = datetime.fromtimestamp(events[0]["eventTimestamp"] / 1000, UTC).strftime("%Y-%m-%d")
        folder = f"{lake.root}/sms-events/account={self.account_id}/date={day}"
        body = b"".join(orjson.dumps(event) + b"\n" for event in events)

        def write(path: str) -> None:
            with lake.filesystem.open_output_stream(path) as out:
                out.write(body)
        # Lake.write_json is SES-shaped (its folder and day come from `mail`); _put is its whole-file writer.
        lake._put(folder, f"{batch}.json", write)


class TwoWaySink(Sink):
    """Inbound messages to two-way numbers and pools, published to their topics' NATS streams."""

    name = "sms:two-way"
    from_start = True  # always active: a message written before the first pass must not be passed over
    batch = FILTER_BATCH

    def __init__(self, outlets: Outlets) -> None:
        self.outlets = outlets

    def wants(self, row: dict) -> bool:
        # The member is written by sms/two_way.py only; PutEvents cannot forge a record's `pinfold`.
        return row["event_type"] == two_way.RECORD_TYPE and two_way.MEMBER in (row["record"].get("pinfold") or {})

    def deliver(self, rows: list[dict], batch: str) -> None:
        by_stream: dict[str, list[tuple[str, str, bytes]]] = defaultdict(list)
        for row in rows:
            publication = row["record"]["pinfold"][two_way.MEMBER]
            by_stream[publication["stream"]].append(
                (publication["subject"], row["event_id"], orjson.dumps(publication["payload"])))
        for stream, messages in sorted(by_stream.items()):
            self.outlets.nats().publish(stream, messages)


class SmsDestinations:
    """The sink source of every account's enabled SMS event destinations, and of two-way publishing."""

    def __init__(self, outlets: Outlets, firehose_location: Callable[[str], str]) -> None:
        self.outlets = outlets
        self.firehose_location = firehose_location  # delivery stream name → its file location
        self.two_way = TwoWaySink(outlets)

    def sinks(self, conn: Connection) -> list[Sink]:
        found: list[Sink] = [self.two_way]
        for row in _configuration_sets(conn):
            for definition in row["document"].get("EventDestinations") or []:
                target = self._target(definition) if definition.get("Enabled") else None
                if target is not None:
                    found.append(SmsSink(row["account_id"], row["region"], row["id"], definition, self.outlets,
                                         target))
        return found

    def _target(self, definition: dict) -> tuple[str, str] | None:
        """Where a destination delivers: ("files", location), ("nats", stream), or None (CloudWatch Logs)."""
        if definition.get("KinesisFirehoseDestination"):
            try:
                stream = stream_destination(definition["KinesisFirehoseDestination"].get("DeliveryStreamArn"))
            except InvalidInput:  # configuration_sets checks the ARN; an older document may not have been
                return None
            return "files", self.firehose_location(stream.name)
        if definition.get("SnsDestination"):
            topic = (definition["SnsDestination"].get("TopicArn") or "").split(":", 5)[-1]
            return ("nats", stream_name(topic)) if topic else None
        return None

    def close(self) -> None:
        self.outlets.close()


def _configuration_sets(conn: Connection) -> list[dict]:
    """Every account's SMS configuration sets (account_id, region, id, document). Bounded by the
    accounts' quota of sets; belongs in sms/store/resources.py, whose owner is asked to move it there."""
    table = sms_resources
    query = (sa.select(table.c.account_id, table.c.region, table.c.id, table.c.document)
             .where(table.c.kind == "configuration-set").order_by(table.c.account_id, table.c.region, table.c.id))
    return [dict(found._mapping) for found in conn.execute(query)]
