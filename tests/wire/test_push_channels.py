"""Push channels through boto3 `pinpoint` and the AWS CLI against a real server: set up APNs and FCM
as Pinpoint code does, read them back without their keys, refuse bad ones in Pinpoint's error shape."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard
from tests.push_fakes import apple_key, certificate_and_key, service_json
from tests.wire.test_cli import aws


@pytest.fixture(scope="module")
def tenant(server):
    placed = onboard(server, "sa-mp")
    return placed, make_client(server, placed["credentials"])


def test_apns_and_fcm_channels_as_pinpoint_code_sets_them_up(server, tenant):
    placed, pinpoint = tenant
    project = placed["tenant"]["project_id"]
    key = apple_key()
    apns = pinpoint.update_apns_channel(ApplicationId=project, APNSChannelRequest={
        "BundleId": "com.example.app", "TeamId": "TEAM123456", "TokenKeyId": "ABC123DEFG", "TokenKey": key,
        "DefaultAuthenticationMethod": "TOKEN", "Enabled": True})["APNSChannelResponse"]
    assert {name: apns[name] for name in ("Platform", "HasTokenKey", "DefaultAuthenticationMethod", "Enabled",
                                          "Version", "ApplicationId")} == {
        "Platform": "APNS", "HasTokenKey": True, "DefaultAuthenticationMethod": "TOKEN", "Enabled": True,
        "Version": 1, "ApplicationId": project}
    certificate, private_key = certificate_and_key()
    sandbox = pinpoint.update_apns_sandbox_channel(ApplicationId=project, APNSSandboxChannelRequest={
        "Certificate": certificate, "PrivateKey": private_key})["APNSSandboxChannelResponse"]
    assert (sandbox["Platform"], sandbox["DefaultAuthenticationMethod"]) == ("APNS_SANDBOX", "CERTIFICATE")
    fcm = pinpoint.update_gcm_channel(ApplicationId=project, GCMChannelRequest={
        "ServiceJson": service_json(), "DefaultAuthenticationMethod": "TOKEN", "Enabled": True})["GCMChannelResponse"]
    assert (fcm["Platform"], fcm["HasFcmServiceCredentials"]) == ("GCM", True)
    assert pinpoint.get_apns_channel(ApplicationId=project)["APNSChannelResponse"] == apns
    listed = pinpoint.get_channels(ApplicationId=project)["ChannelsResponse"]["Channels"]
    assert {"APNS", "APNS_SANDBOX", "GCM"} <= set(listed) and listed["GCM"]["HasCredential"] is True
    every_answer = json.dumps([apns, sandbox, fcm, listed], default=str)
    assert key.splitlines()[1] not in every_answer and private_key.splitlines()[1] not in every_answer
    assert "private_key" not in every_answer
    deleted = pinpoint.delete_apns_sandbox_channel(ApplicationId=project)["APNSSandboxChannelResponse"]
    assert deleted["Platform"] == "APNS_SANDBOX"
    with pytest.raises(ClientError) as caught:
        pinpoint.get_apns_sandbox_channel(ApplicationId=project)
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
    assert key.splitlines()[1] not in server.logs()


def test_bad_push_credentials_are_a_bad_request_naming_the_field(tenant):
    placed, pinpoint = tenant
    project = placed["tenant"]["project_id"]
    with pytest.raises(ClientError) as caught:
        pinpoint.update_apns_voip_channel(ApplicationId=project, APNSVoipChannelRequest={
            "BundleId": "com.example.app", "TeamId": "TEAM123456", "TokenKeyId": "ABC123DEFG",
            "TokenKey": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"})
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("BadRequestException", 400)
    assert "TokenKey" in error["Error"]["Message"] and "not a key" not in error["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        pinpoint.update_baidu_channel(ApplicationId=project, BaiduChannelRequest={"ApiKey": "k", "SecretKey": ""})
    assert caught.value.response["Error"]["Code"] == "BadRequestException"


def test_the_aws_cli_sets_up_adm_and_baidu(server, tenant):
    placed, _pinpoint = tenant
    project, credentials = placed["tenant"]["project_id"], placed["credentials"]
    made = aws(server, credentials, "pinpoint", "update-adm-channel", "--application-id", project,
               "--adm-channel-request", "ClientId=amzn1.application-oa2-client.1,ClientSecret=adm-secret,Enabled=true")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["ADMChannelResponse"]["Platform"] == "ADM" and "adm-secret" not in made.stdout
    made = aws(server, credentials, "pinpoint", "update-baidu-channel", "--application-id", project,
               "--baidu-channel-request", "ApiKey=baidu-api-key-9876,SecretKey=baidu-secret")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["BaiduChannelResponse"]["Credential"] == "****9876"
    read = aws(server, credentials, "pinpoint", "get-baidu-channel", "--application-id", project)
    assert read.returncode == 0 and "baidu-secret" not in read.stdout


def test_push_templates_through_boto3(tenant):
    _placed, pinpoint = tenant
    content = {"Default": {"Title": "Hi {{User.UserAttributes.FirstName}}", "Body": "Shipped", "Action": "OPEN_APP"},
               "APNS": {"Body": "Shipped", "Sound": "default"}, "GCM": {"Body": "Shipped", "ImageUrl": "https://a.example/i.png"}}
    made = pinpoint.create_push_template(TemplateName="shipped", PushNotificationTemplateRequest=content)
    assert made["CreateTemplateMessageBody"]["Arn"].endswith(":templates/shipped/PUSH")
    found = pinpoint.get_push_template(TemplateName="shipped")["PushNotificationTemplateResponse"]
    assert (found["Default"], found["APNS"], found["GCM"], found["TemplateType"]) == (
        content["Default"], content["APNS"], content["GCM"], "PUSH")
    pinpoint.update_push_template(TemplateName="shipped", CreateNewVersion=True,
                                  PushNotificationTemplateRequest={"Default": {"Body": "v2"}})
    assert pinpoint.get_push_template(TemplateName="shipped", Version="2")[
        "PushNotificationTemplateResponse"]["Default"] == {"Body": "v2"}
    listed = pinpoint.list_templates(TemplateType="PUSH")["TemplatesResponse"]["Item"]
    assert [item["TemplateName"] for item in listed] == ["shipped"]
    with pytest.raises(ClientError) as caught:
        pinpoint.create_push_template(TemplateName="empty", PushNotificationTemplateRequest={})
    assert caught.value.response["Error"]["Code"] == "BadRequestException"
    pinpoint.delete_push_template(TemplateName="shipped")
    with pytest.raises(ClientError) as caught:
        pinpoint.get_push_template(TemplateName="shipped")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"


def test_a_push_sent_with_boto3_reaches_the_push_simulator(server, tenant):
    placed, pinpoint = tenant
    project = placed["tenant"]["project_id"]
    pinpoint.update_gcm_channel(ApplicationId=project, GCMChannelRequest={"ServiceJson": service_json(),
                                                                          "Enabled": True})
    pinpoint.update_endpoint(ApplicationId=project, EndpointId="pixel-7", EndpointRequest={
        "ChannelType": "GCM", "Address": "fcm-wire-token", "User": {"UserId": "grace"}})
    answer = pinpoint.send_messages(ApplicationId=project, MessageRequest={
        "Endpoints": {"pixel-7": {}},
        "MessageConfiguration": {"GCMMessage": {"Title": "Hello", "Body": "From boto3", "Action": "URL",
                                                "Url": "https://example.com/hello"}}})["MessageResponse"]
    result = answer["EndpointResult"]["pixel-7"]
    assert result["DeliveryStatus"] == "SUCCESSFUL", result
    [push] = _pushes(server, "fcm-wire-token", 1)
    assert push["message_id"] == result["MessageId"] and push["platform"] == "GCM"
    assert push["payload"]["data"]["pinpoint.url"] == "https://example.com/hello"
    shown = server.cli("push", "show", push["id"]).stdout
    assert "pinpoint.notification.body" in shown and "From boto3" in shown


def _pushes(server, token: str, count: int) -> list[dict]:
    deadline = time.monotonic() + 30
    while True:
        listed = json.loads(server.cli("push", "list", "--token", token, "--json").stdout)
        if len(listed) >= count or time.monotonic() > deadline:
            return listed
        time.sleep(0.2)


def test_a_segment_push_campaign_created_with_boto3(server, tenant):
    placed, pinpoint = tenant
    project = placed["tenant"]["project_id"]
    pinpoint.update_apns_channel(ApplicationId=project, APNSChannelRequest={
        "BundleId": "com.example.app", "TeamId": "TEAM123456", "TokenKeyId": "ABC123DEFG", "TokenKey": apple_key()})
    pinpoint.update_gcm_channel(ApplicationId=project, GCMChannelRequest={"ServiceJson": service_json()})
    for endpoint_id, channel, token in (("ios-1", "APNS", "c0ffee01"), ("android-1", "GCM", "fcm-campaign-1")):
        pinpoint.update_endpoint(ApplicationId=project, EndpointId=endpoint_id, EndpointRequest={
            "ChannelType": channel, "Address": token, "Attributes": {"beta": ["yes"]}})
    segment = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={
        "Name": "beta testers", "Dimensions": {"Attributes": {"beta": {"AttributeType": "INCLUSIVE",
                                                                       "Values": ["yes"]}}}})["SegmentResponse"]
    campaign = pinpoint.create_campaign(ApplicationId=project, WriteCampaignRequest={
        "Name": "beta build", "SegmentId": segment["Id"], "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
        "MessageConfiguration": {"DefaultMessage": {"Title": "New beta", "Body": "Build 42 is out",
                                                    "Action": "DEEP_LINK", "Url": "myapp://beta"}}})["CampaignResponse"]
    [ios] = _pushes(server, "c0ffee01", 1)
    [android] = _pushes(server, "fcm-campaign-1", 1)
    assert ios["payload"]["data"]["pinpoint"]["campaign"]["campaign_id"] == campaign["Id"]
    assert ios["payload"]["data"]["pinpoint"]["deeplink"] == "myapp://beta"
    assert android["payload"]["data"]["pinpoint.deeplink"] == "myapp://beta"
    deadline = time.monotonic() + 30
    while pinpoint.get_campaign(ApplicationId=project, CampaignId=campaign["Id"])["CampaignResponse"]["State"][
            "CampaignStatus"] != "COMPLETED" and time.monotonic() < deadline:
        time.sleep(0.2)
    [activity] = pinpoint.get_campaign_activities(ApplicationId=project, CampaignId=campaign["Id"])[
        "ActivitiesResponse"]["Item"]
    assert (activity["State"], activity["TotalEndpointCount"], activity["SuccessfulEndpointCount"]) == (
        "COMPLETED", 2, 2)
