"""SMS configuration sets' event destinations receive End User Messaging's TEXT_* records of the texts
sent with their set: Firehose → JSON files, SNS → NATS JetStream, each by the types it matches, with
its tenant; disabled and CloudWatch Logs destinations, and other accounts' sets, get nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from pinfold.events import store as stream_store
from pinfold.events.pump import Pump
from pinfold.events.sinks.base import Outlets
from pinfold.sms import configuration_sets
from pinfold.sms.delivery import SmsDelivery
from pinfold.sms.event_destinations import SmsDestinations
from tests.service.helpers import account_caller, onboard
from tests.service.test_pump import _nats_available, _read_stream
from tests.service.test_sms_sending import US_FAILURE, US_SUCCESS, _number, _production, _send


@pytest.fixture
def owner(ctx, admin):
    tenant, _ = onboard(ctx, admin, "acme", "ma-mp")
    caller = account_caller(ctx, admin, tenant["account_id"])
    _number(ctx, caller, "+12015550100")
    _production(ctx, caller)
    return caller


@pytest.fixture
def pump(ctx):
    """The pump with only this feature's source (the bootstrap adds it beside the others)."""
    built = Pump(ctx, sources=[SmsDestinations(Outlets(ctx.settings.nats_url), ctx.settings.firehose_location)])
    yield built
    built.stopped()  # closes the NATS connection


def _firehose(caller, name: str, *types: str, **extra) -> dict:
    arn = f"arn:aws:firehose:{caller.region}:{caller.account_id}:deliverystream/{name}"
    return {"MatchingEventTypes": list(types), **extra,
            "KinesisFirehoseDestination": {"DeliveryStreamArn": arn,
                                           "IamRoleArn": f"arn:aws:iam::{caller.account_id}:role/firehose"}}


def _sns(caller, topic: str, *types: str) -> dict:
    return {"MatchingEventTypes": list(types),
            "SnsDestination": {"TopicArn": f"arn:aws:sns:{caller.region}:{caller.account_id}:{topic}"}}


def _in_files(ctx, stream: str, account_id: str) -> list[dict]:
    root = Path(ctx.settings.firehose_location(stream).removeprefix("file://"))
    files = (root / "sms-events" / f"account={account_id}").rglob("*.json")
    return [json.loads(line) for path in files for line in path.read_text().splitlines()]


def _deliver(ctx, pump: Pump) -> None:
    SmsDelivery(ctx).run_once()
    pump.run_once(flush=True)


def test_a_firehose_destination_gets_the_types_it_matches_as_json_files(ctx, owner, pump):
    stream = f"sms-{uuid.uuid4().hex[:8]}"
    configuration_sets.create(ctx, owner, "tracked")
    configuration_sets.create_destination(ctx, owner, "tracked", "files",
                                          _firehose(owner, stream, "TEXT_DELIVERED", "TEXT_UNREACHABLE"))
    pump.run_once()  # destinations hear of texts from the pass after they are first seen
    delivered = _send(ctx, owner, US_SUCCESS, ConfigurationSetName="tracked", Context={"order": "42"})
    failed = _send(ctx, owner, US_FAILURE, ConfigurationSetName="tracked")
    _send(ctx, owner, US_SUCCESS)  # no configuration set: no destination hears of it
    _deliver(ctx, pump)

    events = _in_files(ctx, stream, owner.account_id)
    assert sorted((e["eventType"], e["messageId"]) for e in events) == sorted(
        [("TEXT_DELIVERED", delivered), ("TEXT_UNREACHABLE", failed)])  # TEXT_SUCCESSFUL is not matched
    done = next(e for e in events if e["messageId"] == delivered)
    assert done["isFinal"] is True and done["destinationPhoneNumber"] == US_SUCCESS
    assert done["originationPhoneNumber"] == "+12015550100" and done["context"] == {"order": "42"}
    assert done["eventVersion"] == "1.0" and done["messageEncoding"] == "GSM"
    assert done["pinfold"]["account_id"] == owner.account_id and done["pinfold"]["configuration_set"] == "tracked"
    assert done["pinfold"]["tenant_id"] is None and done["pinfold"]["event_id"]

    pump.run_once(flush=True)  # nothing new: nothing written twice
    assert len(_in_files(ctx, stream, owner.account_id)) == 2


def test_all_matches_every_text_event_and_a_disabled_destination_gets_nothing(ctx, owner, pump):
    on, off = f"sms-{uuid.uuid4().hex[:8]}", f"sms-{uuid.uuid4().hex[:8]}"
    configuration_sets.create(ctx, owner, "tracked")
    configuration_sets.create_destination(ctx, owner, "tracked", "everything", _firehose(owner, on, "ALL"))
    configuration_sets.create_destination(ctx, owner, "tracked", "off", _firehose(owner, off, "TEXT_ALL"))
    configuration_sets.update_destination(ctx, owner, "tracked", "off", {"Enabled": False})
    pump.run_once()  # destinations hear of texts from the pass after they are first seen
    _send(ctx, owner, US_SUCCESS, ConfigurationSetName="tracked")
    _deliver(ctx, pump)
    assert [e["eventType"] for e in _in_files(ctx, on, owner.account_id)] == ["TEXT_SUCCESSFUL", "TEXT_DELIVERED"]
    assert _in_files(ctx, off, owner.account_id) == []
    configuration_sets.update_destination(ctx, owner, "tracked", "off", {"Enabled": True})
    pump.run_once()
    _send(ctx, owner, US_FAILURE, ConfigurationSetName="tracked")
    _deliver(ctx, pump)  # enabled again: it hears of texts from then on
    assert [e["eventType"] for e in _in_files(ctx, off, owner.account_id)] == ["TEXT_UNREACHABLE"]


def test_a_cloudwatch_logs_destination_is_stored_but_has_no_sink(ctx, owner):
    configuration_sets.create(ctx, owner, "logged")
    configuration_sets.create_destination(ctx, owner, "logged", "logs", {
        "MatchingEventTypes": ["ALL"], "CloudWatchLogsDestination": {
            "LogGroupArn": f"arn:aws:logs:{owner.region}:{owner.account_id}:log-group:texts",
            "IamRoleArn": f"arn:aws:iam::{owner.account_id}:role/logs"}})
    configuration_sets.create_destination(ctx, owner, "logged", "files", _firehose(owner, "kept", "ALL"))
    source = SmsDestinations(Outlets(ctx.settings.nats_url), ctx.settings.firehose_location)
    with ctx.db.read() as conn:
        names = [sink.name for sink in source.sinks(conn)]
    assert names == ["sms:two-way", f"sms:{owner.account_id}:{owner.region}:logged:files"]


def test_an_sns_destination_gets_its_types_on_nats_with_the_tenant(ctx, admin, pump):
    _nats_available()
    tenant, confined = onboard(ctx, admin, "shop", "sa-mp")
    owner = account_caller(ctx, admin, tenant["account_id"])
    _number(ctx, owner, "+12015550100")
    _production(ctx, owner)
    topic = f"sms-{uuid.uuid4().hex[:8]}"
    configuration_sets.create(ctx, owner, "shop-texts")
    configuration_sets.create_destination(ctx, owner, "shop-texts", "topic", _sns(owner, topic, "TEXT_SUCCESSFUL"))
    configuration_sets.create_destination(ctx, owner, "shop-texts", "off", _sns(owner, f"{topic}-off", "ALL"))
    configuration_sets.update_destination(ctx, owner, "shop-texts", "off", {"Enabled": False})
    pump.run_once()  # destinations hear of texts from the pass after they are first seen
    message_id = _send(ctx, confined, US_SUCCESS, ConfigurationSetName="shop-texts")
    _send(ctx, confined, US_FAILURE, ConfigurationSetName="shop-texts")  # TEXT_UNREACHABLE: not matched
    _deliver(ctx, pump)

    messages = _read_stream(topic, f"{topic}.{owner.account_id}.shop-texts")
    events = [json.loads(message.data) for message in messages]
    assert [(e["eventType"], e["messageId"]) for e in events] == [("TEXT_SUCCESSFUL", message_id)]
    assert events[0]["pinfold"]["tenant_id"] == "shop" and events[0]["pinfold"]["project_id"] == tenant["project_id"]
    assert _read_stream(f"{topic}-off", f"{topic}-off.>") == []

    pump._retry_at.clear()
    with ctx.db.write() as conn:  # the pump dies before moving the cursor: the batch goes again, JetStream drops it
        stream_store.update_sink(conn, f"sms:{owner.account_id}:{owner.region}:shop-texts:topic", delivered_seq=0)
    pump.run_once(flush=True)
    assert len(_read_stream(topic, f"{topic}.>")) == 1


def test_another_accounts_texts_never_reach_a_destination(ctx, admin, owner, pump):
    other_tenant, _ = onboard(ctx, admin, "globex", "ma-mp")
    other = account_caller(ctx, admin, other_tenant["account_id"])
    _number(ctx, other, "+12015550199")
    _production(ctx, other)
    stream = f"sms-{uuid.uuid4().hex[:8]}"  # the same delivery stream name and set name in both accounts
    for caller in (owner, other):
        configuration_sets.create(ctx, caller, "tracked")
        configuration_sets.create_destination(ctx, caller, "tracked", "files", _firehose(caller, stream, "ALL"))
    pump.run_once()  # destinations hear of texts from the pass after they are first seen
    theirs = _send(ctx, other, US_SUCCESS, ConfigurationSetName="tracked")
    _deliver(ctx, pump)
    assert _in_files(ctx, stream, owner.account_id) == []
    mine = _in_files(ctx, stream, other.account_id)
    assert {e["messageId"] for e in mine} == {theirs} and {e["pinfold"]["account_id"] for e in mine} == {
        other.account_id}
