"""SMS-Voice v2 opt-outs, configuration sets, account settings, verified destinations and tags
through boto3 against a real server: shapes, paging and the error members boto3 reads."""

from __future__ import annotations

import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard


@pytest.fixture
def tenant(server):
    """A fresh ma-mp tenant: its own member account, so every test starts from an empty SMS account."""
    return onboard(server, "ma-mp")


def _sms(server, creds):
    return make_client(server, creds, "pinpoint-sms-voice-v2")


def _error(caught) -> tuple[str, dict]:
    response = caught.value.response
    return response["Error"]["Code"], {key: response.get(key) for key in ("Reason", "ResourceType", "ResourceId")}


def test_opt_out_lists_and_numbers(server, tenant):
    sms = _sms(server, tenant["credentials"])
    made = sms.create_opt_out_list(OptOutListName="news", Tags=[{"Key": "team", "Value": "growth"}])
    assert made["OptOutListArn"].endswith(":opt-out-list/news") and made["Tags"] == [{"Key": "team",
                                                                                       "Value": "growth"}]
    assert [item["OptOutListName"] for item in sms.describe_opt_out_lists()["OptOutLists"]] == ["Default", "news"]
    with pytest.raises(ClientError) as again:
        sms.create_opt_out_list(OptOutListName="news")
    assert _error(again) == ("ConflictException", {"Reason": "RESOURCE_ALREADY_EXISTS",
                                                   "ResourceType": "opt-out-list", "ResourceId": "news"})
    put = sms.put_opted_out_number(OptOutListName="news", OptedOutNumber="+14255550100")
    assert put["EndUserOptedOut"] is False and put["OptedOutTimestamp"].year >= 2024
    listed = sms.describe_opted_out_numbers(OptOutListName=made["OptOutListArn"],
                                            Filters=[{"Name": "end-user-opted-out", "Values": ["false"]}])
    assert [item["OptedOutNumber"] for item in listed["OptedOutNumbers"]] == ["+14255550100"]
    sms.delete_opted_out_number(OptOutListName="news", OptedOutNumber="+14255550100")
    with pytest.raises(ClientError) as gone:
        sms.delete_opted_out_number(OptOutListName="news", OptedOutNumber="+14255550100")
    assert _error(gone) == ("ResourceNotFoundException", {"Reason": None, "ResourceType": "opted-out-number",
                                                          "ResourceId": "+14255550100"})
    sms.put_opted_out_number(OptOutListName="news", OptedOutNumber="+14255550100")
    with pytest.raises(ClientError) as too_soon:
        sms.delete_opted_out_number(OptOutListName="news", OptedOutNumber="+14255550100")
    assert _error(too_soon)[0] == "ValidationException"
    assert _error(too_soon)[1]["Reason"] == "PHONE_NUMBER_CANNOT_BE_OPTED_IN"
    with pytest.raises(ClientError) as default:
        sms.delete_opt_out_list(OptOutListName="Default")
    assert _error(default)[1]["Reason"] == "RESOURCE_DELETION_NOT_ALLOWED"
    assert sms.delete_opt_out_list(OptOutListName="news")["OptOutListName"] == "news"


def test_configuration_sets_and_event_destinations(server, tenant):
    sms = _sms(server, tenant["credentials"])
    for name in ("set-a", "set-b", "set-c"):
        sms.create_configuration_set(ConfigurationSetName=name)
    sms.set_default_message_type(ConfigurationSetName="set-b", MessageType="TRANSACTIONAL")
    sms.set_default_sender_id(ConfigurationSetName="set-b", SenderId="ACME")
    arn = sms.describe_configuration_sets(ConfigurationSetNames=["set-b"])["ConfigurationSets"][0][
        "ConfigurationSetArn"]
    region, account = arn.split(":")[3:5]
    topic = f"arn:aws:sns:{region}:{account}:sms-events"
    made = sms.create_event_destination(ConfigurationSetName=arn, EventDestinationName="to-sns",
                                        MatchingEventTypes=["TEXT_DELIVERED", "TEXT_BLOCKED"],
                                        SnsDestination={"TopicArn": topic})
    assert made["EventDestination"]["Enabled"] is True
    with pytest.raises(ClientError) as sent:
        sms.create_event_destination(ConfigurationSetName="set-b", EventDestinationName="bad",
                                     MatchingEventTypes=["TEXT_SENT"], SnsDestination={"TopicArn": topic})
    assert _error(sent) == ("ValidationException", {"Reason": "INVALID_PARAMETER", "ResourceType": None,
                                                    "ResourceId": None})
    sms.update_event_destination(ConfigurationSetName="set-b", EventDestinationName="to-sns", Enabled=False)
    pages = sms.get_paginator("describe_configuration_sets").paginate(PaginationConfig={"PageSize": 2})
    sets = [item for one in pages for item in one["ConfigurationSets"]]
    assert [item["ConfigurationSetName"] for item in sets] == ["set-a", "set-b", "set-c"]
    assert sets[1]["DefaultSenderId"] == "ACME" and sets[1]["EventDestinations"][0]["Enabled"] is False
    filtered = sms.describe_configuration_sets(Filters=[{"Name": "default-message-type",
                                                         "Values": ["TRANSACTIONAL"]}])
    assert [item["ConfigurationSetName"] for item in filtered["ConfigurationSets"]] == ["set-b"]
    deleted = sms.delete_configuration_set(ConfigurationSetName="set-b")
    assert deleted["DefaultMessageType"] == "TRANSACTIONAL" and deleted["EventDestinations"][0]["EventDestinationName"]
    with pytest.raises(ClientError) as missing:
        sms.set_default_sender_id(ConfigurationSetName="set-b", SenderId="ACME")
    assert _error(missing) == ("ResourceNotFoundException", {"Reason": None, "ResourceType": "configuration-set",
                                                             "ResourceId": "set-b"})


def test_account_settings_spend_and_verified_numbers(server, tenant):
    sms = _sms(server, tenant["credentials"])
    assert sms.describe_account_attributes()["AccountAttributes"] == [{"Name": "ACCOUNT_TIER", "Value": "SANDBOX"}]
    assert sms.describe_spend_limits()["SpendLimits"] == [{"Name": "TEXT_MESSAGE_MONTHLY_SPEND_LIMIT",
                                                           "EnforcedLimit": 1, "MaxLimit": 1, "Overridden": False}]
    with pytest.raises(ClientError) as too_high:
        sms.set_text_message_spend_limit_override(MonthlyLimit=100)
    assert _error(too_high)[1]["Reason"] == "REQUESTED_SPEND_LIMIT_HIGHER_THAN_SERVICE_LIMIT"
    assert sms.set_text_message_spend_limit_override(MonthlyLimit=0)["MonthlyLimit"] == 0
    assert sms.describe_spend_limits()["SpendLimits"][0]["EnforcedLimit"] == 0
    limits = {item["Name"]: item for item in sms.describe_account_limits()["AccountLimits"]}
    assert limits["OPT_OUT_LISTS"]["Used"] == 1 and limits["VERIFIED_DESTINATION_NUMBERS"]["Max"] == 10
    made = sms.create_verified_destination_number(DestinationPhoneNumber="+12065550123")
    assert made["Status"] == "PENDING"
    sent = sms.send_destination_number_verification_code(
        VerifiedDestinationNumberId=made["VerifiedDestinationNumberId"], VerificationChannel="TEXT")
    assert sent["MessageId"]
    with pytest.raises(ClientError) as wrong:
        sms.verify_destination_number(VerifiedDestinationNumberId=made["VerifiedDestinationNumberArn"],
                                      VerificationCode="nottheone")
    assert _error(wrong)[1]["Reason"] == "VERIFICATION_CODE_MISMATCH"
    deadline, texts = time.monotonic() + 20, []
    while not texts and time.monotonic() < deadline:  # the code goes out as a text: the carrier simulator has it
        listed_texts = json.loads(server.cli("sms", "list", "--json", "--destination", "+12065550123").stdout)
        texts = [text for text in listed_texts if text["message_id"] == sent["MessageId"]]
        time.sleep(0.2)
    assert texts and texts[0]["origination"] == "Verify"
    code = re.search(r"code is ([0-9]{6})", texts[0]["body"]).group(1)
    listed = sms.describe_verified_destination_numbers(DestinationPhoneNumbers=["+12065550123"])
    assert [item["Status"] for item in listed["VerifiedDestinationNumbers"]] == ["PENDING"]
    verified = sms.verify_destination_number(VerifiedDestinationNumberId=made["VerifiedDestinationNumberId"],
                                             VerificationCode=code)
    assert verified["Status"] == "VERIFIED"
    sms.delete_verified_destination_number(VerifiedDestinationNumberId=made["VerifiedDestinationNumberId"])
    assert sms.describe_verified_destination_numbers()["VerifiedDestinationNumbers"] == []


def test_tags_and_the_limits_of_a_confined_tenant(server, tenant):
    sms = _sms(server, tenant["credentials"])
    arn = sms.create_configuration_set(ConfigurationSetName="tagged")["ConfigurationSetArn"]
    sms.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sms.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert sms.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as unknown:
        sms.list_tags_for_resource(ResourceArn=arn.replace("tagged", "absent"))
    assert _error(unknown)[0] == "ResourceNotFoundException"
    confined = _sms(server, onboard(server, "sa-mp")["credentials"])
    assert confined.describe_opt_out_lists()["OptOutLists"][0]["OptOutListName"] == "Default"
    with pytest.raises(ClientError) as refused:
        confined.create_configuration_set(ConfigurationSetName="mine")
    assert _error(refused)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as bad_page:
        sms.describe_opt_out_lists(NextToken="not-a-token")
    assert _error(bad_page) == ("ValidationException", {"Reason": "INVALID_NEXT_TOKEN", "ResourceType": None,
                                                        "ResourceId": None})


def test_the_operator_raises_an_accounts_quotas_for_many_tenants(server, tenant):
    sms = _sms(server, tenant["credentials"])
    account = tenant["tenant"]["account_id"]
    shown = server.cli("accounts", "sms-production", account, "--max-configuration-sets", "300", "--max-pools", "300",
                       "--json")
    assert json.loads(shown.stdout)["Quotas"] == {"CONFIGURATION_SETS": 300, "POOLS": 300}
    limits = {item["Name"]: item["Max"] for item in sms.describe_account_limits()["AccountLimits"]}
    assert (limits["CONFIGURATION_SETS"], limits["POOLS"], limits["PHONE_NUMBERS"]) == (300, 300, 1000)
    for n in range(26):  # past AWS's default of 25
        sms.create_configuration_set(ConfigurationSetName=f"tenant-{n}")
    refused = server.cli("accounts", "sms-production", account, "--max-pools", "0", check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
