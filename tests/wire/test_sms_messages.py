"""Pinpoint's SendMessages and SendUsersMessages over SMS through boto3 against a real `pinfold serve`:
an address and an endpoint get texts from a SIMULATOR number requested through End User Messaging,
the carrier simulator keeps them (read back with `pinfold sms list --json`), and an opted-out number
gets Pinpoint's per-recipient OPT_OUT rather than an error."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import make_client, onboard

US_SUCCESS, US_FAILURE = "+14254147755", "+14254147167"


@pytest.fixture
def tenant(server):
    placed = onboard(server, "ma-mp")
    pinpoint = make_client(server, placed["credentials"])
    sms = make_client(server, placed["credentials"], "pinpoint-sms-voice-v2")
    number = sms.request_phone_number(IsoCountryCode="US", MessageType="TRANSACTIONAL", NumberCapabilities=["SMS"],
                                      NumberType="SIMULATOR")["PhoneNumber"]
    project = placed["tenant"]["project_id"]
    pinpoint.update_sms_channel(ApplicationId=project, SMSChannelRequest={"Enabled": True})
    return project, pinpoint, sms, number


def _carried(server, message_ids: set[str], timeout: float = 20) -> dict[str, dict]:
    deadline, kept = time.monotonic() + timeout, {}
    while time.monotonic() < deadline and len(kept) < len(message_ids):
        listed = json.loads(server.cli("sms", "list", "--json").stdout)
        kept = {text["message_id"]: text for text in listed if text["message_id"] in message_ids}
        time.sleep(0.2)
    return kept


def test_an_address_and_an_endpoint_get_texts_through_the_carrier_simulator(server, tenant):
    project, pinpoint, _sms, number = tenant
    pinpoint.update_endpoint(ApplicationId=project, EndpointId="ann", EndpointRequest={
        "ChannelType": "SMS", "Address": US_SUCCESS, "User": {"UserId": "u-ann", "UserAttributes": {
            "FirstName": ["Ann"]}}})
    response = pinpoint.send_messages(ApplicationId=project, MessageRequest={
        "Addresses": {US_FAILURE: {"ChannelType": "SMS", "BodyOverride": "Order shipped"}},
        "Endpoints": {"ann": {}},
        "MessageConfiguration": {"SMSMessage": {"Body": "Hi {{User.UserAttributes.FirstName}}",
                                                "MessageType": "TRANSACTIONAL", "OriginationNumber": number}}})
    result = response["MessageResponse"]
    address, endpoint = result["Result"][US_FAILURE], result["EndpointResult"]["ann"]
    assert (address["DeliveryStatus"], address["StatusCode"]) == ("SUCCESSFUL", 200)
    assert (endpoint["DeliveryStatus"], endpoint["Address"]) == ("SUCCESSFUL", US_SUCCESS)

    kept = _carried(server, {address["MessageId"], endpoint["MessageId"]})
    assert set(kept) == {address["MessageId"], endpoint["MessageId"]}, "the SMS worker did not deliver both"
    assert (kept[endpoint["MessageId"]]["body"], kept[endpoint["MessageId"]]["outcome"]) == ("Hi Ann", "DELIVERED")
    assert kept[endpoint["MessageId"]]["origination"] == number
    failed = kept[address["MessageId"]]  # the failure simulator destination
    assert (failed["body"], failed["outcome"]) == ("Order shipped", "UNREACHABLE")

    users = pinpoint.send_users_messages(ApplicationId=project, SendUsersMessageRequest={
        "Users": {"u-ann": {}}, "MessageConfiguration": {"SMSMessage": {"Body": "Again"}}})
    assert users["SendUsersMessageResponse"]["Result"]["u-ann"]["ann"]["DeliveryStatus"] == "SUCCESSFUL"


def test_an_opted_out_number_and_a_disabled_channel_answer_per_recipient(tenant):
    project, pinpoint, sms, _number = tenant
    sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber=US_FAILURE)
    result = pinpoint.send_messages(ApplicationId=project, MessageRequest={
        "Addresses": {US_FAILURE: {"ChannelType": "SMS"}, "+1": {"ChannelType": "SMS"}},
        "MessageConfiguration": {"SMSMessage": {"Body": "Sale!"}}})["MessageResponse"]["Result"]
    assert (result[US_FAILURE]["DeliveryStatus"], result[US_FAILURE]["StatusCode"],
            result[US_FAILURE]["StatusMessage"]) == ("OPT_OUT", 400, "Destination phone number opted out")
    assert result["+1"]["DeliveryStatus"] == "PERMANENT_FAILURE"

    pinpoint.update_sms_channel(ApplicationId=project, SMSChannelRequest={"Enabled": False})
    off = pinpoint.send_messages(ApplicationId=project, MessageRequest={
        "Addresses": {US_SUCCESS: {"ChannelType": "SMS"}},
        "MessageConfiguration": {"SMSMessage": {"Body": "Sale!"}}})["MessageResponse"]["Result"][US_SUCCESS]
    assert (off["DeliveryStatus"], off["StatusMessage"]) == ("PERMANENT_FAILURE",
                                                             "The SMS channel is not enabled for this project")
