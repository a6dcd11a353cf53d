"""The lake's table: records Pinfold writes go into Arrow directly, and any other record member by
member, with the same result either way."""

from __future__ import annotations

import orjson
import pyarrow.parquet as pq
import pytest

from pinfold.events.sinks import lake
from pinfold.events.store import OutboxRow


def _email_record(n: int) -> dict:
    return {
        "event_type": "_email.delivered", "event_timestamp": 1796626565876 + n, "arrival_timestamp": 1796626565878 + n,
        "event_version": "3.1", "application": {"app_id": "f89e3cb8", "sdk": {}}, "client": {"client_id": f"e{n}"},
        "device": {"platform": {}}, "session": {},
        "attributes": {"feedback": "delivered", "campaign_id": "9f826ad9", "treatment_id": "0"}, "metrics": {},
        "awsAccountId": "247463543230",
        "facets": {"email_channel": {"mail_event": {
            "mail": {"message_id": f"m{n}", "destination": [f"r{n}@example.org"]},
            "delivery": {"smtp_response": "250 2.0.0 Ok"}}}},
        "pinfold": {"event_id": f"ev{n}", "tenant_id": None, "account_id": "247463543230", "project_id": "f89e3cb8",
                    "region": "us-east-1", "configuration_set": None, "email_tags": {}},
    }


def _app_record(n: int) -> dict:
    return {
        "event_type": "purchase", "event_timestamp": 1796626565000, "arrival_timestamp": 1796626566000,
        "event_version": "3.1",
        "application": {"app_id": "p1", "package_name": "com.example", "title": "Shop", "version_name": "1.2",
                        "version_code": "12", "sdk": {"name": "aws-amplify", "version": "6.0"}},
        "client": {"client_id": "c1", "cognito_id": "us-east-1:abc"},
        "device": {"platform": {"name": "ios", "version": "17"}, "make": "apple", "model": "iPhone",
                   "locale": {"code": "en_US", "country": "US"}},
        "session": {"session_id": f"s{n}", "start_timestamp": 1796626560000, "stop_timestamp": 1796626565000,
                    "duration": 5000},
        "attributes": {"sku": "A-1"}, "metrics": {"price": 9.5, "quantity": 2},
        "client_context": {"custom": {"legacy": "yes"}},
        "pinfold": {"event_id": f"pe{n}", "tenant_id": "t1", "account_id": "111122223333", "project_id": "p1",
                    "region": "us-east-1"},
    }


def _bare_record() -> dict:
    """Only what every record has: every struct and map absent."""
    return {"event_type": "_custom.ping", "event_timestamp": 1, "arrival_timestamp": 2,
            "pinfold": {"event_id": "b1", "account_id": "111122223333", "project_id": "p1", "region": "us-east-1"}}


def test_absent_structs_and_maps_are_written_empty():
    row = lake.to_table([_email_record(1), _bare_record()]).to_pylist()[1]
    assert row["attributes"] == [] and row["metrics"] == []  # absent maps are written empty, not null
    assert row["session"] == {"session_id": None, "start_timestamp": None, "stop_timestamp": None, "duration": None}
    first = lake.to_table([_email_record(1)])
    assert first.column("facets")[0].as_py().startswith('{"email_channel":{"mail_event":')


def test_the_odd_values_are_written_as_text_and_numbers():
    record = {**_app_record(1), "attributes": {"count": 3, "flag": True}, "metrics": {"price": "9.5"}}
    row = lake.to_table([record]).to_pylist()[0]
    assert dict(row["attributes"]) == {"count": "3", "flag": "true"}
    assert dict(row["metrics"]) == {"price": 9.5}


def test_partition_is_by_arrival_hour_in_utc():
    record = _email_record(0)  # arrived 2026-12-07 06:56:05.878 UTC
    assert lake.partition(record) == ("247463543230", "f89e3cb8", "2026-12-07", "06")
    assert lake.partition({**record, "arrival_timestamp": 1796626565878 + 3_600_000 * 18})[2:] == ("2026-12-08", "00")


def _rows(records: list[dict]) -> list[OutboxRow]:
    return [OutboxRow(n, r["pinfold"]["account_id"], r["pinfold"]["project_id"], r["pinfold"]["event_id"],
                      r["event_type"], r["arrival_timestamp"], orjson.dumps(r).decode()) for n, r in enumerate(records)]


_ODD = [{"attributes": {"count": 3, "flag": True, "nested": {"a": 1, "b": [1, 2.5]}, "f": 0.1, "big": 1e300,
                        "text": "é \u0001 \"quoted\""}},
        {"metrics": {"price": "9.5", "n": 2}},
        {"session": {"session_id": "s", "start_timestamp": "1796626560000", "duration": 5000.0}},
        {"client": {"client_id": 42}},
        {"device": {"platform": {"name": "ios", "version": 17}}},
        {"facets": {"email_channel": {"mail_event": {"mail": {"subject": "Grüße", "n": 1.5, "flag": None}}}}}]


@pytest.mark.parametrize("odd", [{}, *_ODD])
def test_duckdb_reads_the_records_text_into_the_same_table(odd):
    records = ([_email_record(n) for n in range(20)] + [_app_record(n) for n in range(20)] + [_bare_record()]
               + [{**_app_record(99), **odd}])
    table = lake._TextsToTable().table([row.text for row in _rows(records)])
    assert table.equals(lake.to_table(records))


def test_the_lake_files_from_rows_hold_what_records_give(tmp_path):
    records = [_email_record(n) for n in range(30)] + [_app_record(n) for n in range(30)] + [_bare_record()]
    records.append({**_email_record(99), "arrival_timestamp": 1796626565878 + 3_600_000})  # the next hour
    from_rows, from_records = lake.Lake(f"file://{tmp_path}/a"), lake.Lake(f"file://{tmp_path}/b")
    written = from_rows.write_rows(_rows(records), "part-1")
    assert [path.removeprefix(f"{tmp_path}/a") for path in written] == \
        [path.removeprefix(f"{tmp_path}/b") for path in from_records.write(records, "part-1")]
    assert len(written) == 4  # two projects, and one record an hour later
    for path in written:
        assert pq.read_table(path).equals(pq.read_table(path.replace(f"{tmp_path}/a", f"{tmp_path}/b")))


def test_the_lake_asks_only_pinfold_typed_rows_whether_they_are_internal():
    sink = lake.LakeSink(lake.Lake("file:///unused"), 10, 1.0)
    (plain,) = _rows([_email_record(1)])
    assert sink.wants(plain) and "record" not in plain  # never decoded
    inbound = {**_bare_record(), "event_type": "pinfold.sms.inbound"}
    inbound["pinfold"] = {**inbound["pinfold"], "internal": True}
    (internal,) = _rows([inbound])
    assert not sink.wants(internal)


def test_pinfolds_own_outbox_records_have_types_the_lake_asks_about():
    from pinfold.sms import two_way

    assert two_way.RECORD_TYPE.startswith(lake.INTERNAL_TYPES)


def test_rows_duckdb_cannot_read_are_converted_in_python_to_the_same_files(tmp_path, monkeypatch, caplog):
    import duckdb

    def refuse(_self, _texts):
        raise duckdb.ConversionException('Could not convert the record {"secret": 1}')

    records = [_email_record(n) for n in range(5)] + [_app_record(1)]
    expected = lake.Lake(f"file://{tmp_path}/b").write(records, "part-1")
    monkeypatch.setattr(lake._TextsToTable, "table", refuse)
    written = lake.Lake(f"file://{tmp_path}/a").write_rows(_rows(records), "part-1")
    assert [pq.read_table(path) for path in written] == [pq.read_table(path) for path in expected]
    assert "ConversionException" in caplog.text and "secret" not in caplog.text
