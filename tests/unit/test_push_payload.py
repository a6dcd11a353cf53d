"""Pinpoint push fields to APNs bodies and headers and FCM v1 messages, as the device SDKs read them."""

from __future__ import annotations

import orjson
import pytest

from pinfold.push.rules import payload
from pinfold.push.rules.payload import Unsendable

CAMPAIGN = {"campaign_id": "c1", "campaign_activity_id": "a1", "treatment_id": "0"}


def test_an_apns_alert_carries_the_pinpoint_data_the_ios_sdk_reads():
    built = payload.apns({"Title": "Sale", "Body": "Today only", "Sound": "default", "Badge": 3,
                          "Action": "DEEP_LINK", "Url": "shop://sale", "Data": {"coupon": "X1"}}, CAMPAIGN, now=1000)
    assert built.payload == {"aps": {"alert": {"title": "Sale", "body": "Today only"}, "sound": "default", "badge": 3},
                             "data": {"pinpoint": {"deeplink": "shop://sale", "campaign": CAMPAIGN,
                                                   "jsonBody": {"coupon": "X1"}}}}
    assert built.headers == {"apns-push-type": "alert", "apns-priority": "10"}


def test_a_silent_apns_push_is_background_at_priority_5_without_alert_badge_or_sound():
    built = payload.apns({"Title": "x", "Body": "y", "Sound": "default", "SilentPush": True, "TimeToLive": 60,
                          "CollapseId": "sync"}, CAMPAIGN, now=1000)
    assert built.payload["aps"] == {"content-available": 1}
    assert built.headers == {"apns-push-type": "background", "apns-priority": "5", "apns-expiration": "1060",
                             "apns-collapse-id": "sync"}
    assert payload.apns({"Body": "x", "TimeToLive": 0}, {}).headers["apns-expiration"] == "0"


def test_raw_content_replaces_the_apns_body_and_voip_has_its_type_and_limit():
    raw = {"aps": {"content-available": 1}, "custom": {"k": "v"}}
    built = payload.apns({"RawContent": orjson.dumps(raw).decode(), "Title": "ignored"}, CAMPAIGN)
    assert built.payload == raw and built.headers["apns-push-type"] == "background"
    voip = payload.apns({"RawContent": orjson.dumps({"aps": {}, "call": "x" * 4500}).decode()}, {}, voip=True)
    assert voip.headers["apns-push-type"] == "voip"
    with pytest.raises(Unsendable, match="4,096"):
        payload.apns({"RawContent": orjson.dumps({"aps": {}, "call": "x" * 4500}).decode()}, {})


@pytest.mark.parametrize("fields", [
    {"RawContent": "[1, 2]"}, {"RawContent": "{not json"}, {"Body": "x", "Priority": "urgent"},
    {"Body": "x", "APNSPushType": "shout"}, {"Body": "x", "CollapseId": "c" * 65}, {"Body": "x", "Action": "OPEN"},
    {"Body": "x", "TimeToLive": "soon"}, {"Body": "x", "Badge": -1},
])
def test_what_apns_cannot_take_is_unsendable(fields):
    with pytest.raises(Unsendable):
        payload.apns(fields, CAMPAIGN)


def test_an_fcm_message_is_a_data_message_with_the_android_sdks_keys():
    built = payload.fcm({"Title": "Sale", "Body": "Today only", "ImageUrl": "https://cdn.example/i.png",
                         "Action": "URL", "Url": "https://example.com/sale", "TimeToLive": 3_000_000,
                         "CollapseKey": "sale", "Data": {"n": 1}}, CAMPAIGN)
    assert built.payload == {
        "data": {"pinpoint.notification.title": "Sale", "pinpoint.notification.body": "Today only",
                 "pinpoint.notification.imageUrl": "https://cdn.example/i.png",
                 "pinpoint.notification.silentPush": "0", "pinpoint.url": "https://example.com/sale",
                 "pinpoint.campaign.campaign_id": "c1", "pinpoint.campaign.campaign_activity_id": "a1",
                 "pinpoint.campaign.treatment_id": "0", "pinpoint.jsonBody": '{"n":"1"}'},
        "android": {"priority": "HIGH", "ttl": "2419200s", "collapse_key": "sale"}}
    assert all(isinstance(value, str) for value in built.payload["data"].values())  # FCM data is strings only
    assert built.headers == {}


def test_fcm_silent_open_app_journey_and_raw_content():
    built = payload.fcm({"Body": "b", "SilentPush": "true"}, {"journey_id": "j1", "journey_activity_id": "x"})
    data = built.payload["data"]
    assert (data["pinpoint.notification.silentPush"], data["pinpoint.openApp"], data["pinpoint.journey.journey_id"]) \
        == ("1", "true", "j1")
    assert built.payload["android"] == {"priority": "NORMAL"}
    raw = payload.fcm({"RawContent": '{"data": {"a": 1}, "notification": {"title": "t"}, "ignored": 1}',
                       "Priority": "5"}, CAMPAIGN)
    assert raw.payload == {"data": {"a": "1"}, "notification": {"title": "t"}, "android": {"priority": "NORMAL"}}
    with pytest.raises(Unsendable):
        payload.fcm({"Body": "x" * 5000}, CAMPAIGN)
