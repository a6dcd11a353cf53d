"""Campaigns through boto3 and the AWS CLI against a real server, written as Pinpoint users write them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard
from tests.wire.test_cli import aws


def _future(days: int = 7) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def tenant(server):
    """An ma-mp tenant whose project has an email channel on a domain of its own account."""
    placed = onboard(server, "ma-mp")
    project, account = placed["tenant"]["project_id"], placed["tenant"]["account_id"]
    make_client(server, placed["credentials"], "sesv2").create_email_identity(EmailIdentity="campaigns.example.com")
    make_client(server, placed["credentials"]).update_email_channel(ApplicationId=project, EmailChannelRequest={
        "FromAddress": "news@campaigns.example.com",
        "Identity": f"arn:aws:ses:{placed['tenant']['region']}:{account}:identity/campaigns.example.com"})
    return placed


@pytest.fixture(scope="module")
def pinpoint(server, tenant):
    return make_client(server, tenant["credentials"])


def test_an_email_campaign_through_boto3(pinpoint, tenant):
    project = tenant["tenant"]["project_id"]
    pinpoint.update_endpoint(ApplicationId=project, EndpointId="reader-1", EndpointRequest={
        "ChannelType": "EMAIL", "Address": "reader@example.com", "Attributes": {"plan": ["gold"]}})
    segment = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={
        "Name": "gold", "Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}}},
    )["SegmentResponse"]
    start = _future()
    created = pinpoint.create_campaign(ApplicationId=project, WriteCampaignRequest={
        "Name": "spring-sale", "SegmentId": segment["Id"], "SegmentVersion": 1,
        "Schedule": {"StartTime": start, "Frequency": "ONCE", "Timezone": "UTC"},
        "MessageConfiguration": {"EmailMessage": {"Title": "Spring sale", "HtmlBody": "<p>Up to 30% off</p>",
                                                  "FromAddress": "news@campaigns.example.com"}},
        "Limits": {"Daily": 1}, "tags": {"team": "growth"}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    campaign = created["CampaignResponse"]
    assert campaign["State"] == {"CampaignStatus": "SCHEDULED"} and campaign["Version"] == 1
    assert campaign["Arn"].endswith(f"apps/{project}/campaigns/{campaign['Id']}")
    assert campaign["Schedule"]["StartTime"] == start and campaign["tags"] == {"team": "growth"}
    campaign_id = campaign["Id"]
    got = pinpoint.get_campaign(ApplicationId=project, CampaignId=campaign_id)["CampaignResponse"]
    assert got["Name"] == "spring-sale" and got["SegmentVersion"] == 1
    listed = pinpoint.get_campaigns(ApplicationId=project, PageSize="10")["CampaignsResponse"]
    assert [c["Id"] for c in listed["Item"]] == [campaign_id]

    pinpoint.update_campaign(ApplicationId=project, CampaignId=campaign_id, WriteCampaignRequest={
        "Description": "now with a description"})
    versions = pinpoint.get_campaign_versions(ApplicationId=project, CampaignId=campaign_id)["CampaignsResponse"]
    assert [v["Version"] for v in versions["Item"]] == [1, 2]
    assert pinpoint.get_campaign_version(ApplicationId=project, CampaignId=campaign_id, Version="1")[
        "CampaignResponse"].get("Description") is None
    paused = pinpoint.update_campaign(ApplicationId=project, CampaignId=campaign_id,
                                      WriteCampaignRequest={"IsPaused": True})["CampaignResponse"]
    assert paused["State"] == {"CampaignStatus": "PAUSED"} and paused["IsPaused"] is True
    resumed = pinpoint.update_campaign(ApplicationId=project, CampaignId=campaign_id,
                                       WriteCampaignRequest={"IsPaused": False})["CampaignResponse"]
    assert resumed["State"] == {"CampaignStatus": "SCHEDULED"}
    activities = pinpoint.get_campaign_activities(ApplicationId=project, CampaignId=campaign_id)
    assert activities["ActivitiesResponse"]["Item"] == []  # its start is a week away

    arn = campaign["Arn"]
    pinpoint.tag_resource(ResourceArn=arn, TagsModel={"tags": {"owner": "ana"}})
    pinpoint.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert pinpoint.list_tags_for_resource(ResourceArn=arn)["TagsModel"]["tags"] == {"owner": "ana"}
    deleted = pinpoint.delete_campaign(ApplicationId=project, CampaignId=campaign_id)["CampaignResponse"]
    assert deleted["Id"] == campaign_id and deleted["Version"] == 4
    with pytest.raises(ClientError) as caught:
        pinpoint.get_campaign(ApplicationId=project, CampaignId=campaign_id)
    assert caught.value.response["Error"]["Code"] == "NotFoundException"


def _error(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_bad_campaigns_are_bad_requests(pinpoint, tenant):
    project = tenant["tenant"]["project_id"]
    segment_id = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={"Name": "all"})[
        "SegmentResponse"]["Id"]
    base = {"SegmentId": segment_id, "MessageConfiguration": {"EmailMessage": {"Title": "t", "Body": "b"}}}
    for request, words in (
            ({**base, "Schedule": {"StartTime": "2020-01-01T00:00:00Z"}}, "StartTime must be at least current time."),
            ({**base, "Schedule": {"StartTime": "IMMEDIATE"}, "IsPaused": True}, "cannot be paused"),
            ({**base, "Schedule": {"StartTime": _future(), "Frequency": "EVENT"}}, "EventFilter"),
            ({**base, "Schedule": {"StartTime": _future()}, "Hook": {"LambdaFunctionName": "f", "Mode": "FILTER"}},
             "Lambda functions are not available"),
            ({**base, "Schedule": {"StartTime": _future()}, "Limits": {"MessagesPerSecond": 0}},
             "Limits.MessagesPerSecond")):
        code, message = _error(lambda r=request: pinpoint.create_campaign(ApplicationId=project,
                                                                           WriteCampaignRequest=r))
        assert code == "BadRequestException" and words in message, message
    assert _error(lambda: pinpoint.get_campaign(ApplicationId=project, CampaignId="0" * 32))[0] == "NotFoundException"


def test_another_tenant_cannot_reach_a_campaign(server, pinpoint, tenant):
    project = tenant["tenant"]["project_id"]
    segment_id = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={"Name": "mine"})[
        "SegmentResponse"]["Id"]
    made = pinpoint.create_campaign(ApplicationId=project, WriteCampaignRequest={
        "SegmentId": segment_id, "Schedule": {"StartTime": _future()},
        "MessageConfiguration": {"EmailMessage": {"Title": "t", "Body": "b"}}})["CampaignResponse"]
    other = onboard(server, "sa-mp")
    outsider = make_client(server, other["credentials"])
    for call in (lambda: outsider.get_campaign(ApplicationId=project, CampaignId=made["Id"]),
                 lambda: outsider.delete_campaign(ApplicationId=project, CampaignId=made["Id"]),
                 lambda: outsider.list_tags_for_resource(ResourceArn=made["Arn"])):
        assert _error(call)[0] == "NotFoundException"
    assert pinpoint.get_campaign(ApplicationId=project, CampaignId=made["Id"])["CampaignResponse"]["Id"] == made["Id"]


def test_campaigns_through_the_aws_cli(server, pinpoint, tenant):
    project = tenant["tenant"]["project_id"]
    creds = tenant["credentials"]
    segment_id = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={"Name": "cli"})[
        "SegmentResponse"]["Id"]
    request = {"Name": "from-cli", "SegmentId": segment_id, "Schedule": {"StartTime": _future(3), "Frequency": "DAILY",
                                                                          "EndTime": _future(9)},
               "MessageConfiguration": {"EmailMessage": {"Title": "Daily digest", "Body": "Today"}}}
    created = aws(server, creds, "pinpoint", "create-campaign", "--application-id", project,
                  "--write-campaign-request", json.dumps(request))
    assert created.returncode == 0, created.stderr
    campaign = json.loads(created.stdout)["CampaignResponse"]
    assert campaign["Schedule"]["Frequency"] == "DAILY" and campaign["State"]["CampaignStatus"] == "SCHEDULED"
    listed = aws(server, creds, "pinpoint", "get-campaigns", "--application-id", project)
    assert listed.returncode == 0, listed.stderr
    assert campaign["Id"] in {c["Id"] for c in json.loads(listed.stdout)["CampaignsResponse"]["Item"]}
    refused = aws(server, creds, "pinpoint", "create-campaign", "--application-id", project,
                  "--write-campaign-request", json.dumps({**request, "Schedule": {"StartTime": "yesterday"}}))
    assert refused.returncode != 0 and "BadRequestException" in refused.stderr
