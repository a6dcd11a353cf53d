"""Pinpoint's SendMessages and SendUsersMessages over SMS, through the service functions: a result per
recipient in Pinpoint's shape (SUCCESSFUL, OPT_OUT, PERMANENT_FAILURE), bodies from the message, a
template or an override rendered with the endpoint's attributes, the origination rules, and the
account's numbers, opt-outs, sandbox and spend shared with SendTextMessage."""

from __future__ import annotations

import time

import pytest

from pinfold.audience import endpoints
from pinfold.core.errors import InvalidInput, LimitExceeded, NotFound
from pinfold.events import outbox
from pinfold.messaging import channels, messages, templates
from pinfold.sms import account, identities, opt_outs, pools, send
from pinfold.sms.delivery import SmsDelivery
from pinfold.sms.rules import prices
from pinfold.sms.store import messages as sms_messages
from pinfold.sms.store import spend
from tests.service.helpers import account_caller, onboard

US_SUCCESS, US_FAILURE = "+14254147755", "+14254147167"
GB_SUCCESS = "+447860019066"
REAL_US = "+12065550123"


@pytest.fixture
def placed(ctx, admin):
    tenant, _ = onboard(ctx, admin, "acme", "ma-mp")
    owner = account_caller(ctx, admin, tenant["account_id"])
    channels.update(ctx, owner, tenant["project_id"], "SMS", {"Enabled": True})
    return owner, tenant["project_id"]


def _number(ctx, owner, number_type: str = "SIMULATOR") -> str:
    return identities.request_number(ctx, owner, {"IsoCountryCode": "US", "MessageType": "TRANSACTIONAL",
                                                  "NumberCapabilities": ["SMS"], "NumberType": number_type})


def _send(ctx, owner, project, addresses: dict, sms: dict | None = None, **request) -> dict:
    configuration = request.pop("MessageConfiguration", None) or {"SMSMessage": {"Body": "Hello", **(sms or {})}}
    response = messages.send_messages(ctx, owner, project, {
        "Addresses": {address: {"ChannelType": "SMS", **config} for address, config in addresses.items()},
        "MessageConfiguration": configuration, **request})
    return response["MessageResponse"]


def _row(ctx, message_id: str) -> dict:
    with ctx.db.read() as conn:
        return sms_messages.get(conn, message_id)


def _records(ctx) -> list[dict]:
    with ctx.db.read() as conn:
        return [row["record"] for row in outbox.read_after(conn, 0, 10_000)]


def _spent(ctx, owner) -> float:
    with ctx.db.read() as conn:
        return spend.spent(conn, owner.account_id, owner.region, spend.month_of(time.time()))


def test_an_address_gets_a_queued_text_that_the_carrier_simulator_delivers(ctx, placed):
    owner, project = placed
    number = _number(ctx, owner)["PhoneNumber"]
    response = _send(ctx, owner, project, {US_SUCCESS: {"Context": {"order": "42"}}},
                     sms={"Keyword": "SHOP", "MessageType": "TRANSACTIONAL"})
    result = response["Result"][US_SUCCESS]
    assert (result["DeliveryStatus"], result["StatusCode"]) == ("SUCCESSFUL", 200) and result["MessageId"]
    row = _row(ctx, result["MessageId"])
    assert (row["project_id"], row["message"]["origination"], row["message"]["body"]) == (project, number, "Hello")
    assert row["message"]["context"] == {"order": "42"} and row["message"]["keyword"] == "SHOP"
    assert _spent(ctx, owner) == pytest.approx(prices.price_of("US", 1))

    assert SmsDelivery(ctx).run_once() == 1
    assert _row(ctx, result["MessageId"])["status"] == "delivered"
    sms_records = [r for r in _records(ctx) if r["event_type"].startswith("_SMS.")]
    assert {r["event_type"] for r in sms_records} >= {"_SMS.SUCCESS"}
    assert all(r["client"]["client_id"] == result["MessageId"] for r in sms_records)
    assert sms_records[0]["attributes"]["customer_context"] == '{"order":"42"}'


def test_an_endpoint_gets_a_template_rendered_with_its_attributes_and_its_records_name_it(ctx, placed):
    owner, project = placed
    _number(ctx, owner)
    endpoints.update_endpoint(ctx, owner, project, "ann", {
        "ChannelType": "SMS", "Address": US_SUCCESS, "Attributes": {"plan": ["gold"]},
        "User": {"UserId": "u-ann", "UserAttributes": {"FirstName": ["Ann"]}}})
    templates.create(ctx, owner, "otp", "SMS", {
        "Body": "Hi {{User.UserAttributes.FirstName}} ({{Attributes.plan}}), code {{code}} {{extra}}",
        "DefaultSubstitutions": '{"code": "000000", "extra": "-"}'})
    response = messages.send_messages(ctx, owner, project, {
        "Endpoints": {"ann": {"Substitutions": {"code": ["424242"]}}, "nobody": {}},
        "MessageConfiguration": {"SMSMessage": {}}, "TemplateConfiguration": {"SMSTemplate": {"Name": "otp"}}})
    result = response["MessageResponse"]["EndpointResult"]
    assert (result["ann"]["DeliveryStatus"], result["ann"]["Address"]) == ("SUCCESSFUL", US_SUCCESS)
    assert result["nobody"]["StatusCode"] == 404
    assert _row(ctx, result["ann"]["MessageId"])["message"]["body"] == "Hi Ann (gold), code 424242 -"

    SmsDelivery(ctx).run_once()
    sms_records = [r for r in _records(ctx) if r["event_type"].startswith("_SMS.")]
    assert sms_records and all(r["client"]["client_id"] == "ann" for r in sms_records)

    users = messages.send_users_messages(ctx, owner, project, {
        "Users": {"u-ann": {"BodyOverride": "Only for {{User.UserId}}"}},
        "MessageConfiguration": {"SMSMessage": {"Body": "unused"}}})["SendUsersMessageResponse"]["Result"]
    assert users["u-ann"]["ann"]["DeliveryStatus"] == "SUCCESSFUL"
    assert _row(ctx, users["u-ann"]["ann"]["MessageId"])["message"]["body"] == "Only for u-ann"
    with pytest.raises(NotFound):
        messages.send_messages(ctx, owner, project, {"Addresses": {US_SUCCESS: {"ChannelType": "SMS"}},
                                                     "MessageConfiguration": {"SMSMessage": {}},
                                                     "TemplateConfiguration": {"SMSTemplate": {"Name": "gone"}}})


def test_bodies_overrides_and_the_default_message(ctx, placed):
    owner, project = placed
    _number(ctx, owner)
    response = _send(ctx, owner, project, {US_SUCCESS: {"BodyOverride": "Mine, {{name}}",
                                                        "Substitutions": {"name": ["Bo"]}}},
                     MessageConfiguration={"DefaultMessage": {"Body": "Default {{name}}",
                                                              "Substitutions": {"name": ["All"]}}})
    assert _row(ctx, response["Result"][US_SUCCESS]["MessageId"])["message"]["body"] == "Mine, Bo"
    response = _send(ctx, owner, project, {US_FAILURE: {}},
                     MessageConfiguration={"DefaultMessage": {"Body": "Default {{name}}",
                                                              "Substitutions": {"name": ["All"]}}})
    assert _row(ctx, response["Result"][US_FAILURE]["MessageId"])["message"]["body"] == "Default All"
    with pytest.raises(InvalidInput, match="needs a Body"):
        _send(ctx, owner, project, {US_SUCCESS: {}}, MessageConfiguration={"SMSMessage": {"Keyword": "X"}})
    with pytest.raises(InvalidInput, match="MessageType"):
        _send(ctx, owner, project, {US_SUCCESS: {}}, sms={"MessageType": "URGENT"})
    long_body = _send(ctx, owner, project, {US_SUCCESS: {}}, sms={"Body": "x" * 1531})["Result"][US_SUCCESS]
    assert long_body["DeliveryStatus"] == "PERMANENT_FAILURE" and "at most 1530" in long_body["StatusMessage"]


def test_an_opted_out_number_gets_opt_out_not_an_exception(ctx, placed):
    owner, project = placed
    _number(ctx, owner)
    opt_outs.put_number(ctx, owner, "Default", US_FAILURE)
    response = _send(ctx, owner, project, {US_FAILURE: {}, US_SUCCESS: {}})
    assert response["Result"][US_FAILURE] == {"DeliveryStatus": "OPT_OUT", "StatusCode": 400,
                                              "StatusMessage": "Destination phone number opted out"}
    assert response["Result"][US_SUCCESS]["DeliveryStatus"] == "SUCCESSFUL"
    with pytest.raises(Exception) as refused:  # End User Messaging refuses the same number outright
        send.send_text_message(ctx, owner, {"DestinationPhoneNumber": US_FAILURE, "MessageBody": "hi"})
    assert refused.value.details["Reason"] == "DESTINATION_PHONE_NUMBER_OPTED_OUT"


def test_per_recipient_failures(ctx, placed):
    owner, project = placed
    response = _send(ctx, owner, project, {US_SUCCESS: {}})
    assert response["Result"][US_SUCCESS]["DeliveryStatus"] == "PERMANENT_FAILURE"  # no number yet
    assert "No origination identity" in response["Result"][US_SUCCESS]["StatusMessage"]
    _number(ctx, owner)
    response = _send(ctx, owner, project, {"+1555": {}, "not-a-number": {}})
    assert {result["DeliveryStatus"] for result in response["Result"].values()} == {"PERMANENT_FAILURE"}
    bare = messages.send_messages(ctx, owner, project, {"Addresses": {US_SUCCESS: {}},
                                                        "MessageConfiguration": {"SMSMessage": {"Body": "x"}}})
    assert "ChannelType" in bare["MessageResponse"]["Result"][US_SUCCESS]["StatusMessage"]
    duplicate = _send(ctx, owner, project, {US_SUCCESS: {}, " +14254147755": {}})["Result"]
    assert sorted(result["DeliveryStatus"] for result in duplicate.values()) == ["DUPLICATE", "SUCCESSFUL"]

    channels.update(ctx, owner, project, "SMS", {"Enabled": False})
    off = _send(ctx, owner, project, {US_SUCCESS: {}})["Result"][US_SUCCESS]
    assert (off["DeliveryStatus"], off["StatusMessage"]) == ("PERMANENT_FAILURE",
                                                             "The SMS channel is not enabled for this project")


def test_origination_number_sender_id_and_the_channels_settings(ctx, placed, admin):
    owner, project = placed
    simulator = _number(ctx, owner)
    long_code = _number(ctx, owner, "LONG_CODE")
    chosen = _send(ctx, owner, project, {US_SUCCESS: {}})["Result"][US_SUCCESS]
    assert _row(ctx, chosen["MessageId"])["message"]["origination"] == long_code["PhoneNumber"]  # before SIMULATOR
    named = _send(ctx, owner, project, {US_SUCCESS: {}}, sms={"OriginationNumber": simulator["PhoneNumber"]})
    assert _row(ctx, named["Result"][US_SUCCESS]["MessageId"])["message"]["origination"] == simulator["PhoneNumber"]
    unknown = _send(ctx, owner, project, {US_SUCCESS: {}}, sms={"OriginationNumber": "+12025550199"})
    assert unknown["Result"][US_SUCCESS]["DeliveryStatus"] == "PERMANENT_FAILURE"  # no fallback

    pool = pools.create(ctx, owner, {"OriginationIdentity": simulator["PhoneNumberId"], "IsoCountryCode": "US",
                                          "MessageType": "TRANSACTIONAL"})
    pooled = _send(ctx, owner, project, {US_SUCCESS: {}}, sms={"OriginationNumber": pool["PoolId"]})
    message = _row(ctx, pooled["Result"][US_SUCCESS]["MessageId"])["message"]
    assert (message["origination"], message["pool_id"]) == (simulator["PhoneNumber"], pool["PoolId"])

    # A sender id the account never registered is shown where the country takes one, passed over in the US.
    shown = _send(ctx, owner, project, {GB_SUCCESS: {}, US_FAILURE: {}}, sms={"SenderId": "MyShop"})["Result"]
    assert _row(ctx, shown[GB_SUCCESS]["MessageId"])["message"]["origination"] == "MyShop"
    assert _row(ctx, shown[US_FAILURE]["MessageId"])["message"]["origination"] == long_code["PhoneNumber"]
    channels.update(ctx, owner, project, "SMS", {"SenderId": "Acme"})
    by_channel = _send(ctx, owner, project, {GB_SUCCESS: {}})["Result"][GB_SUCCESS]
    assert _row(ctx, by_channel["MessageId"])["message"]["origination"] == "Acme"

    # The sandbox: a real number must be verified first.
    sandboxed = _send(ctx, owner, project, {REAL_US: {}})["Result"][REAL_US]
    assert "sandbox" in sandboxed["StatusMessage"]
    account.set_sms_production(ctx, admin, owner.account_id, sandbox=False, max_spend=10)
    assert _send(ctx, owner, project, {REAL_US: {}})["Result"][REAL_US]["DeliveryStatus"] == "SUCCESSFUL"


def test_the_monthly_spend_is_shared_with_send_text_message(ctx, placed, admin):
    owner, project = placed
    _number(ctx, owner)
    price = prices.price_of("US", 1)
    account.set_sms_production(ctx, admin, owner.account_id, sandbox=False, max_spend=None)
    with ctx.db.write() as conn:  # leave room for exactly two one-part texts this month
        limit = 1.0
        spend.add(conn, owner.account_id, owner.region, spend.month_of(time.time()), limit - 2 * price)
    send.send_text_message(ctx, owner, {"DestinationPhoneNumber": US_SUCCESS, "MessageBody": "one"})
    response = _send(ctx, owner, project, {US_SUCCESS: {}, US_FAILURE: {}})["Result"]
    assert response[US_SUCCESS]["DeliveryStatus"] == "SUCCESSFUL"
    assert response[US_FAILURE]["DeliveryStatus"] == "PERMANENT_FAILURE"
    assert "spend limit" in response[US_FAILURE]["StatusMessage"]
    with pytest.raises(LimitExceeded):
        send.send_text_message(ctx, owner, {"DestinationPhoneNumber": US_SUCCESS, "MessageBody": "three"})
