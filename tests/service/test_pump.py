"""The event pump: outbox records reach the lake, NATS JetStream and Firehose locations once each,
with their tenant, and wait in the outbox while a sink is down."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket

import duckdb
import pytest
from nats.js.errors import NotFoundError

from pinfold.analytics.engine import open_for
from pinfold.audience import events
from pinfold.bootstrap import event_pump
from pinfold.config import Settings
from pinfold.context import Context
from pinfold.core.errors import Forbidden, InvalidInput
from pinfold.events import outbox
from pinfold.events import store as stream_store
from pinfold.events.sinks.streams import ProjectStreams
from pinfold.projects import streams
from tests.conftest import free_port, unavailable
from tests.service.helpers import account_caller, onboard, operator

NATS_URL = "nats://127.0.0.1:4222"


def _send(ctx, caller, project: str, endpoint: str, count: int, **attributes: str) -> None:
    update = {"ChannelType": "EMAIL", "Address": f"{endpoint}@example.com",
              "Attributes": {key: [value] for key, value in attributes.items()}}
    for start in range(0, count, 100):
        batch = {endpoint: {"Endpoint": update,
                            "Events": {f"e{n}": {"EventType": "purchase", "Timestamp": "2026-11-26T10:00:00Z",
                                                 "Attributes": {"n": str(n)}}
                                       for n in range(start, min(count, start + 100))}}}
        events.put_events(ctx, caller, project, batch)


def _lake_rows(ctx) -> list[tuple]:
    pattern = f"{ctx.settings.resolved_lake_url.removeprefix('file://')}/events/**/*.parquet"
    query = (f"SELECT pinfold.event_id, pinfold.tenant_id, project, event_type FROM read_parquet('{pattern}', "
             "hive_partitioning = true, hive_types_autocast = false) ORDER BY event_timestamp, pinfold.event_id")
    return duckdb.sql(query).fetchall()


def _outbox_size(ctx) -> int:
    with ctx.db.read() as conn:
        return outbox.count(conn)


def test_every_record_reaches_the_lake_once_with_its_tenant(ctx):
    admin = operator(ctx)
    acme, acme_caller = onboard(ctx, admin, "acme", "sa-sp")
    globex, _ = onboard(ctx, admin, "globex", "sa-sp")
    _send(ctx, acme_caller, acme["project_id"], "a-1", 150)
    # The operator sends for an endpoint of globex's in the same shared project: the records are globex's.
    shared_operator = account_caller(ctx, admin, globex["account_id"])
    _send(ctx, shared_operator, globex["project_id"], "g-1", 5, TenantId="globex")
    pump = event_pump(ctx)
    assert pump.run_once().delivered == 0  # not enough records, none old enough: no file yet
    assert pump.run_once(flush=True).delivered == 155
    rows = _lake_rows(ctx)
    assert len(rows) == len({row[0] for row in rows}) == 155
    assert sorted({row[1] for row in rows}) == ["acme", "globex"]
    assert sum(row[1] == "globex" for row in rows) == 5
    assert {row[2] for row in rows} == {acme["project_id"]}
    assert _outbox_size(ctx) == 0


def test_the_outbox_is_trimmed_in_steps_each_its_own_transaction(ctx, monkeypatch):
    """A long delete would hold SQLite's one writer from everyone's sends: each step deletes at most
    TRIM_STEP records, and the steps together delete every record the sinks hold."""
    from pinfold.events import pump as pump_module

    monkeypatch.setattr(pump_module, "TRIM_STEP", 40)
    admin = operator(ctx)
    tenant, caller = onboard(ctx, admin, "acme", "sa-mp")
    _send(ctx, caller, tenant["project_id"], "a-1", 150)
    deleted: list[int] = []
    trim = stream_store.trim_outbox
    monkeypatch.setattr(stream_store, "trim_outbox",
                        lambda conn, through, limit: deleted.append(trim(conn, through, limit)) or deleted[-1])
    assert event_pump(ctx).run_once(flush=True).delivered == 150
    assert _outbox_size(ctx) == 0
    assert max(deleted) == 40 and sum(deleted) >= 150 and len(deleted) >= 4


def test_what_waits_for_a_sink_is_summed_up_the_same_short_or_full(ctx):
    admin = operator(ctx)
    tenant, caller = onboard(ctx, admin, "acme", "sa-mp")
    _send(ctx, caller, tenant["project_id"], "a-1", 30)
    with ctx.db.read() as conn:
        rows = outbox.read_after(conn, 0, 1000)
        seqs, oldest = [row["seq"] for row in rows], min(row["arrival_ms"] for row in rows)
        short = stream_store.waiting(conn, 0, 1000)  # fewer than a batch: from the first and newest seqs
        full = stream_store.waiting(conn, 0, 10)  # a full batch: counted
        rest = stream_store.waiting(conn, seqs[9], len(seqs))
        assert stream_store.waiting(conn, seqs[-1], 10) is None
    assert (short.first, short.last, short.count, short.oldest_arrival_ms) == (seqs[0], seqs[-1], len(seqs), oldest)
    assert (full.first, full.last, full.count) == (seqs[0], seqs[9], 10)
    assert (rest.first, rest.last, rest.count) == (seqs[10], seqs[-1], len(seqs) - 10)


def test_a_pass_whose_sinks_pass_records_over_counts_as_work(ctx):
    """The trigger and two-way sinks want none of these records; moving their cursors past them is still
    work, so the pump's loop goes on at once instead of taking one batch per idle wait. (The reputation
    tally, off here, would wait for a fuller batch or a quarter of a second: a matter of timing.)"""
    ctx = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"reputation_tracking": False}))
    admin = operator(ctx)
    tenant, caller = onboard(ctx, admin, "acme", "sa-mp")
    pump = event_pump(ctx)
    assert not pump.run_once()  # the sinks' cursors start; nothing waits
    _send(ctx, caller, tenant["project_id"], "a-1", 150)
    outcome = pump.run_once()
    assert outcome.delivered == 0  # the lake waits for a fuller file
    assert outcome.moved == 300 and outcome  # campaigns:triggers and sms:two-way moved past all 150
    assert not pump.run_once()


def test_a_pump_that_dies_after_writing_rewrites_the_same_files(ctx, monkeypatch):
    admin = operator(ctx)
    tenant, caller = onboard(ctx, admin, "acme", "sa-mp")
    _send(ctx, caller, tenant["project_id"], "a-1", 120)
    real_update = stream_store.update_sink
    crashed = []

    def crash_once(conn, name, **values):
        if "delivered_seq" in values and not crashed:
            crashed.append(name)
            raise RuntimeError("the pump died here")
        real_update(conn, name, **values)

    monkeypatch.setattr(stream_store, "update_sink", crash_once)
    pump = event_pump(ctx)
    assert pump.run_once(flush=True).failed == 1 and crashed == ["lake"]
    assert len(_lake_rows(ctx)) == 120  # the files were written; the cursor did not move
    pump._retry_at.clear()
    assert pump.run_once(flush=True).delivered == 120  # the in-flight range again, same files
    rows = _lake_rows(ctx)
    assert len(rows) == len({row[0] for row in rows}) == 120
    assert all(row[1] == "acme" for row in rows)


def _nats_available() -> None:
    with socket.socket() as sock:
        sock.settimeout(1)
        if sock.connect_ex(("127.0.0.1", 4222)) != 0:
            unavailable("NATS with JetStream is not listening on 127.0.0.1:4222")


def _read_stream(stream: str, subject: str) -> list:
    import nats

    async def read():
        client = await nats.connect(NATS_URL)
        try:
            js = client.jetstream()
            try:
                subscription = await js.subscribe(subject, stream=stream, ordered_consumer=True)
            except NotFoundError:  # the pump has not created the stream yet
                return []
            found = []
            while True:
                try:
                    found.append(await subscription.next_msg(timeout=1))
                except TimeoutError:
                    await subscription.unsubscribe()
                    return found
        finally:
            await client.close()
    return asyncio.run(read())


def test_a_kinesis_stream_publishes_to_nats_in_order_and_waits_while_nats_is_down(tmp_path, database_url):
    _nats_available()
    down = f"nats://127.0.0.1:{free_port()}"
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, nats_url=down)
    ctx = Context.open(settings)
    try:
        admin = operator(ctx)
        tenant, caller = onboard(ctx, admin, "acme", "ma-mp")
        project = tenant["project_id"]
        name = f"pinfold-test-{project[:8]}"
        arn = f"arn:aws:kinesis:us-east-1:{tenant['account_id']}:stream/{name}"
        streams.put(ctx, caller, project, {"DestinationStreamArn": arn, "RoleArn": "arn:aws:iam::1:role/r"})
        assert streams.get(ctx, caller, project)["DestinationStreamArn"] == arn
        _send(ctx, caller, project, "a-1", 30)
        pump = event_pump(ctx)
        outcome = pump.run_once(flush=True)
        assert outcome.delivered == 30 and outcome.failed == 1  # the lake has them; NATS is down
        with ctx.db.read() as conn:
            cursor = stream_store.sink(conn, arn)
        assert cursor["last_error"] and cursor["failing_since"]
        assert _outbox_size(ctx) == 30  # waiting for the stream
        outlets = next(source.outlets for source in pump.sources if isinstance(source, ProjectStreams))
        outlets.close()
        outlets.nats_url = NATS_URL  # NATS is back
        pump._retry_at.clear()
        assert pump.run_once().delivered == 30
        assert _outbox_size(ctx) == 0
        messages = _read_stream(name, f"{name}.>")
        assert {m.header["Nats-Msg-Id"] for m in messages} == {row[0] for row in _lake_rows(ctx)}
        records = [json.loads(m.data) for m in messages]
        assert [record["attributes"]["n"] for record in records] == [str(n) for n in range(30)]  # in order
        assert all(m.subject == f"{name}.{tenant['account_id']}.{project}" for m in messages)
        first = records[0]
        assert first["event_type"] == "purchase" and first["pinfold"]["tenant_id"] == "acme"
        assert first["application"]["app_id"] == project and first["attributes"]["n"] == "0"
        pump.stop()
    finally:
        ctx.close()


def test_a_firehose_stream_writes_parquet_at_its_own_location(ctx):
    admin = operator(ctx)
    tenant, caller = onboard(ctx, admin, "acme", "sa-mp")
    project = tenant["project_id"]
    arn = f"arn:aws:firehose:us-east-1:{tenant['account_id']}:deliverystream/acme-events"
    streams.put(ctx, caller, project, {"DestinationStreamArn": arn, "RoleArn": "r"})
    _send(ctx, caller, project, "a-1", 7)
    assert event_pump(ctx).run_once(flush=True).delivered == 14  # the lake and the delivery stream
    location = ctx.settings.firehose_location("acme-events").removeprefix("file://")
    count = duckdb.sql(f"SELECT count(*) FROM read_parquet('{location}/events/**/*.parquet')").fetchall()[0][0]
    assert count == 7


def test_stream_arns_are_checked_and_shared_projects_keep_theirs_to_the_operator(ctx):
    admin = operator(ctx)
    shared, tenant = onboard(ctx, admin, "acme", "sa-sp")
    admin = account_caller(ctx, admin, shared["account_id"])
    with pytest.raises(InvalidInput, match="DestinationStreamArn"):
        streams.put(ctx, admin, shared["project_id"], {"DestinationStreamArn": "arn:aws:sqs:us-east-1:1:q",
                                                       "RoleArn": "r"})
    with pytest.raises(Forbidden):
        streams.put(ctx, tenant, shared["project_id"], {
            "DestinationStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/all", "RoleArn": "r"})
    made = streams.put(ctx, admin, shared["project_id"], {
        "DestinationStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/all", "RoleArn": "r"})
    assert streams.delete(ctx, admin, shared["project_id"]) == made


def test_the_lake_can_live_in_s3(tmp_path, database_url, moto_s3):
    import boto3
    import pyarrow.parquet as pq

    s3 = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test")
    bucket = f"lake-{tmp_path.name[-8:].lower().replace('_', '-')}"
    s3.create_bucket(Bucket=bucket)
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, lake_url=f"s3://{bucket}/pinfold",
                        s3_endpoint_url=moto_s3, s3_access_key_id="test", s3_secret_access_key="test")
    ctx = Context.open(settings)
    try:
        admin = operator(ctx)
        tenant, caller = onboard(ctx, admin, "acme", "ma-mp")
        _send(ctx, caller, tenant["project_id"], "a-1", 25)
        assert event_pump(ctx).run_once(flush=True).delivered == 25
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="pinfold/events/")["Contents"]]
        assert len(keys) == 1 and f"/project={tenant['project_id']}/" in keys[0] and keys[0].endswith(".parquet")
        body = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
        (tmp_path / "one.parquet").write_bytes(body)
        table = pq.read_table(tmp_path / "one.parquet")
        assert table.num_rows == 25
        assert {row["tenant_id"] for row in table.column("pinfold").to_pylist()} == {"acme"}
        # Analytics reads the S3 lake too, each caller only its own part of it.
        other, other_caller = onboard(ctx, admin, "globex", "ma-mp")
        _send(ctx, other_caller, other["project_id"], "g-1", 5)
        assert event_pump(ctx).run_once(flush=True).delivered == 5
        with open_for(ctx, caller) as lake:
            assert lake.view("all_events", limit=100)["rows"][0]["tenant_id"] == "acme"
            assert len(lake.view("all_events", limit=100)["rows"]) == 25
        with open_for(ctx, admin) as lake:
            counts = lake.sql("SELECT tenant_id, count(*) AS n FROM all_events GROUP BY 1 ORDER BY 1")["rows"]
            assert counts == [{"tenant_id": "acme", "n": 25}, {"tenant_id": "globex", "n": 5}]
            with pytest.raises(Forbidden):  # the engine itself cannot reach S3 or local files
                lake.sql(f"SELECT count(*) FROM read_parquet('{tmp_path}/one.parquet')")
    finally:
        ctx.close()


def test_only_one_process_leads_the_pump_and_a_released_lease_passes_on(ctx):
    from pinfold.db.database import Database

    other = Database(ctx.settings.resolved_database_url)  # a second server on the same database
    try:
        first = ctx.db.lease("event-pump")
        assert first is not None and first.alive()
        assert other.lease("event-pump") is None
        assert other.lease("something-else") is not None  # leases are per name
        first.release()
        second = other.lease("event-pump")
        assert second is not None
        assert ctx.db.lease("event-pump") is None
        second.release()
    finally:
        other.dispose()


def test_an_idle_pump_opens_no_write_transaction(ctx, monkeypatch):
    admin = operator(ctx)
    acme, acme_caller = onboard(ctx, admin, "acme", "sa-mp")
    _send(ctx, acme_caller, acme["project_id"], "a-1", 10)
    pump = event_pump(ctx)
    assert pump.run_once(flush=True).delivered == 10
    writes = []
    real_write = ctx.db.write

    def counting_write():
        writes.append(1)
        return real_write()

    monkeypatch.setattr(ctx.db, "write", counting_write)
    for _ in range(3):
        assert pump.run_once(flush=True).delivered == 0
    assert writes == []
    _send(ctx, acme_caller, acme["project_id"], "a-1", 1)
    assert pump.run_once(flush=True).delivered == 1
    assert writes  # new records: the cursor moves and the outbox is trimmed


def test_a_sink_failing_for_a_day_stops_holding_the_outbox_back(ctx):
    import time

    admin = operator(ctx)
    acme, acme_caller = onboard(ctx, admin, "acme", "sa-mp")
    dead = "arn:aws:kinesis:us-east-1:1:stream/dead"
    with ctx.db.write() as conn:
        stream_store.ensure_sink(conn, "lake", 0)
        stream_store.ensure_sink(conn, dead, 0)
    _send(ctx, acme_caller, acme["project_id"], "a-1", 10)
    pump = event_pump(ctx)
    with ctx.db.write() as conn:
        stream_store.update_sink(conn, "lake", delivered_seq=stream_store.last_seq(conn))  # the lake has them all
        stream_store.update_sink(conn, dead, failing_since=time.time() - 3600)
    pump._trim()
    assert _outbox_size(ctx) == 10  # failing for an hour: its records wait for it
    with ctx.db.write() as conn:
        stream_store.update_sink(conn, dead, failing_since=time.time() - ctx.settings.sink_give_up_seconds - 1)
    pump._trim()
    assert _outbox_size(ctx) == 0  # given up on: the others' records no longer wait for it


def test_a_sink_falling_behind_is_logged_once_and_again_when_it_catches_up(ctx, monkeypatch, caplog):
    from pinfold.events import pump as pump_module

    monkeypatch.setattr(pump_module, "BEHIND_RECORDS", 20)
    admin = operator(ctx)
    acme, acme_caller = onboard(ctx, admin, "acme", "sa-mp")
    with ctx.db.write() as conn:
        stream_store.ensure_sink(conn, "lake", 0)
    pump = event_pump(ctx)
    caplog.set_level("INFO", logger="pinfold.pump")
    _send(ctx, acme_caller, acme["project_id"], "a-1", 25)
    pump._trim()
    pump._trim()  # still behind: not said twice
    _send(ctx, acme_caller, acme["project_id"], "a-1", 5)
    pump._trim()
    behind = [r.getMessage() for r in caplog.records if "behind the outbox" in r.getMessage()]
    assert behind == ["event sink lake is 25 records behind the outbox; it takes them slower than they come"]
    pump.run_once(flush=True)
    caught_up = [r for r in caplog.records if "has caught up" in r.getMessage()]
    assert [r.getMessage() for r in caught_up] == ["event sink lake has caught up (0 records behind)"]
