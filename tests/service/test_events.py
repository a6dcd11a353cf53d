"""PutEvents stores each event once, in Pinpoint's record shape, with its tenant, in the outbox."""

from __future__ import annotations

from pinfold.audience import events
from pinfold.events import outbox
from tests.service.helpers import onboard, operator


def test_put_events_writes_pinpoint_records_with_the_tenant(ctx):
    admin = operator(ctx)
    tenant, caller = onboard(ctx, admin, "acme", "sa-sp")
    project = tenant["project_id"]
    batch = {"device-1": {
        "Endpoint": {"ChannelType": "APNS", "Address": "token-1",
                     "Demographic": {"Platform": "ios", "PlatformVersion": "17.1", "Make": "Apple", "Locale": "en_US"}},
        "Events": {
            "a": {"EventType": "_session.start", "Timestamp": "2026-11-26T10:00:00.250Z",
                  "Session": {"Id": "s-1", "StartTimestamp": "2026-11-26T10:00:00Z"},
                  "AppPackageName": "com.acme.app", "AppVersionCode": "42", "SdkName": "aws-amplify"},
            "b": {"EventType": "purchase", "Timestamp": "2026-11-26T10:01:00Z",
                  "Attributes": {"sku": "gold"}, "Metrics": {"price": 9.5}},
        }}}
    result = events.put_events(ctx, caller, project, batch)["Results"]["device-1"]
    assert {k: v["StatusCode"] for k, v in result["EventsItemResponse"].items()} == {"a": 202, "b": 202}
    with ctx.db.read() as conn:
        rows = outbox.read_after(conn, 0)
    assert [row["event_type"] for row in rows] == ["_session.start", "purchase"]
    assert {row["tenant_id"] for row in rows} == {"acme"} and {row["project_id"] for row in rows} == {project}
    session, purchase = (row["record"] for row in rows)
    assert session["event_version"] == "3.1" and session["event_timestamp"] == 1795687200250
    assert session["application"] == {"app_id": project, "package_name": "com.acme.app", "version_code": "42",
                                      "sdk": {"name": "aws-amplify"}}
    assert session["client"] == {"client_id": "device-1"}
    assert session["device"] == {"platform": {"name": "ios", "version": "17.1"}, "make": "Apple",
                                 "locale": {"code": "en_US", "language": "en", "country": "US"}}
    assert session["session"] == {"session_id": "s-1", "start_timestamp": 1795687200000}
    assert session["awsAccountId"] == tenant["account_id"] and session["arrival_timestamp"] >= 1795687200000
    assert purchase["attributes"] == {"sku": "gold"} and purchase["metrics"] == {"price": 9.5}
    assert purchase["pinfold"] == {"event_id": rows[1]["event_id"], "tenant_id": "acme",
                                   "account_id": tenant["account_id"], "project_id": project, "region": "us-east-1"}
    assert rows[0]["event_id"] != rows[1]["event_id"]


def test_events_of_a_failed_endpoint_update_are_not_stored(ctx):
    admin = operator(ctx)
    _tenant, caller = onboard(ctx, admin, "acme", "ma-mp")
    project = _tenant["project_id"]
    event = {"EventType": "x", "Timestamp": "2026-11-26T10:00:00Z"}
    result = events.put_events(ctx, caller, project, {
        "bad": {"Endpoint": {"Attributes": {"n" * 51: ["v"]}}, "Events": {"e": event}},
        "good": {"Endpoint": {}, "Events": {"e": event}},
    })["Results"]
    assert result["bad"]["EndpointItemResponse"]["StatusCode"] == 400
    assert result["bad"]["EventsItemResponse"]["e"]["StatusCode"] == 400
    assert result["good"]["EventsItemResponse"]["e"]["StatusCode"] == 202
    with ctx.db.read() as conn:
        assert [row["record"]["client"]["client_id"] for row in outbox.read_after(conn, 0)] == ["good"]
