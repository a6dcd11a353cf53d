"""A campaign's KPIs through boto3 against a real server: an IMMEDIATE email campaign runs, its
messages reach the mailbox simulator, their records reach the lake with the campaign's ids, and
GetCampaignDateRangeKpi counts them per activity; another tenant's key finds no such campaign."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard

SIMULATOR = "simulator.amazonses.com"


def _until(read, done, seconds: float = 90):
    """`read()` again until `done(result)`, for at most `seconds`; the last result."""
    deadline = time.monotonic() + seconds
    result = read()
    while not done(result) and time.monotonic() < deadline:
        time.sleep(0.5)
        result = read()
    return result


def test_an_email_campaigns_kpis_through_boto3(server):
    placed = onboard(server, "ma-mp")
    project, account, region = (placed["tenant"][key] for key in ("project_id", "account_id", "region"))
    pinpoint = make_client(server, placed["credentials"])
    make_client(server, placed["credentials"], "sesv2").create_email_identity(EmailIdentity="kpis.example.com")
    server.cli("identities", "verify", "kpis.example.com", "--account", account)
    identity = f"arn:aws:ses:{region}:{account}:identity/kpis.example.com"
    pinpoint.update_email_channel(ApplicationId=project, EmailChannelRequest={
        "FromAddress": "news@kpis.example.com", "Identity": identity})
    for endpoint_id, local in (("reader-1", "success"), ("reader-2", "bounce")):
        pinpoint.update_endpoint(ApplicationId=project, EndpointId=endpoint_id, EndpointRequest={
            "ChannelType": "EMAIL", "Address": f"{local}@{SIMULATOR}", "Attributes": {"plan": ["gold"]}})
    segment = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={
        "Name": "gold", "Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}}},
    )["SegmentResponse"]
    campaign = pinpoint.create_campaign(ApplicationId=project, WriteCampaignRequest={
        "Name": "kpis", "SegmentId": segment["Id"], "SegmentVersion": 1,
        "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
        "MessageConfiguration": {"EmailMessage": {"Title": "Hello", "HtmlBody": "<p>Hello</p>"}}},
    )["CampaignResponse"]
    campaign_id = campaign["Id"]

    activities = _until(
        lambda: pinpoint.get_campaign_activities(ApplicationId=project, CampaignId=campaign_id)["ActivitiesResponse"],
        lambda found: [a["State"] for a in found["Item"]] == ["COMPLETED"])
    [activity] = activities["Item"]
    assert activity["State"] == "COMPLETED", server.logs()[-3000:]

    def kpi(name: str) -> dict:
        return pinpoint.get_campaign_date_range_kpi(ApplicationId=project, CampaignId=campaign_id,
                                                    KpiName=name)["CampaignDateRangeKpiResponse"]

    name = "successful-deliveries-grouped-by-campaign-activity"
    # The lake takes the records once its file rolls (10 s by default).
    delivered = _until(lambda: kpi(name), lambda found: found["KpiResult"]["Rows"] != [])
    assert (delivered["ApplicationId"], delivered["CampaignId"], delivered["KpiName"]) == (project, campaign_id, name)
    assert delivered["StartTime"] < delivered["EndTime"]  # timestamps, as botocore parses them
    assert delivered["KpiResult"]["Rows"] == [{
        "GroupedBys": [{"Key": "CampaignActivityId", "Type": "String", "Value": activity["Id"]}],
        "Values": [{"Key": "SuccessfulDeliveries", "Type": "Double", "Value": "1.0"}]}]
    attempted = kpi("attempted-deliveries-grouped-by-campaign-activity")["KpiResult"]["Rows"]
    assert [row["Values"][0]["Value"] for row in attempted] == ["2.0"]
    bounced = _until(lambda: kpi("hard-bounce-rate"),
                     lambda found: found["KpiResult"]["Rows"][0]["Values"][0]["Value"] != "0.0")
    assert bounced["KpiResult"]["Rows"][0]["Values"] == [{"Key": "HardBounceRate", "Type": "Double", "Value": "0.5"}]

    with pytest.raises(ClientError) as caught:
        kpi("no-such-kpi")
    assert caught.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as caught:
        pinpoint.get_campaign_date_range_kpi(ApplicationId=project, CampaignId="0" * 32, KpiName=name)
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
    other = onboard(server, "ma-mp")
    with pytest.raises(ClientError) as caught:  # another tenant's key: not even the project is there
        make_client(server, other["credentials"]).get_campaign_date_range_kpi(
            ApplicationId=project, CampaignId=campaign_id, KpiName=name)
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
