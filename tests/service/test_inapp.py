"""In-app messaging: templates of every layout, in-app campaigns (Frequency IN_APP_EVENT), and
GetInAppMessages answering what the mobile SDKs read, for the endpoints each campaign targets and
no others, in every tenancy model."""

from __future__ import annotations

import pytest

from pinfold.audience import endpoints, segments
from pinfold.campaigns import campaigns, inapp
from pinfold.core.errors import InvalidInput, LimitExceeded, NotFound
from pinfold.inapp.rules import content
from pinfold.messaging import templates
from tests.service.helpers import onboard

OPENED = {"FilterType": "ENDPOINT", "Dimensions": {"EventType": {"DimensionType": "INCLUSIVE",
                                                                   "Values": ["_session.start"]}}}
LIVE = {"StartTime": "IMMEDIATE", "Frequency": "IN_APP_EVENT", "EventFilter": OPENED}
BETA = {"Dimensions": {"Attributes": {"beta": {"AttributeType": "INCLUSIVE", "Values": ["yes"]}}}}


def _card(header: str, body: str, **more) -> dict:
    return {"HeaderConfig": {"Alignment": "CENTER", "Header": header, "TextColor": "#000000"},
            "BodyConfig": {"Alignment": "LEFT", "Body": body, "TextColor": "#333333"},
            "BackgroundColor": "#FFFFFF", **more}


BANNER = {"Layout": "TOP_BANNER", "Content": [_card("Hi", "Try the beta", PrimaryBtn={
    "DefaultConfig": {"ButtonAction": "DEEP_LINK", "Link": "app://beta", "Text": "Open", "BorderRadius": 4},
    "Web": {"ButtonAction": "LINK", "Link": "https://example.com/beta"}}, SecondaryBtn={
    "DefaultConfig": {"ButtonAction": "CLOSE", "Text": "Later"}})], "CustomConfig": {"theme": "dark"}}


def _endpoint(ctx, caller, project, endpoint_id: str, channel: str = "IN_APP", beta: str = "yes", **extra):
    endpoints.update_endpoint(ctx, caller, project, endpoint_id, {"ChannelType": channel, "Address": endpoint_id,
                                                                  "Attributes": {"beta": [beta]}, **extra})


def _messages(ctx, caller, project, endpoint_id: str) -> list[dict]:
    return inapp.in_app_messages(ctx, caller, project, endpoint_id)["InAppMessageCampaigns"]


@pytest.fixture
def beta(ctx, admin, project):
    """The project with the beta segment; yields its id."""
    return segments.create(ctx, admin, project, {"Name": "beta", **BETA})["Id"]


def test_in_app_templates_of_every_layout_and_their_versions(ctx, admin):
    for layout in content.LAYOUTS:
        cards = [_card(f"Page {n}", "Swipe") for n in range(5 if layout == "CAROUSEL" else 1)]
        templates.create(ctx, admin, f"t-{layout.lower()}", "INAPP", {"Layout": layout, "Content": cards,
                                                                       "TemplateDescription": layout})
        shown = templates.get(ctx, admin, f"t-{layout.lower()}", "INAPP")
        assert (shown["Layout"], len(shown["Content"]), shown["TemplateType"]) == (layout, len(cards), "INAPP")
    templates.update(ctx, admin, "t-top_banner", "INAPP", BANNER, create_new_version=True)
    assert templates.get(ctx, admin, "t-top_banner", "INAPP", "2")["CustomConfig"] == {"theme": "dark"}
    assert templates.get(ctx, admin, "t-top_banner", "INAPP")["Version"] == "1"
    listed = templates.list_page(ctx, admin, "t-", "INAPP", None, None)["Item"]
    assert len(listed) == len(content.LAYOUTS) and {t["TemplateType"] for t in listed} == {"INAPP"}
    for bad, field in (({"Layout": "TOP_BANNER", "Content": [_card("a", "b")] * 6}, "InAppTemplateRequest.Content"),
                       ({"Content": [{"PrimaryBtn": {"DefaultConfig": {"ButtonAction": "JUMP", "Text": "x"}}}]},
                        "InAppTemplateRequest.Content[0].PrimaryBtn.DefaultConfig.ButtonAction"),
                       ({"Content": [_card("a", "b")], "CustomConfig": {"n": 1}}, "InAppTemplateRequest.CustomConfig")):
        with pytest.raises(InvalidInput) as refused:
            templates.create(ctx, admin, "bad", "INAPP", bad)
        assert refused.value.field == field


def test_get_in_app_messages_answers_the_campaigns_an_endpoint_is_targeted_by(ctx, admin, project, beta):
    _endpoint(ctx, admin, project, "phone")
    _endpoint(ctx, admin, project, "outsider", beta="no")
    _endpoint(ctx, admin, project, "mailbox", channel="EMAIL")
    _endpoint(ctx, admin, project, "opted-out", OptOut="ALL")
    banner = campaigns.create(ctx, admin, project, {
        "Name": "beta banner", "SegmentId": beta, "Priority": 2, "MessageConfiguration": {"InAppMessage": BANNER},
        "Limits": {"Session": 1, "Daily": 2, "Total": 5},
        "Schedule": {**LIVE, "EndTime": "2099-01-01T00:00:00Z", "QuietTime": {"Start": "22:00", "End": "07:00"}}})
    templates.create(ctx, admin, "tour", "INAPP", {"Layout": "CAROUSEL", "Content": [_card("1", "a"), _card("2", "b")]})
    tour = campaigns.create(ctx, admin, project, {
        "Name": "tour", "SegmentId": beta, "Priority": 1, "Schedule": LIVE,
        "TemplateConfiguration": {"InAppTemplate": {"Name": "tour"}}})

    found = _messages(ctx, admin, project, "phone")
    assert [item["CampaignId"] for item in found] == [tour["Id"], banner["Id"]]  # the lowest Priority first
    assert found[1] == {
        "CampaignId": banner["Id"], "TreatmentId": "0", "Priority": 2, "SessionCap": 1, "DailyCap": 2, "TotalCap": 5,
        "InAppMessage": BANNER, "Schedule": {"EventFilter": OPENED, "EndDate": "2099-01-01T00:00:00Z",
                                             "QuietTime": {"Start": "22:00", "End": "07:00"}}}
    assert found[0]["InAppMessage"]["Layout"] == "CAROUSEL" and len(found[0]["InAppMessage"]["Content"]) == 2
    assert (found[0]["SessionCap"], found[0]["DailyCap"], found[0]["TotalCap"]) == (0, 0, 0)
    for nobody in ("outsider", "mailbox", "opted-out"):
        assert _messages(ctx, admin, project, nobody) == []
    with pytest.raises(NotFound):
        _messages(ctx, admin, project, "no-such-endpoint")

    campaigns.update(ctx, admin, project, banner["Id"], {"IsPaused": True, "Schedule": {
        **LIVE, "StartTime": "2098-01-01T00:00:00Z"}})
    assert [item["CampaignId"] for item in _messages(ctx, admin, project, "phone")] == [tour["Id"]]
    campaigns.update(ctx, admin, project, tour["Id"], {"HoldoutPercent": 100})
    assert _messages(ctx, admin, project, "phone") == []


def test_treatments_show_their_own_message(ctx, admin, project, beta):
    for n in range(40):
        _endpoint(ctx, admin, project, f"p{n:02d}")
    other = {"Layout": "BOTTOM_BANNER", "Content": [_card("B", "Variant")]}
    made = campaigns.create(ctx, admin, project, {
        "Name": "ab", "SegmentId": beta, "Schedule": LIVE, "MessageConfiguration": {"InAppMessage": BANNER},
        "AdditionalTreatments": [{"SizePercent": 50, "MessageConfiguration": {"InAppMessage": other}}]})
    seen = {}
    for n in range(40):
        [item] = _messages(ctx, admin, project, f"p{n:02d}")
        seen.setdefault(item["TreatmentId"], set()).add(item["InAppMessage"]["Layout"])
    assert seen == {"0": {"TOP_BANNER"}, "1": {"BOTTOM_BANNER"}}
    assert made["State"]["CampaignStatus"] == "SCHEDULED"


def test_in_app_campaigns_are_limited_per_project(ctx, admin, project, beta, monkeypatch):
    from pinfold.campaigns import references
    monkeypatch.setattr(references, "MAX_EVENT_CAMPAIGNS", 2)
    request = {"Name": "n", "SegmentId": beta, "Schedule": LIVE, "MessageConfiguration": {"InAppMessage": BANNER}}
    campaigns.create(ctx, admin, project, request)
    campaigns.create(ctx, admin, project, request)
    with pytest.raises(LimitExceeded, match="in-app campaigns"):
        campaigns.create(ctx, admin, project, request)


def test_an_sa_sp_tenant_sees_only_its_own_campaigns_messages(ctx, admin):
    acme_row, acme = onboard(ctx, admin, "acme", "sa-sp")
    _globex_row, globex = onboard(ctx, admin, "globex", "sa-sp")
    project = acme_row["project_id"]
    _endpoint(ctx, acme, project, "acme-phone")
    _endpoint(ctx, globex, project, "globex-phone")
    acme_segment = segments.create(ctx, acme, project, {"Name": "beta", **BETA})["Id"]
    mine = campaigns.create(ctx, acme, project, {"Name": "acme only", "SegmentId": acme_segment, "Schedule": LIVE,
                                                 "MessageConfiguration": {"InAppMessage": BANNER}})
    assert [item["CampaignId"] for item in _messages(ctx, acme, project, "acme-phone")] == [mine["Id"]]
    assert _messages(ctx, globex, project, "globex-phone") == []
    with pytest.raises(NotFound):
        _messages(ctx, globex, project, "acme-phone")
