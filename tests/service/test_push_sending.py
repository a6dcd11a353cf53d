"""Pushes through SendMessages and SendUsersMessages on the sending pipeline: into the push simulator on
the embedded default, and into the APNs and FCM protocol fakes with a project's real credentials. A
token a provider declares dead retires its endpoint."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import orjson
import pytest
import trustme

from pinfold.audience import endpoints
from pinfold.messaging import channels, messages, templates
from pinfold.push import channel as push_channel
from pinfold.push.adapters.simulator import list_pushes
from pinfold.push.delivery import PushDelivery
from pinfold.push.store import messages as push_store
from tests import push_fakes
from tests.push_fakes import BUNDLE_ID, KEY_ID, TEAM_ID, FakeApns, FakeFcm


def _apns_token_channel(ctx, admin, project, key: str, platform: str = "APNS") -> None:
    channels.update(ctx, admin, project, platform, {"TokenKey": key, "TokenKeyId": KEY_ID, "TeamId": TEAM_ID,
                                                    "BundleId": BUNDLE_ID})


def _endpoint(ctx, admin, project, endpoint_id: str, channel_type: str, token: str, **extra) -> None:
    endpoints.update_endpoint(ctx, admin, project, endpoint_id, {"ChannelType": channel_type, "Address": token,
                                                                 **extra})


def _delivered(ctx, delivery: PushDelivery) -> None:
    while delivery.run_once():
        pass


def _status(ctx, message_id: str) -> tuple[str, str | None]:
    with ctx.db.read() as conn:
        row = push_store.get(conn, message_id)
    return row["status"], row["detail"]


def test_pushes_reach_the_simulator_and_a_dead_token_retires_its_endpoint(ctx, admin, project):
    _apns_token_channel(ctx, admin, project, push_fakes.apple_key())
    channels.update(ctx, admin, project, "GCM", {"ServiceJson": push_fakes.service_json()})
    _endpoint(ctx, admin, project, "iphone", "APNS", "a1b2c3", User={"UserAttributes": {"FirstName": ["Ada"]}})
    _endpoint(ctx, admin, project, "pixel", "GCM", "fcm-token-1")
    _endpoint(ctx, admin, project, "gone", "APNS", "invalid-token-9")
    answer = messages.send_messages(ctx, admin, project, {
        "Endpoints": {"iphone": {}, "pixel": {"TitleOverride": "Just for you"}, "gone": {}},
        "Addresses": {"sandbox-token": {"ChannelType": "APNS_SANDBOX"}},
        "MessageConfiguration": {
            "DefaultPushNotificationMessage": {"Title": "Hi {{User.UserAttributes.FirstName}}", "Body": "Sale today",
                                               "Action": "OPEN_APP"},
            "APNSMessage": {"Sound": "default", "Badge": 1}}})["MessageResponse"]
    results = answer["EndpointResult"]
    assert {key: result["DeliveryStatus"] for key, result in results.items()} == {
        "iphone": "SUCCESSFUL", "pixel": "SUCCESSFUL", "gone": "SUCCESSFUL"}
    assert answer["Result"]["sandbox-token"]["StatusMessage"] == "The APNS_SANDBOX channel is not enabled for this " \
                                                                   "project"
    delivery = PushDelivery(ctx, channels.stored)
    try:
        _delivered(ctx, delivery)
    finally:
        delivery.stop()
    kept, _token = list_pushes(ctx.settings.data_dir / "push")
    by_token = {push["token"]: push for push in kept}
    assert set(by_token) == {"a1b2c3", "fcm-token-1", "invalid-token-9"}
    iphone = by_token["a1b2c3"]
    assert iphone["payload"]["aps"] == {"alert": {"title": "Hi Ada", "body": "Sale today"}, "sound": "default",
                                        "badge": 1}
    assert iphone["payload"]["data"]["pinpoint"]["campaign"] == {"campaign_id": "_DIRECT"}
    assert iphone["headers"] == {"apns-push-type": "alert", "apns-priority": "10"}
    assert by_token["fcm-token-1"]["payload"]["data"]["pinpoint.notification.title"] == "Just for you"
    assert _status(ctx, results["iphone"]["MessageId"])[0] == "delivered"
    status, detail = _status(ctx, results["gone"]["MessageId"])
    assert status == "failed" and json.loads(detail)["pushProviderError"] == "Unregistered"
    assert endpoints.get(ctx, admin, project, "gone")["EndpointStatus"] == "INACTIVE"
    assert endpoints.get(ctx, admin, project, "iphone")["EndpointStatus"] == "ACTIVE"
    again = messages.send_messages(ctx, admin, project, {"Endpoints": {"gone": {}}, "MessageConfiguration": {
        "DefaultPushNotificationMessage": {"Body": "x"}}})["MessageResponse"]["EndpointResult"]["gone"]
    assert again["StatusMessage"] == "The endpoint is inactive"
    email_only = messages.send_messages(ctx, admin, project, {"Endpoints": {"iphone": {}}, "MessageConfiguration": {
        "EmailMessage": {"SimpleEmail": {"Subject": {"Data": "x"}, "TextPart": {"Data": "y"}}}}})
    result = email_only["MessageResponse"]["EndpointResult"]["iphone"]
    assert result["DeliveryStatus"] == "PERMANENT_FAILURE" and "no content for APNS" in result["StatusMessage"]


def test_a_push_template_and_bad_content_per_recipient(ctx, admin, project):
    channels.update(ctx, admin, project, "GCM", {"ServiceJson": push_fakes.service_json()})
    templates.create(ctx, admin, "shipped", "PUSH", {
        "Default": {"Title": "Order {{Attributes.Order}}", "Body": "On its way"},
        "GCM": {"ImageUrl": "https://cdn.example/box.png"}})
    _endpoint(ctx, admin, project, "pixel", "GCM", "fcm-token-1", Attributes={"Order": ["A-17"]})
    results = messages.send_messages(ctx, admin, project, {
        "Endpoints": {"pixel": {}},
        "Addresses": {"raw-token": {"ChannelType": "GCM", "RawContent": "[not an object]"}},
        "TemplateConfiguration": {"PushTemplate": {"Name": "shipped"}}})["MessageResponse"]
    assert results["Result"]["raw-token"]["DeliveryStatus"] == "PERMANENT_FAILURE"
    assert "RawContent" in results["Result"]["raw-token"]["StatusMessage"]
    with ctx.db.read() as conn:
        row = push_store.get(conn, results["EndpointResult"]["pixel"]["MessageId"])
    data = row["message"]["payload"]["data"]
    assert (data["pinpoint.notification.title"], data["pinpoint.notification.imageUrl"]) == (
        "Order A-17", "https://cdn.example/box.png")


@pytest.fixture
def fakes(tmp_path):
    """The APNs fake over TLS (HTTP/2) and the FCM fake, with the CA bundle that trusts them."""
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    apple_key, apple_public = push_fakes.ec_key()
    account, google_public = push_fakes.service_account()
    apns, fcm = FakeApns(apple_public), FakeFcm(account, google_public)
    with push_fakes.serving(apns, ca=authority) as apns_url, push_fakes.serving(fcm) as fcm_url:
        account["token_uri"] = f"{fcm_url}/token"
        yield {"apns": apns, "fcm": fcm, "apple_key": apple_key, "account": account,
               "settings": {"push_delivery": "providers", "apns_url": apns_url, "apns_sandbox_url": apns_url,
                            "fcm_url": fcm_url, "push_ca_bundle": str(bundle)}}


def test_with_providers_pushes_go_to_apns_and_fcm_with_the_projects_credentials(ctx, admin, project, fakes):
    ctx = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update=fakes["settings"]))
    _apns_token_channel(ctx, admin, project, fakes["apple_key"])
    channels.update(ctx, admin, project, "GCM", {"ServiceJson": orjson.dumps(fakes["account"]).decode()})
    _endpoint(ctx, admin, project, "iphone", "APNS", "a1b2c3", User={"UserId": "ada"})
    _endpoint(ctx, admin, project, "pixel", "GCM", "fcm-token-1", User={"UserId": "ada"})
    _endpoint(ctx, admin, project, "old-pixel", "GCM", "invalid-fcm", User={"UserId": "ada"})
    result = messages.send_users_messages(ctx, admin, project, {
        "Users": {"ada": {}},
        "MessageConfiguration": {"DefaultPushNotificationMessage": {"Body": "Your code is 1234"},
                                 "GCMMessage": {"Priority": "high", "TimeToLive": 600}}})
    sent = result["SendUsersMessageResponse"]["Result"]["ada"]
    assert {key: value["DeliveryStatus"] for key, value in sent.items()} == {
        "iphone": "SUCCESSFUL", "pixel": "SUCCESSFUL", "old-pixel": "SUCCESSFUL"}
    delivery = PushDelivery(ctx, channels.stored)
    try:
        _delivered(ctx, delivery)
    finally:
        delivery.stop()
    [apple] = fakes["apns"].pushes
    assert (apple["token"], apple["headers"]["apns-topic"], apple["payload"]["aps"]["alert"]) == (
        "a1b2c3", BUNDLE_ID, {"body": "Your code is 1234"})
    [google] = fakes["fcm"].messages
    assert (google["token"], google["data"]["pinpoint.notification.body"], google["android"]) == (
        "fcm-token-1", "Your code is 1234", {"priority": "HIGH", "ttl": "600s"})
    assert _status(ctx, sent["iphone"]["MessageId"])[0] == "delivered"
    assert _status(ctx, sent["old-pixel"]["MessageId"])[0] == "failed"
    assert endpoints.get(ctx, admin, project, "old-pixel")["EndpointStatus"] == "INACTIVE"
    # Turning the channel off holds back what is queued for it.
    again = messages.send_messages(ctx, admin, project, {"Endpoints": {"pixel": {}}, "MessageConfiguration": {
        "GCMMessage": {"Body": "later"}}})["MessageResponse"]["EndpointResult"]["pixel"]
    channels.update(ctx, admin, project, "GCM", {"Enabled": False})
    delivery = PushDelivery(ctx, channels.stored)
    try:
        _delivered(ctx, delivery)
    finally:
        delivery.stop()
    assert _status(ctx, again["MessageId"]) == ("failed", "The GCM channel is not enabled for this project")
    assert len(fakes["fcm"].messages) == 1


def test_a_messages_preferred_authentication_method_picks_the_channels_credentials(ctx, admin, project, fakes):
    ctx = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update=fakes["settings"]))
    certificate, private_key = push_fakes.certificate_and_key()
    channels.update(ctx, admin, project, "APNS", {
        "TokenKey": fakes["apple_key"], "TokenKeyId": KEY_ID, "TeamId": TEAM_ID, "BundleId": BUNDLE_ID,
        "Certificate": certificate, "PrivateKey": private_key, "DefaultAuthenticationMethod": "CERTIFICATE"})
    channels.update(ctx, admin, project, "GCM", {"ServiceJson": orjson.dumps(fakes["account"]).decode()})
    answer = messages.send_messages(ctx, admin, project, {
        "Addresses": {"a1": {"ChannelType": "APNS"}, "b2": {"ChannelType": "APNS"}, "c3": {"ChannelType": "APNS"},
                      "fcm-token-1": {"ChannelType": "GCM"}},
        "MessageConfiguration": {"DefaultPushNotificationMessage": {"Body": "hi"}}})["MessageResponse"]["Result"]
    by_token = messages.send_messages(ctx, admin, project, {
        "Addresses": {"b2": {"ChannelType": "APNS"}},
        "MessageConfiguration": {"APNSMessage": {"Body": "hi", "PreferredAuthenticationMethod": "token"}}})
    keyless = messages.send_messages(ctx, admin, project, {
        "Addresses": {"fcm-token-1": {"ChannelType": "GCM"}},
        "MessageConfiguration": {"GCMMessage": {"Body": "hi", "PreferredAuthenticationMethod": "KEY"}}})
    unknown = messages.send_messages(ctx, admin, project, {
        "Addresses": {"c3": {"ChannelType": "APNS"}},
        "MessageConfiguration": {"APNSMessage": {"Body": "hi", "PreferredAuthenticationMethod": "PASSWORD"}}})
    refused = unknown["MessageResponse"]["Result"]["c3"]
    assert refused["DeliveryStatus"] == "PERMANENT_FAILURE" and "CERTIFICATE, TOKEN" in refused["StatusMessage"]
    delivery = PushDelivery(ctx, channels.stored)
    try:
        _delivered(ctx, delivery)
    finally:
        delivery.stop()
    # The fake takes provider tokens only: the default (certificate) pushes carry none and are refused.
    assert [push["token"] for push in fakes["apns"].pushes] == ["b2"]
    assert _status(ctx, by_token["MessageResponse"]["Result"]["b2"]["MessageId"])[0] == "delivered"
    status, detail = _status(ctx, answer["a1"]["MessageId"])
    assert status == "failed" and json.loads(detail)["pushProviderError"] == "MissingProviderToken"
    assert _status(ctx, answer["fcm-token-1"]["MessageId"])[0] == "delivered"
    assert _status(ctx, keyless["MessageResponse"]["Result"]["fcm-token-1"]["MessageId"]) == (
        "failed", "The FCM (GCM) channel has no KEY credentials for the message's PreferredAuthenticationMethod")


def _apns_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == "pinfold-apns")


def test_an_adapter_long_unused_is_closed_but_never_while_it_delivers(ctx, admin, project, fakes):
    """Each provider adapter holds a connection and a thread: one whose channel was deleted (or that is
    just quiet) is closed once IDLE_SECONDS pass unused, and made again by the next push."""
    ctx = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update=fakes["settings"]))
    _apns_token_channel(ctx, admin, project, fakes["apple_key"])
    before = _apns_threads()
    messages.send_messages(ctx, admin, project, {"Addresses": {"a1": {"ChannelType": "APNS"}},
                                                 "MessageConfiguration": {"APNSMessage": {"Body": "one"}}})
    delivery = PushDelivery(ctx, channels.stored)
    try:
        _delivered(ctx, delivery)
        assert _apns_threads() == before + 1
        gateways = delivery.gateways
        assert gateways.sweep() == 0  # just used
        later = time.monotonic() + push_channel.IDLE_SECONDS + 1
        with ctx.db.read() as conn:
            route = gateways.route(conn, project, "APNS")
        with gateways.using(route):  # a delivery under way is never closed under it
            assert gateways.sweep(later) == 0
        assert gateways.sweep(later) == 1
        assert _apns_threads() == before
        messages.send_messages(ctx, admin, project, {"Addresses": {"a2": {"ChannelType": "APNS"}},
                                                     "MessageConfiguration": {"APNSMessage": {"Body": "two"}}})
        _delivered(ctx, delivery)
        assert [push["token"] for push in fakes["apns"].pushes] == ["a1", "a2"]
        channels.delete(ctx, admin, project, "APNS")
        assert gateways.sweep(time.monotonic() + push_channel.IDLE_SECONDS + 1) == 1
    finally:
        delivery.stop()
    assert _apns_threads() == before
