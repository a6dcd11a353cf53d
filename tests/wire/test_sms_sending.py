"""SendTextMessage through boto3 against a real `pinfold serve`: a SIMULATOR number requested with
RequestPhoneNumber sends to AWS's US success simulator destination; an opted-out destination is a
ConflictException whose Reason, ResourceType and ResourceId boto3 reads from `e.response`."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard

US_SUCCESS, US_FAILURE = "+14254147755", "+14254147167"


@pytest.fixture
def sms(server):
    client = make_client(server, onboard(server, "ma-mp")["credentials"], "pinpoint-sms-voice-v2")
    client.request_phone_number(IsoCountryCode="US", MessageType="TRANSACTIONAL", NumberCapabilities=["SMS"],
                                NumberType="SIMULATOR")
    return client


def test_a_simulator_number_sends_to_the_success_destination_and_the_carrier_simulator_keeps_it(server, sms):
    assert httpx.get(f"{server.url}/ready").json()["checks"]["services"]["sms"] == "running"
    message_id = sms.send_text_message(DestinationPhoneNumber=US_SUCCESS, MessageBody="Your code is 424242",
                                       MessageType="TRANSACTIONAL", Context={"case": "wire"})["MessageId"]
    deadline = time.monotonic() + 20
    kept = []
    while time.monotonic() < deadline and not kept:
        listed = server.cli("sms", "list", "--json", "--destination", US_SUCCESS)
        kept = [text for text in json.loads(listed.stdout) if text["message_id"] == message_id]
        time.sleep(0.2)
    assert kept, "the SMS worker did not deliver the message to the carrier simulator"
    assert (kept[0]["body"], kept[0]["outcome"], kept[0]["encoding"]) == ("Your code is 424242", "DELIVERED", "GSM")
    shown = server.cli("sms", "show", kept[0]["id"])
    assert "Your code is 424242" in shown.stdout


def test_an_opted_out_destination_is_refused_with_the_members_boto3_reads(sms):
    sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber=US_FAILURE)
    with pytest.raises(ClientError) as caught:
        sms.send_text_message(DestinationPhoneNumber=US_FAILURE, MessageBody="hello")
    response = caught.value.response
    assert response["Error"]["Code"] == "ConflictException"
    assert (response["Reason"], response["ResourceType"], response["ResourceId"]) == (
        "DESTINATION_PHONE_NUMBER_OPTED_OUT", "opted-out-number", US_FAILURE)


def test_refusals_on_the_wire(sms):
    with pytest.raises(ClientError) as caught:
        sms.send_text_message(DestinationPhoneNumber="+12065550123", MessageBody="hello")
    assert (caught.value.response["Error"]["Code"], caught.value.response["Reason"]) == (
        "ConflictException", "NO_ORIGINATION_IDENTITIES_FOUND")
    with pytest.raises(ClientError) as caught:
        sms.send_text_message(DestinationPhoneNumber=US_SUCCESS, MessageBody="hello", MaxPrice="0.00001")
    assert (caught.value.response["Error"]["Code"], caught.value.response["Reason"]) == (
        "ValidationException", "PRICE_OVER_THRESHOLD")
    with pytest.raises(ClientError) as caught:
        sms.send_text_message(DestinationPhoneNumber=US_SUCCESS, MessageBody="hello",
                              OriginationIdentity="pool-" + "0" * 32)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert (caught.value.response["ResourceType"], caught.value.response["ResourceId"]) == ("pool", "pool-" + "0" * 32)
    assert sms.send_text_message(DestinationPhoneNumber=US_SUCCESS, MessageBody="hello", DryRun=True)["MessageId"]
