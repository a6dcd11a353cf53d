"""Two-way SMS: a message to a number (or a pool) with TwoWayEnabled reaches its SNS topic's NATS
stream in End User Messaging's payload, through the outbox and the pump; without two-way, nothing."""

from __future__ import annotations

import json
import uuid

import pytest

from pinfold.events import outbox
from pinfold.events.pump import Pump
from pinfold.events.sinks.base import Outlets
from pinfold.sms import identities, pools, two_way
from pinfold.sms.event_destinations import SmsDestinations
from pinfold.sms.store import resources
from tests.conftest import free_port
from tests.service.helpers import account_caller, onboard
from tests.service.test_pump import _nats_available, _read_stream
from tests.service.test_sms_sending import US_SUCCESS, _number, _pool

NUMBER = "+12015550100"
PAYLOAD_KEYS = {"originationNumber", "destinationNumber", "messageKeyword", "messageBody", "inboundMessageId",
                "previousPublishedMessageId"}


@pytest.fixture
def owner(ctx, admin):
    tenant, _ = onboard(ctx, admin, "acme", "ma-mp")
    return account_caller(ctx, admin, tenant["account_id"])


def _pump(ctx, nats_url: str) -> Pump:
    return Pump(ctx, sources=[SmsDestinations(Outlets(nats_url), ctx.settings.firehose_location)])


def _topic(caller) -> tuple[str, str]:
    name = f"inbound-{uuid.uuid4().hex[:8]}"
    return name, f"arn:aws:sns:{caller.region}:{caller.account_id}:{name}"


def _receive(ctx, number: str, sender: str, body: str) -> str | None:
    """What reports.inbound does for two-way: find the number (and its pool) and hand the message on."""
    with ctx.db.write() as conn:
        row = resources.phone_number_anywhere(conn, number)
        pool = resources.get(conn, row["account_id"], row["region"], "pool", row["pool_id"]) if row["pool_id"] else None
        return two_way.inbound(conn, row, pool, sender, body)


def _outbox(ctx) -> list[dict]:
    with ctx.db.read() as conn:
        return outbox.read_after(conn, 0)


def _published(ctx, stream: str, subject: str | None = None) -> list[dict]:
    pump = _pump(ctx, ctx.settings.nats_url)
    try:
        pump.run_once(flush=True)
    finally:
        pump.stopped()
    return [json.loads(message.data) for message in _read_stream(stream, subject or f"{stream}.>")]


def test_an_inbound_message_to_a_two_way_number_reaches_nats_in_aws_payload(ctx, owner):
    _nats_available()
    topic, arn = _topic(owner)
    number_id = _number(ctx, owner, NUMBER)
    identities.update_number(ctx, owner, {"PhoneNumberId": number_id, "TwoWayEnabled": True,
                                          "TwoWayChannelArn": arn})
    first = _receive(ctx, NUMBER, US_SUCCESS, "Yes, see you at 10")
    second = _receive(ctx, NUMBER, US_SUCCESS, "help me")
    published = _published(ctx, topic, f"{topic}.{owner.account_id}.inbound.{number_id}")
    assert [set(payload) for payload in published] == [PAYLOAD_KEYS, PAYLOAD_KEYS]
    assert published[0] == {"originationNumber": US_SUCCESS, "destinationNumber": NUMBER,
                            "messageKeyword": f"keyword_{owner.account_id}", "messageBody": "Yes, see you at 10",
                            "inboundMessageId": first, "previousPublishedMessageId": None}
    # Keyword messages are published too, with the keyword they matched.
    assert (published[1]["messageKeyword"], published[1]["inboundMessageId"]) == ("HELP", second)
    assert _published(ctx, topic) == published  # a second pass publishes nothing again


def test_a_stop_is_published_with_its_keyword(ctx, owner):
    _nats_available()
    topic, arn = _topic(owner)
    number_id = _number(ctx, owner, NUMBER)
    identities.update_number(ctx, owner, {"PhoneNumberId": number_id, "TwoWayEnabled": True,
                                          "TwoWayChannelArn": arn, "SelfManagedOptOutsEnabled": True})
    _receive(ctx, NUMBER, US_SUCCESS, "unsubscribe")
    [payload] = _published(ctx, topic)
    assert payload["messageKeyword"] == "UNSUBSCRIBE" and payload["messageBody"] == "unsubscribe"


def test_a_number_without_two_way_publishes_nothing(ctx, owner):
    _number(ctx, owner, NUMBER)
    assert _receive(ctx, NUMBER, US_SUCCESS, "hello?") is None
    assert _outbox(ctx) == []


def test_a_channel_that_is_not_an_sns_topic_of_the_account_publishes_nothing(ctx, owner):
    number_id = _number(ctx, owner, NUMBER)
    for channel in ("arn:aws:sns:us-east-1:999999999999:theirs", "connect.us-east-1.amazonaws.com"):
        identities.update_number(ctx, owner, {"PhoneNumberId": number_id, "TwoWayEnabled": True,
                                              "TwoWayChannelArn": channel})
        assert _receive(ctx, NUMBER, US_SUCCESS, "hello?") is None
    assert _outbox(ctx) == []


def test_a_pooled_number_publishes_to_its_pools_channel(ctx, owner):
    _nats_available()
    topic, arn = _topic(owner)
    pool_id = _pool(ctx, owner)
    _number(ctx, owner, NUMBER, pool_id=pool_id)  # its own settings say nothing of two-way
    pools.update(ctx, owner, {"PoolId": pool_id, "TwoWayEnabled": True, "TwoWayChannelArn": arn})
    inbound_id = _receive(ctx, NUMBER, US_SUCCESS, "Running late")
    [payload] = _published(ctx, topic, f"{topic}.{owner.account_id}.inbound.{pool_id}")
    assert payload["inboundMessageId"] == inbound_id and payload["destinationNumber"] == NUMBER


def test_an_inbound_message_waits_in_the_outbox_while_nats_is_down(ctx, owner):
    _nats_available()
    topic, arn = _topic(owner)
    number_id = _number(ctx, owner, NUMBER)
    identities.update_number(ctx, owner, {"PhoneNumberId": number_id, "TwoWayEnabled": True,
                                          "TwoWayChannelArn": arn})
    inbound_id = _receive(ctx, NUMBER, US_SUCCESS, "Is the shop open?")
    down = _pump(ctx, f"nats://127.0.0.1:{free_port()}")
    try:
        assert down.run_once(flush=True).failed == 1
    finally:
        down.stopped()
    assert [row["event_type"] for row in _outbox(ctx)] == [two_way.RECORD_TYPE]
    [payload] = _published(ctx, topic)
    assert payload["inboundMessageId"] == inbound_id


def test_the_lake_keeps_no_handsets_words(ctx, owner):
    from pinfold.events.sinks.lake import LakeSink, to_table

    number_id = _number(ctx, owner, NUMBER)
    _topic_name, arn = _topic(owner)
    identities.update_number(ctx, owner, {"PhoneNumberId": number_id, "TwoWayEnabled": True,
                                          "TwoWayChannelArn": arn})
    _receive(ctx, NUMBER, US_SUCCESS, "my secret words")
    [row] = _outbox(ctx)
    assert not LakeSink.wants(None, row)  # the inbound record is no event: the lake skips it
    written = to_table([row["record"]]).to_pylist()  # and even written, it would not hold the words
    assert "secret" not in json.dumps(written, default=str)
