"""Push and in-app across tenants, in all three tenancy models: tenant B never reads or changes tenant A's
push channels or templates, never reaches A's devices with a push, and GetInAppMessages never shows B
A's endpoint or A's campaigns."""

from __future__ import annotations

import pytest

from pinfold.audience import endpoints, segments
from pinfold.campaigns import campaigns, inapp
from pinfold.core.errors import Forbidden, NotFound, PinfoldError
from pinfold.messaging import channels, messages, templates
from tests import push_fakes
from tests.push_fakes import BUNDLE_ID, KEY_ID, TEAM_ID
from tests.service.helpers import account_caller, onboard

CARD = {"BodyConfig": {"Alignment": "LEFT", "Body": "Hello", "TextColor": "#000000"}}
LIVE = {"StartTime": "IMMEDIATE", "Frequency": "IN_APP_EVENT",
        "EventFilter": {"FilterType": "ENDPOINT", "Dimensions": {"EventType": {"Values": ["_session.start"]}}}}
EVERYONE = {"Dimensions": {"Attributes": {"app": {"AttributeType": "INCLUSIVE", "Values": ["yes"]}}}}


@pytest.fixture(params=["sa-sp", "sa-mp", "ma-mp"])
def tenants(request, ctx, admin):
    """Tenants A and B of one model, A with an APNs channel (set by whoever may), a push endpoint, an
    in-app endpoint, push and in-app templates and an in-app campaign; B with an in-app endpoint."""
    model = request.param
    a_row, a = onboard(ctx, admin, "tenant-a", model)
    b_row, b = onboard(ctx, admin, "tenant-b", model)
    setter = account_caller(ctx, admin, a_row["account_id"]) if model == "sa-sp" else a
    channels.update(ctx, setter, a_row["project_id"], "APNS", {
        "TokenKey": push_fakes.apple_key(), "TokenKeyId": KEY_ID, "TeamId": TEAM_ID, "BundleId": BUNDLE_ID})
    endpoints.update_batch(ctx, a, a_row["project_id"], [
        {"Id": "a-phone", "ChannelType": "APNS", "Address": "a1a1", "Attributes": {"app": ["yes"]}},
        {"Id": "a-app", "ChannelType": "IN_APP", "Address": "a-app", "Attributes": {"app": ["yes"]}}])
    endpoints.update_endpoint(ctx, b, b_row["project_id"], "b-app", {"ChannelType": "IN_APP", "Address": "b-app",
                                                                     "Attributes": {"app": ["yes"]}})
    templates.create(ctx, a, "a-push", "PUSH", {"Default": {"Body": "A's news"}})
    templates.create(ctx, a, "a-inapp", "INAPP", {"Content": [CARD]})
    segment = segments.create(ctx, a, a_row["project_id"], {"Name": "everyone", **EVERYONE})["Id"]
    campaign = campaigns.create(ctx, a, a_row["project_id"], {
        "Name": "a's message", "SegmentId": segment, "Schedule": LIVE,
        "TemplateConfiguration": {"InAppTemplate": {"Name": "a-inapp"}}})
    return model, (a_row, a), (b_row, b), campaign["Id"]


def test_b_never_reaches_a_push_channel_template_device_or_in_app_message(ctx, tenants):
    model, (a_row, a), (b_row, b), campaign_id = tenants
    a_project, b_project = a_row["project_id"], b_row["project_id"]
    absent = Forbidden if model == "sa-sp" else NotFound  # a shared project's channels are the operator's
    with pytest.raises(absent):
        channels.get(ctx, b, a_project, "APNS")
    with pytest.raises(absent):
        channels.update(ctx, b, a_project, "APNS", {"Enabled": False})
    with pytest.raises(absent):
        channels.delete(ctx, b, a_project, "APNS")
    for name, kind in (("a-push", "PUSH"), ("a-inapp", "INAPP")):
        with pytest.raises(NotFound):
            templates.get(ctx, b, name, kind)
        with pytest.raises(NotFound):
            templates.delete(ctx, b, name, kind)
    request = {"Endpoints": {"a-phone": {}}, "MessageConfiguration": {"APNSMessage": {"Body": "from b"}}}
    try:
        result = messages.send_messages(ctx, b, a_project, request)["MessageResponse"]["EndpointResult"]["a-phone"]
        assert (result["DeliveryStatus"], result["StatusCode"]) == ("PERMANENT_FAILURE", 404)
    except NotFound:
        assert model != "sa-sp"  # B cannot reach A's project at all
    pushed = messages.send_messages(ctx, b, b_project, {**request, "TemplateConfiguration": {
        "PushTemplate": {"Name": "a-push"}}})["MessageResponse"]["EndpointResult"]["a-phone"]
    assert pushed["DeliveryStatus"] != "SUCCESSFUL"
    with pytest.raises(PinfoldError) as caught:
        inapp.in_app_messages(ctx, b, a_project, "a-app")
    assert isinstance(caught.value, NotFound)
    assert inapp.in_app_messages(ctx, b, b_project, "b-app")["InAppMessageCampaigns"] == []
    # A's own view is whole: its message, its channel untouched.
    [shown] = inapp.in_app_messages(ctx, a, a_project, "a-app")["InAppMessageCampaigns"]
    assert shown["CampaignId"] == campaign_id and shown["InAppMessage"]["Content"] == [CARD]
    reader = account_caller(ctx, ctx.test_operator, a_row["account_id"]) if model == "sa-sp" else a
    assert channels.get(ctx, reader, a_project, "APNS")["Enabled"] is True
