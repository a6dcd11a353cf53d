"""Phone numbers, sender ids, pools and keywords through boto3 (and the AWS CLI) against a real
server, as a script migrating from AWS End User Messaging would drive them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard

AWS = str(Path(sys.executable).with_name("aws"))


@pytest.fixture
def tenant(server):
    """A fresh ma-mp tenant: an SMS account of its own."""
    return onboard(server, "ma-mp")


def _sms(server, creds):
    return make_client(server, creds, "pinpoint-sms-voice-v2")


def _error(call, **kwargs) -> tuple[str, dict]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["Error"]["Code"], {key: response[key] for key in ("Reason", "ResourceType", "ResourceId")
                                       if key in response}


def _request(sms, country="US", number_type="TOLL_FREE", **extra):
    return sms.request_phone_number(IsoCountryCode=country, MessageType="TRANSACTIONAL", NumberCapabilities=["SMS"],
                                    NumberType=number_type, **extra)


def test_a_migrating_script_sets_up_numbers_a_pool_and_keywords(server, tenant):
    sms = _sms(server, tenant["credentials"])
    first = _request(sms, DeletionProtectionEnabled=True, Tags=[{"Key": "tenant", "Value": "a"}])
    assert first["PhoneNumber"].startswith("+1") and first["Status"] == "ACTIVE"
    assert first["CreatedTimestamp"].year >= 2024 and first["OptOutListName"] == "Default"
    second, british = _request(sms, "US", "TEN_DLC"), _request(sms, "GB", "LONG_CODE")
    sender = sms.request_sender_id(SenderId="AcmeCo", IsoCountryCode="GB", MessageTypes=["TRANSACTIONAL"])
    assert sender["SenderIdArn"].endswith("sender-id/AcmeCo:GB") and sender["Registered"] is False

    pool = sms.create_pool(OriginationIdentity=first["PhoneNumberArn"], MessageType="TRANSACTIONAL")
    assert pool["DeletionProtectionEnabled"] is False and pool["OptOutListName"] == "Default"
    for identity in (second["PhoneNumberId"], british["PhoneNumber"]):
        sms.associate_origination_identity(PoolId=pool["PoolId"], OriginationIdentity=identity)
    joined = sms.associate_origination_identity(PoolId=pool["PoolArn"], OriginationIdentity="AcmeCo",
                                                IsoCountryCode="GB")
    assert joined["OriginationIdentityArn"] == sender["SenderIdArn"]
    members = sms.list_pool_origination_identities(PoolId=pool["PoolId"], MaxResults=2)
    rest = sms.list_pool_origination_identities(PoolId=pool["PoolId"], NextToken=members["NextToken"])
    listed = members["OriginationIdentities"] + rest["OriginationIdentities"]
    assert {item["OriginationIdentity"] for item in listed} == {
        first["PhoneNumberId"], second["PhoneNumberId"], british["PhoneNumberId"], "AcmeCo"}
    gb = sms.list_pool_origination_identities(PoolId=pool["PoolId"],
                                              Filters=[{"Name": "iso-country-code", "Values": ["GB"]}])
    assert {item["OriginationIdentity"] for item in gb["OriginationIdentities"]} == {british["PhoneNumberId"],
                                                                                     "AcmeCo"}

    put = sms.put_keyword(OriginationIdentity=pool["PoolId"], Keyword="hours", KeywordMessage="9 to 5, Mon-Fri")
    assert (put["Keyword"], put["KeywordAction"]) == ("HOURS", "AUTOMATIC_RESPONSE")
    sms.put_keyword(OriginationIdentity=pool["PoolId"], Keyword="STOP", KeywordMessage="You are out. Bye.")
    described = sms.describe_keywords(OriginationIdentity=pool["PoolArn"])
    assert described["OriginationIdentity"] == pool["PoolId"]
    assert [(k["Keyword"], k["KeywordAction"]) for k in described["Keywords"]] == [
        ("HELP", "AUTOMATIC_RESPONSE"), ("HOURS", "AUTOMATIC_RESPONSE"), ("STOP", "OPT_OUT")]
    assert _error(sms.delete_keyword, OriginationIdentity=pool["PoolId"], Keyword="HELP") == (
        "ConflictException", {"Reason": "RESOURCE_DELETION_NOT_ALLOWED", "ResourceType": "keyword",
                              "ResourceId": "HELP"})

    assert _error(sms.release_phone_number, PhoneNumberId=second["PhoneNumberId"]) == (
        "ConflictException", {"Reason": "PHONE_NUMBER_ASSOCIATED_TO_POOL", "ResourceType": "phone-number",
                              "ResourceId": second["PhoneNumberId"]})
    sms.delete_pool(PoolId=pool["PoolId"])
    released = sms.release_phone_number(PhoneNumberId=second["PhoneNumberArn"])
    assert released["Status"] == "DELETED" and released["PhoneNumber"] == second["PhoneNumber"]
    assert _error(sms.release_phone_number, PhoneNumberId=first["PhoneNumberId"])[1]["Reason"] == (
        "DELETION_PROTECTION_ENABLED")
    left = sms.describe_phone_numbers(Filters=[{"Name": "deletion-protection-enabled", "Values": ["true"]}])
    assert [n["PhoneNumberId"] for n in left["PhoneNumbers"]] == [first["PhoneNumberId"]]
    tags = sms.list_tags_for_resource(ResourceArn=first["PhoneNumberArn"])["Tags"]
    assert tags == [{"Key": "tenant", "Value": "a"}]


def test_describe_pages_with_the_paginator_and_names_what_is_missing(server, tenant):
    sms = _sms(server, tenant["credentials"])
    made = {_request(sms)["PhoneNumberId"] for _ in range(5)}
    pages = list(sms.get_paginator("describe_phone_numbers").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(page["PhoneNumbers"]) for page in pages] == [2, 2, 1]
    assert {n["PhoneNumberId"] for page in pages for n in page["PhoneNumbers"]} == made
    missing = "phone-" + "0" * 32
    assert _error(sms.describe_phone_numbers, PhoneNumberIds=[missing]) == (
        "ResourceNotFoundException", {"ResourceType": "phone-number", "ResourceId": missing})
    assert _error(sms.describe_phone_numbers, NextToken="bogus")[1] == {"Reason": "INVALID_NEXT_TOKEN"}
    code, members = _error(sms.request_phone_number, IsoCountryCode="US", MessageType="PROMOTIONAL",
                           NumberCapabilities=["SMS"], NumberType="SIMULATOR")
    assert code == "ValidationException" and members["Reason"] == "INVALID_PARAMETER"
    code, members = _error(sms.request_sender_id, SenderId="-bad", IsoCountryCode="GB")
    assert code == "ValidationException" and members["Reason"] == "FIELD_VALIDATION_FAILED"
    token = "same-request"
    assert _request(sms, ClientToken=token)["PhoneNumberId"] == _request(sms, ClientToken=token)["PhoneNumberId"]


def test_a_confined_tenant_sees_the_accounts_numbers_but_cannot_release_them(server):
    shared = onboard(server, "sa-mp")
    admin = json.loads(server.cli("admin", "keys", "create", "--scope", "account", "--account",
                                  shared["tenant"]["account_id"]).stdout)
    number = _request(_sms(server, admin))
    confined = _sms(server, shared["credentials"])
    seen = confined.describe_phone_numbers(PhoneNumberIds=[number["PhoneNumberId"]])["PhoneNumbers"]
    assert [n["PhoneNumber"] for n in seen] == [number["PhoneNumber"]]
    assert _error(confined.release_phone_number, PhoneNumberId=number["PhoneNumberId"])[0] == "AccessDeniedException"
    assert _error(confined.request_phone_number, IsoCountryCode="US", MessageType="TRANSACTIONAL",
                  NumberCapabilities=["SMS"], NumberType="TOLL_FREE")[0] == "AccessDeniedException"


def test_the_aws_cli_lists_numbers_across_pages(server, tenant):
    if not Path(AWS).exists():
        pytest.skip("the AWS CLI is not installed beside this Python")
    sms = _sms(server, tenant["credentials"])
    made = {_request(sms, "GB", "LONG_CODE")["PhoneNumber"] for _ in range(3)}
    creds = tenant["credentials"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
           "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"], "AWS_DEFAULT_REGION": creds["region"],
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    done = subprocess.run([AWS, "--endpoint-url", server.url, "--output", "json", "pinpoint-sms-voice-v2",
                           "describe-phone-numbers", "--page-size", "1", "--filters",
                           "Name=iso-country-code,Values=GB"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert {n["PhoneNumber"] for n in json.loads(done.stdout)["PhoneNumbers"]} == made
