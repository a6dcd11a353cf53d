"""Campaign definition rules (WriteCampaignRequest) and state transitions, without I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinfold.campaigns.rules import states
from pinfold.campaigns.rules import write as rules
from pinfold.core.errors import InvalidInput

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
FUTURE = "2027-02-01T10:00:00Z"
EMAIL = {"EmailMessage": {"Title": "Hello", "HtmlBody": "<p>Hi</p>"}}


def _request(**members) -> dict:
    return {"SegmentId": "s1", "Schedule": {"StartTime": FUTURE, "Frequency": "ONCE"},
            "MessageConfiguration": EMAIL, **members}


def _refused(request: dict, field: str, previous: dict | None = None) -> str:
    with pytest.raises(InvalidInput) as caught:
        rules.check_definition(request, now=NOW, previous=previous)
    assert caught.value.field == field, caught.value.message
    return caught.value.message


def test_a_plain_email_campaign_is_kept_as_given():
    definition = rules.check_definition(_request(Name="Spring", Limits={"Daily": 3}), now=NOW)
    assert definition == {"Name": "Spring", "SegmentId": "s1", "Limits": {"Daily": 3}, "MessageConfiguration": EMAIL,
                          "Schedule": {"StartTime": FUTURE, "Frequency": "ONCE"}}
    assert rules.channels_of(definition) == {"EMAIL"}


@pytest.mark.parametrize(("schedule", "field", "words"), [
    ({"StartTime": "2027-01-15T07:58:00Z"}, "Schedule.StartTime", "StartTime must be at least current time."),
    ({"StartTime": "next tuesday"}, "Schedule.StartTime", "ISO-8601"),
    ({"StartTime": FUTURE, "EndTime": "2027-01-01T00:00:00Z"}, "Schedule.EndTime", "after StartTime"),
    ({"StartTime": FUTURE, "Timezone": "UTC-01"}, "Schedule.Timezone", "offsets"),
    ({"StartTime": FUTURE, "IsLocalTime": True}, "Schedule.Timezone", "IsLocalTime"),
    ({"StartTime": FUTURE, "QuietTime": {"Start": "25:00", "End": "08:00"}}, "Schedule.QuietTime.Start", "HH:MM"),
    ({"StartTime": FUTURE, "Frequency": "EVENT"}, "Schedule.EventFilter", "required"),
    ({"StartTime": FUTURE, "Frequency": "DAILY", "EventFilter": {"FilterType": "ENDPOINT", "Dimensions": {}}},
     "Schedule.EventFilter", "only when"),
    ({"StartTime": FUTURE, "Frequency": "IN_APP_EVENT"}, "Schedule.EventFilter", "triggers"),
    ({"StartTime": FUTURE, "Frequency": "EVENT", "EventFilter": {"FilterType": "DEVICE", "Dimensions": {}}},
     "Schedule.EventFilter.FilterType", "SYSTEM or ENDPOINT"),
    ({}, "Schedule.StartTime", "required"),
])
def test_schedules_are_checked(schedule, field, words):
    assert words in _refused(_request(Schedule=schedule), field)


def test_a_start_within_the_grace_and_immediate_are_now():
    rules.check_definition(_request(Schedule={"StartTime": "2027-01-15T07:59:30Z"}), now=NOW)
    rules.check_definition(_request(Schedule={"StartTime": "IMMEDIATE"}), now=NOW)
    rules.check_definition(_request(Schedule={"StartTime": "2027-01-15T17:00:00+09:00"}), now=NOW)  # 08:00Z


@pytest.mark.parametrize(("limits", "field"), [
    ({"Daily": 101}, "Limits.Daily"), ({"Total": 101}, "Limits.Total"), ({"MessagesPerSecond": 0},
                                                                         "Limits.MessagesPerSecond"),
    ({"MessagesPerSecond": 20001}, "Limits.MessagesPerSecond"), ({"MaximumDuration": 59}, "Limits.MaximumDuration"),
    ({"Session": -1}, "Limits.Session")])
def test_limits_have_pinpoints_bounds(limits, field):
    _refused(_request(Limits=limits), field)


def test_treatments_share_at_most_the_whole_segment():
    ok = rules.check_definition(_request(HoldoutPercent=10, AdditionalTreatments=[
        {"SizePercent": 40, "MessageConfiguration": {"EmailMessage": {"Title": "B", "Body": "b"}}}]), now=NOW)
    assert ok["AdditionalTreatments"][0]["SizePercent"] == 40
    assert "more than 100" in _refused(_request(HoldoutPercent=50, AdditionalTreatments=[{"SizePercent": 51}]),
                                       "AdditionalTreatments")
    _refused(_request(AdditionalTreatments=[{"SizePercent": 0}]), "AdditionalTreatments[0].SizePercent")
    _refused(_request(AdditionalTreatments=[{"SizePercent": 1}] * 5), "AdditionalTreatments")
    _refused(_request(HoldoutPercent=101), "HoldoutPercent")


@given(holdout=st.integers(0, 100), sizes=st.lists(st.integers(1, 100), max_size=4))
def test_treatment_shares_are_accepted_exactly_when_they_fit(holdout, sizes):
    request = _request(HoldoutPercent=holdout, AdditionalTreatments=[{"SizePercent": s} for s in sizes])
    if holdout + sum(sizes) <= 100:
        assert len(rules.check_definition(request, now=NOW).get("AdditionalTreatments", [])) == len(sizes)
    else:
        _refused(request, "AdditionalTreatments")


@pytest.mark.parametrize(("configuration", "templates", "field", "words"), [
    ({}, None, "MessageConfiguration", "must configure a channel"),
    ({"EmailMessage": {"Title": "no body"}}, None, "MessageConfiguration.EmailMessage", "HtmlBody"),
    ({"SMSMessage": {"MessageType": "PROMOTIONAL"}}, None, "MessageConfiguration.SMSMessage.Body", "Body"),
    ({"GCMMessage": {"Url": "https://example.com"}}, None, "MessageConfiguration.GCMMessage", "needs a Body"),
    ({"InAppMessage": {"Layout": "TOP_BANNER"}}, None, "MessageConfiguration.InAppMessage.Content", "one card"),
    ({"InAppMessage": {"Content": [{"BodyConfig": {"Body": "hi"}}]}}, None,
     "MessageConfiguration.InAppMessage.Content[0].BodyConfig", "Alignment"),
    ({"InAppMessage": {"Content": [{"PrimaryBtn": {"DefaultConfig": {"Text": "Go", "ButtonAction": "LINK"}}}]}},
     None, "MessageConfiguration.InAppMessage.Content[0].PrimaryBtn.DefaultConfig.Link", "required"),
    ({"InAppMessage": {"Layout": "SIDEBAR", "Content": [{"ImageUrl": "https://x/y.png"}]}}, None,
     "MessageConfiguration.InAppMessage.Layout", "CAROUSEL"),
    ({"CustomMessage": {"Data": "{}"}}, None, "CustomDeliveryConfiguration", "CustomDeliveryConfiguration"),
    ({}, {"VoiceTemplate": {"Name": "v"}}, "TemplateConfiguration.VoiceTemplate", "isn't supported"),
    ({"EmailMessage": {"Title": "t", "Body": "b", "Headers": [{"Name": "X", "Value": "a\r\nBcc: x"}]}}, None,
     "MessageConfiguration.EmailMessage.Headers[0]", "one line"),
])
def test_message_configuration_must_name_a_channel_pinfold_runs(configuration, templates, field, words):
    request = _request(MessageConfiguration=configuration, TemplateConfiguration=templates)
    assert words in _refused(request, field)


def test_push_messages_reach_their_platforms_and_a_push_template_all_of_them():
    definition = rules.check_definition(_request(MessageConfiguration={"APNSMessage": {"Body": "hi"},
                                                                       "GCMMessage": {"SilentPush": True}}), now=NOW)
    assert rules.channels_of(definition) == {"APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "GCM"}
    templated = rules.check_definition(_request(MessageConfiguration=None, TemplateConfiguration={
        "PushTemplate": {"Name": "hello"}}), now=NOW)
    assert rules.channels_of(templated) == {"APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "GCM", "BAIDU",
                                            "ADM"}
    assert rules.templates_of(templated) == [("TemplateConfiguration.PushTemplate", "PUSH", "hello", None)]


IN_APP = {"InAppMessage": {"Layout": "MOBILE_FEED", "Content": [{
    "HeaderConfig": {"Alignment": "CENTER", "Header": "Welcome", "TextColor": "#000000"},
    "BodyConfig": {"Alignment": "LEFT", "Body": "Take the tour", "TextColor": "#333333"},
    "PrimaryBtn": {"DefaultConfig": {"ButtonAction": "DEEP_LINK", "Link": "app://tour", "Text": "Go"},
                   "Web": {"ButtonAction": "LINK", "Link": "https://example.com/tour"}}}]}}
OPENED = {"FilterType": "ENDPOINT", "Dimensions": {"EventType": {"Values": ["_session.start"]}}}


def test_in_app_messages_go_only_with_in_app_event_and_alone():
    in_app = _request(MessageConfiguration=IN_APP, Schedule={"StartTime": FUTURE, "Frequency": "IN_APP_EVENT",
                                                             "EventFilter": OPENED})
    assert rules.channels_of(rules.check_definition(in_app, now=NOW)) == {"IN_APP"}
    assert "IN_APP_EVENT" in _refused(_request(MessageConfiguration=IN_APP), "Schedule.Frequency")
    mixed = {**in_app, "MessageConfiguration": {**IN_APP, **EMAIL}}
    assert "only in-app messages" in _refused(mixed, "MessageConfiguration")
    assert "only in-app messages" in _refused({**in_app, "MessageConfiguration": EMAIL}, "MessageConfiguration")


def test_an_email_template_alone_configures_email():
    definition = rules.check_definition(_request(MessageConfiguration=None, TemplateConfiguration={
        "EmailTemplate": {"Name": "welcome", "Version": "2"}}), now=NOW)
    assert rules.channels_of(definition) == {"EMAIL"}
    assert rules.templates_of(definition) == [("TemplateConfiguration.EmailTemplate", "EMAIL", "welcome", "2")]


@pytest.mark.parametrize(("uri", "words"), [
    ("my-function", "Lambda functions are not available"),
    ("arn:aws:lambda:us-east-1:123456789012:function:f", "Lambda functions are not available"),
    ("http://example.com/hook", "https://"),
    ("ftp://example.com/hook", "https://"),
    ("https://exa mple.com/", "without spaces"),
    ("https:///nohost", "host"),
])
def test_delivery_uris_are_https_or_loopback(uri, words):
    request = _request(MessageConfiguration={"CustomMessage": {"Data": "x"}},
                       CustomDeliveryConfiguration={"DeliveryUri": uri})
    assert words in _refused(request, "CustomDeliveryConfiguration.DeliveryUri")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "[::1]", "localhost"])
def test_http_is_allowed_to_loopback_hosts(host):
    url = f"http://{host}:8080/deliver"
    definition = rules.check_definition(_request(MessageConfiguration={"CustomMessage": {"Data": "x"}},
                                                 CustomDeliveryConfiguration={"DeliveryUri": url}), now=NOW)
    assert rules.web_urls(definition) == [("CustomDeliveryConfiguration.DeliveryUri", url)]


def test_hooks_are_web_filters():
    definition = rules.check_definition(_request(Hook={"WebUrl": "https://hooks.example.com/f"}), now=NOW)
    assert definition["Hook"] == {"Mode": "FILTER", "WebUrl": "https://hooks.example.com/f"}
    assert "deprecated" in _refused(_request(Hook={"WebUrl": "https://h.example.com", "Mode": "DELIVERY"}),
                                    "Hook.Mode")
    assert "Lambda" in _refused(_request(Hook={"LambdaFunctionName": "f", "Mode": "FILTER"}),
                                "Hook.LambdaFunctionName")


def test_an_update_carries_over_what_it_does_not_give():
    first = rules.check_definition(_request(Name="one", SegmentVersion=2), now=NOW)
    later = NOW + 40 * 86400  # the first StartTime is past by now; keeping it is no refusal
    second = rules.check_definition({"Name": "two"}, now=later, previous=first)
    assert second == {**first, "Name": "two"}
    moved = rules.check_definition({"SegmentId": "s2"}, now=later, previous=first)
    assert moved["SegmentId"] == "s2" and "SegmentVersion" not in moved  # the pin was the old segment's
    _refused({"Schedule": {"StartTime": "2027-01-01T00:00:00Z"}}, "Schedule.StartTime", previous=first)


def test_huge_definitions_are_refused():
    body = "x" * 300_000
    request = _request(MessageConfiguration={"EmailMessage": {"Title": "t", "HtmlBody": body, "Body": body}},
                       AdditionalTreatments=[{"SizePercent": 10, "MessageConfiguration": {
                           "EmailMessage": {"Title": "t", "HtmlBody": body, "Body": body}}}])
    assert "larger than" in _refused(request, "WriteCampaignRequest")


# --- states -----------------------------------------------------------------------------------------

def _definition(**schedule) -> dict:
    return {"SegmentId": "s1", "Schedule": {"StartTime": FUTURE, "Frequency": "ONCE", **schedule}}


def test_new_campaigns_wait_for_their_start_and_event_campaigns_for_their_trigger():
    assert states.initial(_definition(), NOW) == ("SCHEDULED", rules.parse_time(FUTURE, "x"))
    assert states.initial(_definition(StartTime="IMMEDIATE"), NOW) == ("SCHEDULED", NOW)
    assert states.initial(_definition(Frequency="EVENT"), NOW) == ("SCHEDULED", None)
    assert states.initial({**_definition(), "IsPaused": True}, NOW) == ("PAUSED", None)


def test_an_immediate_campaign_cannot_be_paused():
    with pytest.raises(InvalidInput, match="An IMMEDIATE campaign cannot be paused"):
        states.check_pausable({**_definition(StartTime="IMMEDIATE"), "IsPaused": True})
    states.check_pausable({**_definition(), "IsPaused": True})


def test_edits_pauses_and_resumes():
    campaign = {"state": "SCHEDULED", "next_run_at": 5.0, "runs": 0}
    before = _definition()
    assert states.after_update(campaign, before, {**before, "Name": "x"}, now=NOW, running=False,
                               origin=None) == ("SCHEDULED", 5.0)
    assert states.after_update(campaign, before, {**before, "IsPaused": True}, now=NOW, running=True,
                               origin=None) == ("PAUSED", None)
    paused = {"state": "PAUSED", "next_run_at": None, "runs": 0}
    start = rules.parse_time(FUTURE, "x")
    assert states.after_update(paused, {**before, "IsPaused": True}, before, now=NOW, running=False,
                               origin=None) == ("SCHEDULED", start)
    daily = _definition(Frequency="DAILY")
    ran = {"state": "PAUSED", "next_run_at": None, "runs": 3}
    later = start + 3.5 * 86400
    assert states.after_update(ran, daily, {**daily, "IsPaused": False}, now=later, running=False,
                               origin=start) == ("PENDING_NEXT_RUN", start + 4 * 86400)
    sent = {"state": "COMPLETED", "next_run_at": None, "runs": 1}
    assert states.after_update(sent, before, {**before, "Name": "x"}, now=later, running=False,
                               origin=start) == ("COMPLETED", None)
    again = _definition(StartTime="2027-03-01T00:00:00Z")
    assert states.after_update(sent, before, again, now=later, running=False, origin=start)[0] == "SCHEDULED"
    assert states.after_update(sent, before, again, now=later, running=True, origin=start)[0] == "EXECUTING"


def test_a_campaign_whose_segment_is_gone_shows_deleted():
    assert states.shown("SCHEDULED", segment_exists=False) == "DELETED"
    assert states.shown("COMPLETED", segment_exists=False) == "COMPLETED"
    assert states.shown("PAUSED", segment_exists=True) == "PAUSED"
