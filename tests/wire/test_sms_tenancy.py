"""SMS tenancy on the wire: tenants onboarded with an SMS pool through the admin API and the CLI,
whose tenant keys send through boto3 only through their own pool and configuration set, see none of
another tenant's, and whose offboarding releases them."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import admin_request, make_client, onboard

US_SUCCESS = "+14254147755"
SMS = "pinpoint-sms-voice-v2"


def _code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"]


@pytest.fixture
def two_tenants(server):
    """Two sa-mp tenants with SMS pools, through the admin API."""
    first, second = (onboard(server, "sa-mp", sms_pool=True) for _ in range(2))
    return first, second


def test_a_tenant_key_sends_through_its_own_pool_and_set_by_default(server, two_tenants):
    first, _ = two_tenants
    placed = first["tenant"]["metadata"]["pinfold:sms"]
    assert placed["configuration_set"] == f"tenant-{first['tenant']['tenant_id']}"
    client = make_client(server, first["credentials"], SMS)
    assert client.send_text_message(DestinationPhoneNumber=US_SUCCESS, MessageBody="hi")["MessageId"]
    assert client.send_text_message(DestinationPhoneNumber=US_SUCCESS, MessageBody="hi",
                                    OriginationIdentity=placed["pool_id"],
                                    ConfigurationSetName=placed["configuration_set"])["MessageId"]
    pool = client.describe_pools(PoolIds=[placed["pool_id"]])["Pools"][0]
    assert client.list_tags_for_resource(ResourceArn=pool["PoolArn"])["Tags"] == [
        {"Key": "pinfold:tenant", "Value": first["tenant"]["tenant_id"]}]


def test_another_tenants_pool_and_set_look_absent_on_the_wire(server, two_tenants):
    first, second = two_tenants
    other = second["tenant"]["metadata"]["pinfold:sms"]
    client = make_client(server, first["credentials"], SMS)
    with pytest.raises(ClientError) as caught:
        client.send_text_message(DestinationPhoneNumber=US_SUCCESS, MessageBody="hi",
                                 OriginationIdentity=other["pool_id"])
    response = caught.value.response
    assert (response["Error"]["Code"], response["ResourceType"], response["ResourceId"]) == (
        "ResourceNotFoundException", "pool", other["pool_id"])
    assert _code(client.send_text_message, DestinationPhoneNumber=US_SUCCESS, MessageBody="hi",
                 OriginationIdentity=other["phone_number"]) == "ResourceNotFoundException"
    assert _code(client.send_text_message, DestinationPhoneNumber=US_SUCCESS, MessageBody="hi",
                 ConfigurationSetName=other["configuration_set"]) == "ResourceNotFoundException"


def test_the_accounts_shared_number_is_refused_to_a_tenant_with_a_pool(server, two_tenants):
    first, _ = two_tenants
    key = admin_request(server, server.admin, "POST", "/admin/v1/access-keys",
                        {"scope": "account", "account_id": first["tenant"]["account_id"]})
    assert key.status_code == 201, key.text
    account = make_client(server, {**key.json(), "region": first["tenant"]["region"]}, SMS)
    shared = account.request_phone_number(IsoCountryCode="US", MessageType="TRANSACTIONAL",
                                          NumberCapabilities=["SMS"], NumberType="SIMULATOR")
    client = make_client(server, first["credentials"], SMS)
    with pytest.raises(ClientError) as caught:
        client.send_text_message(DestinationPhoneNumber=US_SUCCESS, MessageBody="hi",
                                 OriginationIdentity=shared["PhoneNumber"])
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert account.send_text_message(DestinationPhoneNumber=US_SUCCESS, MessageBody="hi",
                                     OriginationIdentity=shared["PhoneNumber"])["MessageId"]


def test_the_cli_onboards_with_an_sms_pool(server):
    tenant_id = f"cli{uuid.uuid4().hex[:8]}"
    done = server.cli("tenants", "onboard", tenant_id, "--model", "sa-sp", "--sms-pool",
                      "--sms-country", "US", "--sms-number-type", "SIMULATOR")
    result = json.loads(done.stdout)
    placed = result["tenant"]["metadata"]["pinfold:sms"]
    client = make_client(server, result["credentials"], SMS)
    assert client.send_text_message(DestinationPhoneNumber=US_SUCCESS, MessageBody="hi")["MessageId"]
    shown = json.loads(server.cli("tenants", "show", tenant_id).stdout)
    assert shown["metadata"]["pinfold:sms"]["pool_id"] == placed["pool_id"]
    refused = server.cli("tenants", "onboard", f"{tenant_id}x", "--model", "sa-mp", "--sms-pool",
                         "--sms-country", "DE", check=False)
    assert refused.returncode != 0 and "SIMULATOR" in refused.stderr


@pytest.mark.parametrize("body", [{"sms_number_type": "SHORT_CODE"}, {"sms_country": "usa"},
                                  {"sms_message_type": "MARKETING"}])
def test_the_admin_api_refuses_bad_sms_options(server, body):
    response = admin_request(server, server.admin, "POST", "/admin/v1/tenants",
                             {"tenant_id": f"t{uuid.uuid4().hex[:10]}", "model": "sa-mp", "sms_pool": True, **body})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_input"


def test_describe_calls_hide_another_tenants_pool_set_and_number(server, two_tenants):
    first, second = two_tenants
    mine, other = (tenant["tenant"]["metadata"]["pinfold:sms"] for tenant in (first, second))
    client = make_client(server, first["credentials"], SMS)
    def listed(operation: str, member: str, key: str) -> set[str]:
        pages = client.get_paginator(operation).paginate(PaginationConfig={"PageSize": 2})
        return {item[key] for page in pages for item in page[member]}
    pools = listed("describe_pools", "Pools", "PoolId")
    assert mine["pool_id"] in pools and other["pool_id"] not in pools
    numbers = listed("describe_phone_numbers", "PhoneNumbers", "PhoneNumberId")
    assert mine["phone_number_id"] in numbers and other["phone_number_id"] not in numbers
    sets = listed("describe_configuration_sets", "ConfigurationSets", "ConfigurationSetName")
    assert mine["configuration_set"] in sets and other["configuration_set"] not in sets
    for call, kwargs in ((client.describe_pools, {"PoolIds": [other["pool_id"]]}),
                         (client.describe_phone_numbers, {"PhoneNumberIds": [other["phone_number_id"]]}),
                         (client.describe_configuration_sets, {"ConfigurationSetNames": [other["configuration_set"]]}),
                         (client.list_pool_origination_identities, {"PoolId": other["pool_id"]}),
                         (client.describe_keywords, {"OriginationIdentity": other["pool_id"]})):
        assert _code(call, **kwargs) == "ResourceNotFoundException", call
    with pytest.raises(ClientError) as caught:
        client.describe_pools(PoolIds=[other["pool_id"]])
    assert (caught.value.response["ResourceType"], caught.value.response["ResourceId"]) == ("pool", other["pool_id"])


def test_offboarding_through_the_admin_api_releases_the_tenants_pool(server, two_tenants):
    first, second = two_tenants
    tenant = first["tenant"]
    placed = tenant["metadata"]["pinfold:sms"]
    key = admin_request(server, server.admin, "POST", "/admin/v1/access-keys",
                        {"scope": "account", "account_id": tenant["account_id"]})
    account = make_client(server, {**key.json(), "region": tenant["region"]}, SMS)
    response = admin_request(server, server.admin, "POST", f"/admin/v1/tenants/{tenant['tenant_id']}/offboard")
    assert response.status_code == 200, response.text
    assert response.json()["removed"]["sms"] == {"pool": placed["pool_id"], "phone_number": placed["phone_number_id"],
                                                 "configuration_set": placed["configuration_set"]}
    assert _code(account.describe_pools, PoolIds=[placed["pool_id"]]) == "ResourceNotFoundException"
    assert _code(account.describe_phone_numbers, PhoneNumberIds=[placed["phone_number_id"]]) == (
        "ResourceNotFoundException")
    assert _code(account.describe_configuration_sets, ConfigurationSetNames=[placed["configuration_set"]]) == (
        "ResourceNotFoundException")
    kept = second["tenant"]["metadata"]["pinfold:sms"]
    assert account.describe_pools(PoolIds=[kept["pool_id"]])["Pools"]
    again = admin_request(server, server.admin, "POST", f"/admin/v1/tenants/{tenant['tenant_id']}/offboard")
    assert again.status_code == 409
