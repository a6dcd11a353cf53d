"""The lake: event records as Parquet files under a local folder or any S3-compatible URL.

Layout (Hive-style, readable by DuckDB, Athena, Trino and Spark):

    <root>/events/account=<id>/project=<id>/date=<YYYY-MM-DD>/hour=<HH>/<batch>.parquet

Partitions come from the record's `arrival_timestamp` (when Pinfold took the event in), so a batch
always lands in the same files and rewriting it replaces them: a pump that dies after writing and
before recording its progress writes the same batch again and nothing is duplicated. `LakeSink` is
the pump's sink for it (every event record; a file is rolled by size and age).

Columns keep Pinpoint's names and nesting (`attributes['campaign_id']`, `client.client_id`, ...);
`facets` (email's nested `mail_event`) is JSON text, read with json_extract; Pinfold's own fields
are the struct `pinfold` (event_id, tenant_id, account_id, project_id, region). Partition values are
strings; read them as such (DuckDB: `hive_types_autocast = false`), or account ids lose their zeros.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from urllib.parse import urlparse

import duckdb
import orjson
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pinfold.core.sources import S3Settings
from pinfold.events.store import OutboxRow, Waiting

log = logging.getLogger("pinfold.events")

TEXT_MAP = pa.map_(pa.string(), pa.string())
SCHEMA = pa.schema([
    ("event_type", pa.string()),
    ("event_timestamp", pa.int64()),
    ("arrival_timestamp", pa.int64()),
    ("event_version", pa.string()),
    ("application", pa.struct([("app_id", pa.string()), ("package_name", pa.string()), ("title", pa.string()),
                               ("version_name", pa.string()), ("version_code", pa.string()),
                               ("cognito_identity_pool_id", pa.string()), ("sdk", TEXT_MAP)])),
    ("client", pa.struct([("client_id", pa.string()), ("cognito_id", pa.string())])),
    ("device", pa.struct([("platform", TEXT_MAP), ("make", pa.string()), ("model", pa.string()),
                          ("locale", TEXT_MAP)])),
    ("session", pa.struct([("session_id", pa.string()), ("start_timestamp", pa.int64()),
                           ("stop_timestamp", pa.int64()), ("duration", pa.int64())])),
    ("attributes", TEXT_MAP),
    ("metrics", pa.map_(pa.string(), pa.float64())),
    ("client_context", pa.struct([("custom", TEXT_MAP)])),
    ("facets", pa.string()),
    ("awsAccountId", pa.string()),
    ("pinfold", pa.struct([("event_id", pa.string()), ("tenant_id", pa.string()), ("account_id", pa.string()),
                           ("project_id", pa.string()), ("region", pa.string())])),
])
_STRUCT_FIELDS = {name: [child.name for child in SCHEMA.field(name).type]
                  for name in ("application", "client", "device", "session", "client_context", "pinfold")}
INTERNAL_TYPES = "pinfold."  # the event types of Pinfold's own outbox records, which are not events


def partition(record: dict) -> tuple[str, str, str, str]:
    """(account, project, date, hour) of a record, by its arrival time (UTC)."""
    own = record["pinfold"]
    return own["account_id"], own["project_id"], *_hour(record["arrival_timestamp"] // 3_600_000)


@functools.lru_cache(maxsize=64)
def _hour(hours: int) -> tuple[str, str]:
    """(YYYY-MM-DD, HH) of an hour since the epoch: a batch's records share a few, so each is worked out once."""
    start = datetime.fromtimestamp(hours * 3600, UTC)
    return start.strftime("%Y-%m-%d"), start.strftime("%H")


def partition_path(key: tuple[str, str, str, str]) -> str:
    account, project, date, hour = key
    return f"events/account={account}/project={project}/date={date}/hour={hour}"


def to_table(records: list[dict]) -> pa.Table:
    """Decoded records as a table with the lake's schema, member by member (the pump's outbox rows
    go through DuckDB instead, `Lake.write_rows`; this is what that is checked against)."""
    columns = {name: [] for name in SCHEMA.names}
    for record in records:
        for name in SCHEMA.names:
            columns[name].append(_value(name, record.get(name)))
    return pa.table(columns, schema=SCHEMA)


def _value(name: str, value):
    if name == "facets":
        return None if value is None else orjson.dumps(value).decode()
    if name in _STRUCT_FIELDS:
        value = value or {}
        return {field: _scalar(name, field, value.get(field)) for field in _STRUCT_FIELDS[name]}
    if name == "attributes":
        return [(key, _text(item)) for key, item in (value or {}).items()]
    if name == "metrics":
        return [(key, float(item)) for key, item in (value or {}).items()]
    return value


def _scalar(struct: str, field: str, value):
    if isinstance(value, dict):  # map members: sdk, platform, locale, custom
        return [(key, _text(item)) for key, item in value.items()]
    if struct == "session" and field != "session_id":
        return None if value is None else int(value)
    return None if value is None else _text(value)


def _text(value) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


class Lake:
    """Writes batches of records; `url` is file:///path or s3://bucket/prefix."""

    def __init__(self, url: str, s3: S3Settings | None = None) -> None:
        self.url = url.rstrip("/")
        self.filesystem, self.root = _filesystem(self.url, s3 or S3Settings())
        self._texts = _TextsToTable()

    def write(self, records: list[dict], batch: str) -> list[str]:
        """Write `records` as one file per partition, each named `<batch>.parquet`; returns the paths.

        Writing the same batch again replaces the same files.
        """
        groups: dict[tuple[str, str, str, str], list[dict]] = defaultdict(list)
        for record in records:
            groups[partition(record)].append(record)
        written = []
        for key, members in sorted(groups.items()):
            written.append(self._put(f"{self.root}/{partition_path(key)}", f"{batch}.parquet",
                                     functools.partial(self._parquet, to_table(members))))
        return written

    def write_rows(self, rows: list[OutboxRow], batch: str) -> list[str]:
        """`write` for outbox rows, read from their JSON text by DuckDB (`_TextsToTable`)."""
        try:
            table = self._texts.table([row.text for row in rows])
        except duckdb.Error as error:  # not expected of Pinfold's own JSON; its message may quote a record
            log.warning("DuckDB could not read %d records (%s); converting them in Python", len(rows),
                        type(error).__name__)
            return self.write([row["record"] for row in rows], batch)
        own = table.column("pinfold").combine_chunks()
        keys = zip(own.field("account_id").to_pylist(), own.field("project_id").to_pylist(),
                   table.column("arrival_timestamp").to_pylist(), strict=True)
        groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
        for index, (account, project, arrived) in enumerate(keys):
            groups[(account, project, *_hour(arrived // 3_600_000))].append(index)
        return [self._put(f"{self.root}/{partition_path(key)}", f"{batch}.parquet",
                          functools.partial(self._parquet, table.take(indices)))
                for key, indices in sorted(groups.items())]

    def write_json(self, events: list[dict], batch: str, account_id: str) -> str:
        """SES-shaped events as newline-delimited JSON (what a Firehose delivers by default): one file
        per batch under ses-events/account=<id>/date=<day of the batch's first message>/, replaced if
        written again. The account keeps two accounts' delivery streams of one name apart."""
        day = events[0]["mail"]["timestamp"][:10]
        folder = f"{self.root}/ses-events/account={account_id}/date={day}"
        body = b"".join(orjson.dumps(event) + b"\n" for event in events)

        def write(target: str) -> None:
            with self.filesystem.open_output_stream(target) as out:
                out.write(body)
        return self._put(folder, f"{batch}.json", write)

    def _parquet(self, table: pa.Table, target: str) -> None:
        pq.write_table(table, target, filesystem=self.filesystem, compression="zstd")

    def _put(self, folder: str, name: str, write) -> str:
        """Write one file with `write(path)`: a local file appears whole or not at all (written aside,
        then renamed); an S3 object is whole by nature, and S3 gets no folder marker objects."""
        path = f"{folder}/{name}"
        if not isinstance(self.filesystem, pafs.LocalFileSystem):
            write(path)
            return path
        self.filesystem.create_dir(folder, recursive=True)
        aside = f"{folder}/.{name}.{uuid.uuid4().hex}.tmp"
        write(aside)
        self.filesystem.move(aside, path)
        return path

    def glob(self) -> str:
        """The pattern DuckDB reads every event file with (local lakes)."""
        return f"{self.root}/events/**/*.parquet"


class LakeSink:
    """The pump's sink for the lake: every record, from the first; a batch waits until it would fill
    a file (`roll_rows`) or its oldest record has waited `roll_seconds`."""

    name = "lake"
    from_start = True

    def __init__(self, lake: Lake, roll_rows: int, roll_seconds: float) -> None:
        self.lake = lake
        self.batch = roll_rows
        self.roll_seconds = roll_seconds

    def ready(self, waiting: Waiting) -> bool:
        waited = time.time() - waiting.oldest_arrival_ms / 1000
        return waiting.count >= self.batch or waited >= self.roll_seconds

    def wants(self, row: dict) -> bool:
        """Every event; not Pinfold's own outbox records (marked `internal` in their `pinfold` member,
        which no API can write: an inbound text on its way to a two-way channel), which are no events
        and carry what the lake must not keep. Only those have a type under `pinfold.`, so no other
        record is decoded to ask."""
        if not row["event_type"].startswith(INTERNAL_TYPES):
            return True
        return not (row["record"].get("pinfold") or {}).get("internal")

    def deliver(self, rows: list[OutboxRow], batch: str) -> None:
        self.lake.write_rows(rows, batch)


class _TextsToTable:
    """Records' JSON text to a table with the lake's schema, in DuckDB, without decoding them in Python.

    json_transform reads each record into the schema's types: a struct or map a record lacks is
    written empty (COALESCE), `facets` is kept as JSON text, and a value of another type is cast
    as `to_table` converts it (a number among the attributes becomes its JSON text). The result is
    the same table, checked against `to_table` in tests/unit/test_lake_table.py. DuckDB works
    without the interpreter lock: on a campaign of 200,000 messages on two cores, decoding the
    records and converting them in Python was half of the event pump's time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None

    def table(self, texts: list[str]) -> pa.Table:
        with self._lock:
            if self._connection is None:
                self._connection = duckdb.connect()
            self._connection.register("texts", pa.table({"j": pa.array(texts, pa.string())}))
            try:
                return self._connection.sql(_FROM_TEXTS).to_arrow_table().cast(SCHEMA)
            finally:
                self._connection.unregister("texts")


def _duckdb_type(kind: pa.DataType) -> str:
    if pa.types.is_struct(kind):
        return "STRUCT(" + ", ".join(f'"{child.name}" {_duckdb_type(child.type)}' for child in kind) + ")"
    if pa.types.is_map(kind):
        return f"MAP({_duckdb_type(kind.key_type)}, {_duckdb_type(kind.item_type)})"
    return {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.float64(): "DOUBLE"}[kind]


def _column(field: pa.Field) -> str:
    name, kind = field.name, field.type
    if name == "facets":
        return 'r."facets"::VARCHAR'
    if pa.types.is_struct(kind):
        empty = "{" + ", ".join(f"'{child.name}': NULL::{_duckdb_type(child.type)}" for child in kind) + "}"
        return f'COALESCE(r."{name}", {empty})'
    if pa.types.is_map(kind):
        return f'COALESCE(r."{name}", MAP {{}}::{_duckdb_type(kind)})'
    return f'r."{name}"'


_STRUCTURE = orjson.dumps({field.name: "JSON" if field.name == "facets" else _duckdb_type(field.type)
                           for field in SCHEMA}).decode()
_COLUMNS = ", ".join(f'{_column(field)} AS "{field.name}"' for field in SCHEMA)
_FROM_TEXTS = f"SELECT {_COLUMNS} FROM (SELECT json_transform(j, '{_STRUCTURE}') AS r FROM texts)"


def _filesystem(url: str, s3: S3Settings) -> tuple[pafs.FileSystem, str]:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return pafs.LocalFileSystem(), parsed.path.rstrip("/")
    if parsed.scheme != "s3":
        raise ValueError(f"the lake must be a file:// or s3:// URL, not {url!r}")
    options = {"region": s3.region or "us-east-1"}
    if s3.endpoint_url:
        endpoint = urlparse(s3.endpoint_url)
        options.update(endpoint_override=endpoint.netloc, scheme=endpoint.scheme or "https")
    if s3.access_key_id:
        options.update(access_key=s3.access_key_id, secret_key=s3.secret_access_key)
    return pafs.S3FileSystem(**options), f"{parsed.netloc}{parsed.path}".rstrip("/")

