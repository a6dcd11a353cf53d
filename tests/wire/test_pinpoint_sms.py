"""Pinpoint's own SMS surface through boto3: a project's SMS channel, SMS templates (with versions and
in ListTemplates), and PhoneNumberValidate."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard


@pytest.fixture
def pinpoint_tenant(server):
    placed = onboard(server, "ma-mp")
    return placed["tenant"]["project_id"], make_client(server, placed["credentials"])


def test_a_projects_sms_channel_is_updated_read_and_deleted(pinpoint_tenant):
    project, pinpoint = pinpoint_tenant
    with pytest.raises(ClientError) as missing:
        pinpoint.get_sms_channel(ApplicationId=project)
    assert missing.value.response["Error"]["Code"] == "NotFoundException"

    first = pinpoint.update_sms_channel(ApplicationId=project, SMSChannelRequest={
        "Enabled": True, "SenderId": "MyShop"})["SMSChannelResponse"]
    assert (first["Platform"], first["Enabled"], first["SenderId"], first["Version"]) == ("SMS", True, "MyShop", 1)
    assert first["ApplicationId"] == project and first["TransactionalMessagesPerSecond"] > 0
    second = pinpoint.update_sms_channel(ApplicationId=project, SMSChannelRequest={
        "Enabled": False, "ShortCode": "12345"})["SMSChannelResponse"]
    assert (second["Enabled"], second["SenderId"], second["ShortCode"], second["Version"]) == \
        (False, "MyShop", "12345", 2)
    assert pinpoint.get_sms_channel(ApplicationId=project)["SMSChannelResponse"] == second
    assert pinpoint.get_channels(ApplicationId=project)["ChannelsResponse"]["Channels"]["SMS"]["Version"] == 2
    for bad in ({"SenderId": "-bad"}, {"SenderId": "TWELVECHARSX"}, {"SenderId": "12345"}, {"ShortCode": "12ab"}):
        with pytest.raises(ClientError) as refused:
            pinpoint.update_sms_channel(ApplicationId=project, SMSChannelRequest=bad)
        assert refused.value.response["Error"]["Code"] == "BadRequestException"
    assert pinpoint.delete_sms_channel(ApplicationId=project)["SMSChannelResponse"]["Version"] == 2
    with pytest.raises(ClientError):
        pinpoint.get_sms_channel(ApplicationId=project)


def test_sms_templates_have_versions_and_are_listed(pinpoint_tenant):
    _project, pinpoint = pinpoint_tenant
    created = pinpoint.create_sms_template(TemplateName="otp", SMSTemplateRequest={
        "Body": "Your code is {{code}}", "DefaultSubstitutions": '{"code": "000000"}',
        "TemplateDescription": "one-time codes", "tags": {"team": "auth"}})["CreateTemplateMessageBody"]
    assert created["Arn"].endswith(":templates/otp/SMS")
    pinpoint.update_sms_template(TemplateName="otp", CreateNewVersion=True,
                                 SMSTemplateRequest={"Body": "Code: {{code}}"})
    active = pinpoint.get_sms_template(TemplateName="otp")["SMSTemplateResponse"]
    assert (active["Body"], active["TemplateType"], active["Version"]) == ("Your code is {{code}}", "SMS", "1")
    assert pinpoint.get_sms_template(TemplateName="otp", Version="2")["SMSTemplateResponse"]["Body"] == \
        "Code: {{code}}"
    listed = pinpoint.list_templates(TemplateType="SMS")["TemplatesResponse"]["Item"]
    assert [item["TemplateName"] for item in listed] == ["otp"]
    versions = pinpoint.list_template_versions(TemplateName="otp", TemplateType="SMS")["TemplateVersionsResponse"]
    assert sorted(item["Version"] for item in versions["Item"]) == ["1", "2"]
    with pytest.raises(ClientError) as unclosed:
        pinpoint.create_sms_template(TemplateName="broken", SMSTemplateRequest={"Body": "Hi {{#if x}}"})
    assert unclosed.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as too_long:
        pinpoint.create_sms_template(TemplateName="long", SMSTemplateRequest={"Body": "x" * 1601})
    assert too_long.value.response["Error"]["Code"] == "BadRequestException"
    pinpoint.delete_sms_template(TemplateName="otp")
    with pytest.raises(ClientError) as gone:
        pinpoint.get_sms_template(TemplateName="otp")
    assert gone.value.response["Error"]["Code"] == "NotFoundException"


def test_phone_number_validate_answers_from_the_numbering_plan(pinpoint_tenant):
    _project, pinpoint = pinpoint_tenant

    def validate(**request):
        return pinpoint.phone_number_validate(NumberValidateRequest=request)["NumberValidateResponse"]

    us = validate(PhoneNumber="+1 (425) 414-7755")
    assert (us["CleansedPhoneNumberE164"], us["CountryCodeIso2"], us["CountryCodeNumeric"]) == \
        ("+14254147755", "US", "1")
    assert us["Country"] == "United States" and us["PhoneType"] == "MOBILE" and us["PhoneTypeCode"] == 0
    assert us["Timezone"] == "America/Los_Angeles" and us["OriginalPhoneNumber"] == "+1 (425) 414-7755"
    london = validate(PhoneNumber="020 7946 0018", IsoCountryCode="GB")
    assert (london["CleansedPhoneNumberE164"], london["PhoneType"], london["PhoneTypeCode"]) == \
        ("+442079460018", "LANDLINE", 1)
    assert london["OriginalCountryCodeIso2"] == "GB" and london["City"] == "London"
    for nonsense in ("+1555", "not a number", "+99912345"):
        assert validate(PhoneNumber=nonsense)["PhoneType"] == "INVALID"
    with pytest.raises(ClientError) as bad_country:
        validate(PhoneNumber="5551234", IsoCountryCode="ZZ")
    assert bad_country.value.response["Error"]["Code"] == "BadRequestException"
