"""A custom-channel campaign created with boto3 against a real server: the HEAD check, then the
segment's endpoints reach a webhook receiver on loopback in calls it can verify."""

from __future__ import annotations

import time

import orjson

from pinfold.custom.rules import signing
from tests.conftest import make_client, onboard
from tests.service.test_custom_channel import SALE


def test_a_custom_channel_campaign_through_boto3(server, receiver):
    url, got = receiver
    placed = onboard(server, "ma-mp")
    got.account = placed["tenant"]["account_id"]
    pinpoint = make_client(server, placed["credentials"])
    project = placed["tenant"]["project_id"]
    pinpoint.update_endpoints_batch(ApplicationId=project, EndpointBatchRequest={"Item": [
        {"Id": f"crm-{n}", "ChannelType": "CUSTOM", "Address": f"contact-{n}", "Attributes": {"sale": ["yes"]}}
        for n in range(60)]})
    segment = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={"Name": "sale", **SALE})
    campaign = pinpoint.create_campaign(ApplicationId=project, WriteCampaignRequest={
        "Name": "to the CRM", "SegmentId": segment["SegmentResponse"]["Id"],
        "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
        "MessageConfiguration": {"CustomMessage": {"Data": '{"template": "spring"}'}},
        "CustomDeliveryConfiguration": {"DeliveryUri": f"{url}/crm", "EndpointTypes": ["CUSTOM"]}})["CampaignResponse"]
    deadline = time.monotonic() + 30
    while sum(len(orjson.loads(call["body"])["Endpoints"]) for call in got.calls) < 60 and time.monotonic() < deadline:
        time.sleep(0.2)
    payloads = [orjson.loads(call["body"]) for call in got.calls]
    assert sorted(len(p["Endpoints"]) for p in payloads) == [10, 50]
    assert {p["CampaignId"] for p in payloads} == {campaign["Id"]}
    key = bytes.fromhex(server.cli("custom", "signing-key", project).stdout.strip())
    assert all(signing.verify(key, call["headers"][signing.HEADER], call["body"], now=time.time())
               for call in got.calls)
    refused = server.cli("custom", "signing-key", project, "--tenant", "nobody", check=False)
    assert refused.returncode != 0 and "not an sa-sp tenant" in refused.stderr
