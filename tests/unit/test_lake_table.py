"""The lake's table: records Pinfold writes go into Arrow directly, and any other record member by
member, with the same result either way."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pinfold.events.sinks import lake


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


def test_records_pinfold_writes_go_into_arrow_directly_with_the_same_result():
    records = [_email_record(n) for n in range(50)] + [_app_record(n) for n in range(50)] + [_bare_record()]
    direct = lake._direct(records)  # raises if any record needed converting
    assert direct.equals(lake._converted(records))
    assert lake.to_table(records).equals(direct)
    row = direct.slice(100, 1).to_pylist()[0]
    assert row["attributes"] == [] and row["metrics"] == []  # absent maps are written empty, not null
    assert row["session"] == {"session_id": None, "start_timestamp": None, "stop_timestamp": None, "duration": None}
    assert direct.column("facets")[0].as_py().startswith('{"email_channel":{"mail_event":')


@pytest.mark.parametrize("odd", [
    {"attributes": {"count": 3, "flag": True, "nested": {"a": 1}}},  # not text: written as JSON text
    {"metrics": {"price": "9.5"}},  # a number as text
    {"session": {"session_id": "s", "start_timestamp": "1796626560000", "duration": 5000.0}},
    {"client": {"client_id": 42}},
    {"device": {"platform": {"name": "ios", "version": 17}}},
])
def test_a_record_of_other_types_is_converted_member_by_member(odd):
    records = [_app_record(1), {**_app_record(2), **odd}]
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        lake._direct(records)
    table = lake.to_table(records)
    assert table.equals(lake._converted(records))
    assert table.schema == lake.SCHEMA and table.num_rows == 2


def test_the_odd_values_are_written_as_text_and_numbers():
    record = {**_app_record(1), "attributes": {"count": 3, "flag": True}, "metrics": {"price": "9.5"}}
    row = lake.to_table([record]).to_pylist()[0]
    assert dict(row["attributes"]) == {"count": "3", "flag": "true"}
    assert dict(row["metrics"]) == {"price": 9.5}


def test_partition_is_by_arrival_hour_in_utc():
    record = _email_record(0)  # arrived 2026-12-07 06:56:05.878 UTC
    assert lake.partition(record) == ("247463543230", "f89e3cb8", "2026-12-07", "06")
    assert lake.partition({**record, "arrival_timestamp": 1796626565878 + 3_600_000 * 18})[2:] == ("2026-12-08", "00")
