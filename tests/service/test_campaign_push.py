"""Campaigns over push: a segment of device endpoints gets one push each through the platform's
channel, with the campaign's ids in the payload the device SDKs read; a platform whose channel is
not set up fails its endpoints alone; a dead token retires its endpoint; progress counts the pushes.
What a push campaign may say is checked when it is created."""

from __future__ import annotations

import time

import pytest

from pinfold.audience import endpoints, segments
from pinfold.campaigns import campaigns, progress
from pinfold.campaigns.scheduler import CampaignScheduler
from pinfold.core.errors import InvalidInput
from pinfold.events import outbox
from pinfold.messaging import channels, templates
from pinfold.push.adapters.simulator import list_pushes
from pinfold.push.delivery import PushDelivery
from tests import push_fakes
from tests.push_fakes import BUNDLE_ID, KEY_ID, TEAM_ID

GOLD = {"Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}}}
DEVICES = {"iphone": ("APNS", "a1b2c3"), "pixel": ("GCM", "fcm-token-1"), "kindle": ("ADM", "adm-token-1"),
           "gone": ("APNS", "invalid-token-9"), "mail": ("EMAIL", "ada@example.com")}


@pytest.fixture
def devices(ctx, admin, project):
    """A project with APNs and FCM channels (no ADM channel), one gold endpoint per DEVICES entry and
    the gold segment; yields the segment id."""
    channels.update(ctx, admin, project, "APNS", {"TokenKey": push_fakes.apple_key(), "TokenKeyId": KEY_ID,
                                                  "TeamId": TEAM_ID, "BundleId": BUNDLE_ID})
    channels.update(ctx, admin, project, "GCM", {"ServiceJson": push_fakes.service_json()})
    endpoints.update_batch(ctx, admin, project, [
        {"Id": eid, "ChannelType": kind, "Address": address, "Attributes": {"plan": ["gold"], "name": [eid]}}
        for eid, (kind, address) in DEVICES.items()])
    return segments.create(ctx, admin, project, {"Name": "gold", **GOLD})["Id"]


def _run(ctx) -> None:
    scheduler = CampaignScheduler(ctx, slice_size=50)
    for _ in range(20):
        if not scheduler.run_once(now=time.time() + 1):
            break
    delivery = PushDelivery(ctx, channels.stored)
    try:
        while delivery.run_once():
            pass
    finally:
        delivery.stop()


def _sends(ctx, campaign_id: str) -> dict[str, tuple[str, str]]:
    with ctx.db.read() as conn:
        records = [row["record"] for row in outbox.read_after(conn, 0, 10_000)]
    return {r["client"]["client_id"]: (r["attributes"]["delivery_type"], r["attributes"]["campaign_send_status"])
            for r in records if r["event_type"] == "_campaign.send" and r["attributes"]["campaign_id"] == campaign_id}


def test_a_push_campaign_reaches_each_platform_with_its_ids_and_retires_a_dead_token(ctx, admin, project, devices):
    created = campaigns.create(ctx, admin, project, {
        "Name": "launch", "SegmentId": devices, "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
        "MessageConfiguration": {
            "DefaultMessage": {"Title": "Hello {{Attributes.name}}", "Body": "We launched", "Action": "URL",
                               "Url": "https://example.com/launch"},
            "APNSMessage": {"Title": "Hello iOS", "SilentPush": False}}})
    _run(ctx)

    kept, _next = list_pushes(ctx.settings.data_dir / "push")
    by_token = {push["token"]: push for push in kept}
    assert set(by_token) == {"a1b2c3", "fcm-token-1", "invalid-token-9"}
    iphone = by_token["a1b2c3"]["payload"]
    assert iphone["aps"]["alert"] == {"title": "Hello iOS", "body": "We launched"}
    assert iphone["data"]["pinpoint"]["deeplink"] == "https://example.com/launch"
    ids = iphone["data"]["pinpoint"]["campaign"]
    assert ids["campaign_id"] == created["Id"] and ids["treatment_id"] == "0" and ids["campaign_activity_id"]
    pixel = by_token["fcm-token-1"]["payload"]["data"]
    assert (pixel["pinpoint.notification.title"], pixel["pinpoint.url"], pixel["pinpoint.campaign.campaign_id"]) == (
        "Hello pixel", "https://example.com/launch", created["Id"])

    assert _sends(ctx, created["Id"]) == {
        "iphone": ("APNS", "SUCCESS"), "pixel": ("GCM", "SUCCESS"), "gone": ("APNS", "SUCCESS"),
        "kindle": ("ADM", "FAILURE")}  # the ADM channel is not set up; the email endpoint is not a push one
    assert endpoints.get(ctx, admin, project, "gone")["EndpointStatus"] == "INACTIVE"
    shown = progress.run_progress(ctx, admin, created["Id"]).as_dict()
    assert shown["Messages"] == {"queued": 0, "sent": 0, "delivered": 2, "failed": 1}
    (activity,) = shown["Activities"]
    assert activity["ExecutionMetrics"]["ENDPOINT_CHANNEL_MISMATCH"] == "1"


def test_a_push_template_campaign_and_a_platform_only_message(ctx, admin, project, devices):
    templates.create(ctx, admin, "welcome", "PUSH", {"Default": {"Title": "Welcome {{Attributes.name}}",
                                                                 "Body": "Glad you are here"}})
    from_template = campaigns.create(ctx, admin, project, {
        "Name": "welcome", "SegmentId": devices, "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
        "TemplateConfiguration": {"PushTemplate": {"Name": "welcome"}}})
    android_only = campaigns.create(ctx, admin, project, {
        "Name": "android", "SegmentId": devices, "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
        "MessageConfiguration": {"GCMMessage": {"Body": "Android news", "SilentPush": True,
                                                "JsonBody": '{"section": "news"}'}}})
    _run(ctx)

    assert set(_sends(ctx, from_template["Id"])) == {"iphone", "pixel", "gone", "kindle"}
    assert _sends(ctx, android_only["Id"]) == {"pixel": ("GCM", "SUCCESS")}
    kept, _next = list_pushes(ctx.settings.data_dir / "push", token="fcm-token-1")
    by_campaign = {push["payload"]["data"]["pinpoint.campaign.campaign_id"]: push["payload"]["data"]
                   for push in kept}
    assert by_campaign[from_template["Id"]]["pinpoint.notification.title"] == "Welcome pixel"
    silent = by_campaign[android_only["Id"]]
    assert silent["pinpoint.notification.silentPush"] == "1" and silent["pinpoint.jsonBody"] == '{"section":"news"}'


@pytest.mark.parametrize(("configuration", "field"), [
    ({"DefaultMessage": {"Body": "x" * 201}}, "MessageConfiguration.DefaultMessage.Body"),
    ({"APNSMessage": {"Body": "hi", "Action": "LAUNCH"}}, "MessageConfiguration.APNSMessage.Action"),
    ({"GCMMessage": {"RawContent": "[1, 2]"}}, "MessageConfiguration.GCMMessage.RawContent"),
    ({"GCMMessage": {"Body": "hi", "TimeToLive": -1}}, "MessageConfiguration.GCMMessage.TimeToLive"),
    ({"APNSMessage": {"Url": "https://example.com"}}, "MessageConfiguration.APNSMessage"),
    ({"BaiduMessage": {"Body": "hi"}}, "MessageConfiguration"),  # no Baidu channel in the project
])
def test_what_a_push_campaign_may_say(ctx, admin, project, devices, configuration, field):
    with pytest.raises(InvalidInput) as refused:
        campaigns.create(ctx, admin, project, {
            "Name": "bad", "SegmentId": devices, "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
            "MessageConfiguration": configuration})
    assert refused.value.field == field
