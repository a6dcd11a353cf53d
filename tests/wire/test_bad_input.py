"""Bad input the fuzzer found answering 5xx: each is now a 400 in the service's own error shape."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import admin_request, make_client, onboard, signed_request


@pytest.fixture(scope="module")
def tenant(server) -> dict:
    return onboard(server, "ma-mp")


@pytest.fixture(scope="module")
def pinpoint(server, tenant):
    return make_client(server, tenant["credentials"])


@pytest.fixture(scope="module")
def app_id(pinpoint) -> str:
    return pinpoint.create_app(CreateApplicationRequest={"Name": "bad-input"})["ApplicationResponse"]["Id"]


@pytest.fixture(scope="module")
def segment_id(pinpoint, app_id) -> str:
    return pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest={
        "Name": "all", "Dimensions": {"Demographic": {"Channel": {"Values": ["EMAIL"]}}}})["SegmentResponse"]["Id"]


@pytest.fixture(scope="module")
def template(pinpoint) -> str:
    pinpoint.create_email_template(TemplateName="bad-input", EmailTemplateRequest={"Subject": "s", "TextPart": "t"})
    return "bad-input"


def _refusal(call, **params) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


# '²' passes str.isdigit() and fails int(); 10^23 overflows the integer column; '１２' is int() 12.
@pytest.mark.parametrize("version", ["²", "¹²³", "99999999999999999999999", "１２", "0"])
def test_a_segment_version_that_is_not_a_whole_number_is_a_400(pinpoint, app_id, segment_id, version):
    code, status, message = _refusal(pinpoint.get_segment_version, ApplicationId=app_id, SegmentId=segment_id,
                                     Version=version)
    assert (code, status) == ("BadRequestException", 400)
    assert message.startswith("Version must be a whole number from 1 to 2147483647")


@pytest.mark.parametrize("version", ["²", "99999999999999999999999"])
def test_a_template_version_that_is_not_a_whole_number_is_a_400(pinpoint, template, version):
    assert _refusal(pinpoint.get_email_template, TemplateName=template, Version=version)[:2] == (
        "BadRequestException", 400)
    assert _refusal(pinpoint.update_template_active_version, TemplateName=template, TemplateType="EMAIL",
                    TemplateActiveVersionRequest={"Version": version})[:2] == ("BadRequestException", 400)


def test_a_send_naming_a_template_version_that_is_not_a_number_is_a_400(pinpoint, app_id, template):
    code, status, message = _refusal(pinpoint.send_messages, ApplicationId=app_id, MessageRequest={
        "Addresses": {"a@example.com": {"ChannelType": "EMAIL"}},
        "MessageConfiguration": {"EmailMessage": {"FromAddress": "a@example.com"}},
        "TemplateConfiguration": {"EmailTemplate": {"Name": template, "Version": "0001-01-01T00:00:00Z"}}})
    assert (code, status) == ("BadRequestException", 400)
    assert "TemplateConfiguration.EmailTemplate.Version" in message


def test_a_segment_versions_token_naming_no_version_is_a_400(pinpoint, app_id, segment_id):
    token = base64.urlsafe_b64encode(json.dumps([segment_id, "abc"]).encode()).decode()
    code, status, _ = _refusal(pinpoint.get_segment_versions, ApplicationId=app_id, SegmentId=segment_id,
                               Token=token)
    assert (code, status) == ("BadRequestException", 400)


def test_a_nul_in_any_string_is_a_400(server, tenant, pinpoint, app_id):
    code, status, message = _refusal(pinpoint.create_app, CreateApplicationRequest={"Name": "a\x00b"})
    assert (code, status) == ("BadRequestException", 400)
    assert message == "CreateApplicationRequest.Name must not contain the NUL character"
    assert _refusal(pinpoint.update_endpoint, ApplicationId=app_id, EndpointId="e1", EndpointRequest={
        "ChannelType": "EMAIL", "Address": "a@example.com", "Attributes": {"k\x00": ["v"]}})[:2] == (
        "BadRequestException", 400)
    ses = make_client(server, tenant["credentials"], "sesv2")
    assert _refusal(ses.create_contact_list, ContactListName="list", Description="a\x00b")[:2] == (
        "BadRequestException", 400)


def test_an_event_type_longer_than_its_column_is_refused_alone(pinpoint, app_id):
    event = {"Timestamp": "2026-11-26T10:00:00Z"}
    result = pinpoint.put_events(ApplicationId=app_id, EventsRequest={"BatchItem": {"e1": {"Endpoint": {}, "Events": {
        "long": {**event, "EventType": "x" * 65}, "fine": {**event, "EventType": "x" * 64}}}}})
    events = result["EventsResponse"]["Results"]["e1"]["EventsItemResponse"]
    assert events["fine"]["StatusCode"] == 202
    assert events["long"] == {"StatusCode": 400, "Message": "EventType must be 1 to 64 characters long"}


def test_a_segment_whose_source_was_deleted_is_a_404_not_a_500(server, pinpoint, app_id, segment_id):
    source = pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest={
        "Name": "source", "Dimensions": {"Demographic": {"Channel": {"Values": ["EMAIL"]}}}})["SegmentResponse"]["Id"]
    built = pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest={
        "Name": "built", "SegmentGroups": {"Include": "ALL", "Groups": [{"SourceSegments": [{"Id": source}]}]},
    })["SegmentResponse"]["Id"]
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="in-source", EndpointRequest={
        "ChannelType": "EMAIL", "Address": "in-source@example.com"})
    pinpoint.delete_segment(ApplicationId=app_id, SegmentId=source)
    response = admin_request(server, server.admin, "GET", f"/admin/v1/projects/{app_id}/segments/{built}/size")
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("cap", [2**31, 10**23])
def test_an_integer_past_32_bits_is_a_400_not_a_failure_to_store_it(pinpoint, app_id, cap):
    code, status, message = _refusal(pinpoint.update_application_settings, ApplicationId=app_id,
                                     WriteApplicationSettingsRequest={"JourneyLimits": {"TotalCap": cap}})
    assert (code, status) == ("BadRequestException", 400)
    assert message == "WriteApplicationSettingsRequest.JourneyLimits.TotalCap must be a 32-bit integer"


@pytest.mark.parametrize("query", ["end-time=0001-01-01", "end-time=0001-01-15T00%3A00%3A00Z"])
def test_a_kpi_range_ending_in_year_one_is_a_400(server, tenant, app_id, query):
    path = f"/v1/apps/{app_id}/kpis/daterange/email-open-rate?{query}"
    response = signed_request(server, tenant["credentials"], "mobiletargeting", "GET", path)
    assert (response.status_code, response.headers["x-amzn-errortype"]) == (400, "BadRequestException"), response.text
    assert response.json()["message"] == "StartTime must be less than 90 days ago"


def test_a_template_naming_a_digit_like_key_is_stored_and_renders(server, tenant, pinpoint):
    ses = make_client(server, tenant["credentials"], "sesv2")
    ses.create_email_template(TemplateName="superscript", TemplateContent={"Subject": "s", "Text": "{{a.²}}"})
    rendered = ses.test_render_email_template(TemplateName="superscript", TemplateData='{"a": {"²": "squared"}}')
    assert "squared" in rendered["RenderedTemplate"]
    pinpoint.create_email_template(TemplateName="superscript", EmailTemplateRequest={"Subject": "s",
                                                                                     "TextPart": "{{items.²}}"})


def test_a_template_ending_in_an_open_parent_path_is_a_400(server, tenant, pinpoint):
    ses = make_client(server, tenant["credentials"], "sesv2")
    ses.create_email_template(TemplateName="open-path", TemplateContent={"Subject": "s", "Text": "Hi {{../"})
    code, status, message = _refusal(ses.test_render_email_template, TemplateName="open-path", TemplateData="{}")
    assert (code, status) == ("BadRequestException", 400)
    assert "the tag is never closed" in message
    assert _refusal(pinpoint.create_email_template, TemplateName="open-path",
                    EmailTemplateRequest={"Subject": "s", "TextPart": "Hi {{../"})[:2] == ("BadRequestException", 400)
