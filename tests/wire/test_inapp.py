"""In-app messaging through boto3 `pinpoint` and the AWS CLI against a real server, as an app's backend
and the mobile SDKs call it: an in-app template, an in-app campaign to a segment, and GetInAppMessages
for an endpoint, in each tenancy model's way."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard
from tests.wire.test_cli import aws

CARD = {"HeaderConfig": {"Alignment": "CENTER", "Header": "New!", "TextColor": "#000000"},
        "BodyConfig": {"Alignment": "LEFT", "Body": "Dark mode is here", "TextColor": "#222222"},
        "PrimaryBtn": {"DefaultConfig": {"ButtonAction": "DEEP_LINK", "Link": "app://settings", "Text": "Try it"}}}
TRIGGER = {"FilterType": "ENDPOINT", "Dimensions": {"EventType": {"DimensionType": "INCLUSIVE",
                                                                    "Values": ["_session.start"]}}}


@pytest.mark.parametrize("model", ["sa-sp", "sa-mp", "ma-mp"])
def test_an_in_app_campaign_reaches_getinappmessages(server, model):
    placed = onboard(server, model)
    pinpoint, creds = make_client(server, placed["credentials"]), placed["credentials"]
    project = placed["tenant"]["project_id"]
    template = f"dark-mode-{model}"
    created = pinpoint.create_in_app_template(TemplateName=template, InAppTemplateRequest={
        "Layout": "MIDDLE_BANNER", "Content": [CARD], "CustomConfig": {"feature": "dark"}})
    assert created["TemplateCreateMessageBody"]["Arn"].endswith(f"templates/{template}/INAPP")
    got = pinpoint.get_in_app_template(TemplateName=template)["InAppTemplateResponse"]
    assert (got["Layout"], got["Content"], got["TemplateType"]) == ("MIDDLE_BANNER", [CARD], "INAPP")
    pinpoint.update_endpoint(ApplicationId=project, EndpointId="app-install-1", EndpointRequest={
        "ChannelType": "IN_APP", "Address": "app-install-1", "Attributes": {"plan": ["pro"]}})
    segment = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={
        "Name": "pro", "Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["pro"]}}}})
    campaign = pinpoint.create_campaign(ApplicationId=project, WriteCampaignRequest={
        "Name": "dark mode", "SegmentId": segment["SegmentResponse"]["Id"], "Priority": 3,
        "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "IN_APP_EVENT", "EventFilter": TRIGGER},
        "Limits": {"Session": 1, "Daily": 1}, "TemplateConfiguration": {"InAppTemplate": {"Name": template}}})
    campaign_id = campaign["CampaignResponse"]["Id"]

    answer = pinpoint.get_in_app_messages(ApplicationId=project, EndpointId="app-install-1")
    [shown] = answer["InAppMessagesResponse"]["InAppMessageCampaigns"]
    assert (shown["CampaignId"], shown["TreatmentId"], shown["Priority"], shown["SessionCap"], shown["DailyCap"],
            shown["TotalCap"]) == (campaign_id, "0", 3, 1, 1, 0)
    assert shown["InAppMessage"] == {"Layout": "MIDDLE_BANNER", "Content": [CARD], "CustomConfig": {"feature": "dark"}}
    assert shown["Schedule"]["EventFilter"] == TRIGGER
    by_cli = aws(server, creds, "pinpoint", "get-in-app-messages", "--application-id", project,
                 "--endpoint-id", "app-install-1")
    assert by_cli.returncode == 0, by_cli.stderr
    assert json.loads(by_cli.stdout)["InAppMessagesResponse"]["InAppMessageCampaigns"][0]["CampaignId"] == campaign_id
    with pytest.raises(ClientError) as caught:
        pinpoint.get_in_app_messages(ApplicationId=project, EndpointId="never-registered")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"


def test_bad_in_app_content_is_a_bad_request_naming_the_field(server):
    placed = onboard(server, "sa-mp")
    pinpoint = make_client(server, placed["credentials"])
    with pytest.raises(ClientError) as caught:
        pinpoint.create_in_app_template(TemplateName="broken", InAppTemplateRequest={
            "Layout": "OVERLAYS",
            "Content": [{"BodyConfig": {"Alignment": "JUSTIFY", "Body": "x", "TextColor": "#000"}}]})
    error = caught.value.response
    assert error["Error"]["Code"] == "BadRequestException" and "Alignment" in error["Error"]["Message"]
