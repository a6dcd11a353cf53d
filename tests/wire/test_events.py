"""Event streams through boto3 against a real server: configuration, records reaching NATS and the
lake with their tenant, KPIs, and a pump killed mid-flow losing and duplicating nothing."""

from __future__ import annotations

import json
import time
import uuid

import duckdb
import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, make_client, onboard
from tests.service.test_pump import _nats_available, _read_stream


def _events(count: int, start: int = 0) -> dict:
    return {f"e{n}": {"EventType": "level.complete", "Timestamp": "2026-11-26T10:00:00Z",
                      "Attributes": {"n": str(n)}} for n in range(start, start + count)}


def _put(pinpoint, project: str, endpoint: str, count: int, start: int = 0) -> None:
    pinpoint.put_events(ApplicationId=project, EventsRequest={"BatchItem": {endpoint: {
        "Endpoint": {"ChannelType": "EMAIL", "Address": f"{endpoint}@example.com"},
        "Events": _events(count, start)}}})


def _read_nats(stream: str) -> list[dict]:
    return [json.loads(message.data) for message in _read_stream(stream, f"{stream}.>")]


def test_an_event_stream_set_with_boto3_receives_the_tenants_events(server):
    _nats_available()
    tenant = onboard(server, "sa-mp")
    project, pinpoint = tenant["tenant"]["project_id"], make_client(server, tenant["credentials"])
    with pytest.raises(ClientError) as caught:
        pinpoint.get_event_stream(ApplicationId=project)
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
    with pytest.raises(ClientError) as caught:
        pinpoint.put_event_stream(ApplicationId=project, WriteEventStream={
            "DestinationStreamArn": "arn:aws:sqs:us-east-1:123456789012:queue", "RoleArn": "r"})
    assert caught.value.response["Error"]["Code"] == "BadRequestException"
    name = f"wire-{uuid.uuid4().hex[:8]}"
    arn = f"arn:aws:kinesis:us-east-1:{tenant['tenant']['account_id']}:stream/{name}"
    made = pinpoint.put_event_stream(ApplicationId=project, WriteEventStream={
        "DestinationStreamArn": arn, "RoleArn": "arn:aws:iam::123456789012:role/stream"})["EventStream"]
    assert made["DestinationStreamArn"] == arn and made["ApplicationId"] == project
    assert pinpoint.get_event_stream(ApplicationId=project)["EventStream"]["DestinationStreamArn"] == arn
    _put(pinpoint, project, "player-1", 12)
    deadline, found = time.monotonic() + 20, []
    while len(found) < 12 and time.monotonic() < deadline:
        time.sleep(0.5)
        found = _read_nats(name)
    assert [record["attributes"]["n"] for record in found] == [str(n) for n in range(12)]
    assert {record["pinfold"]["tenant_id"] for record in found} == {tenant["tenant"]["tenant_id"]}
    assert {record["event_type"] for record in found} == {"level.complete"}
    assert pinpoint.delete_event_stream(ApplicationId=project)["EventStream"]["DestinationStreamArn"] == arn
    kpi = pinpoint.get_application_date_range_kpi(ApplicationId=project, KpiName="txn-emails-sent")
    assert kpi["ApplicationDateRangeKpiResponse"]["KpiName"] == "txn-emails-sent"
    with pytest.raises(ClientError) as caught:
        pinpoint.get_application_date_range_kpi(ApplicationId=project, KpiName="no-such-kpi")
    assert caught.value.response["Error"]["Code"] == "BadRequestException"


def _lake_ids(data_dir) -> list[str]:
    pattern = data_dir / "lake" / "events" / "**" / "*.parquet"
    try:
        return [row[0] for row in duckdb.sql(f"SELECT pinfold.event_id FROM read_parquet('{pattern}')").fetchall()]
    except duckdb.IOException:  # no file yet
        return []


def test_killing_the_server_mid_flow_loses_and_duplicates_nothing(tmp_path, database_url, moto_s3):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # Files of 7 records: 428 of them to write, and the last 4 records wait 5 s to roll, so the kill
    # lands while the pump is busy and before it can have finished.
    server = Server(data_dir, database_url, moto_s3, PINFOLD_LAKE_ROLL_ROWS="7", PINFOLD_LAKE_ROLL_SECONDS="5")
    try:
        pinpoint = make_client(server, server.admin)
        project = pinpoint.create_app(CreateApplicationRequest={"Name": "flow"})["ApplicationResponse"]["Id"]
        sent = 0
        for batch in range(30):
            _put(pinpoint, project, f"p{batch}", 100, start=batch * 100)
            sent += 100
        server.kill()  # while the pump is part-way: some files written, more records waiting
        part_way = len(_lake_ids(data_dir))
        assert part_way < sent
        server.start()
        deadline = time.monotonic() + 60
        while len(_lake_ids(data_dir)) < sent and time.monotonic() < deadline:
            time.sleep(0.5)
        ids = _lake_ids(data_dir)
        assert len(ids) == len(set(ids)) == sent
    finally:
        server.stop()
