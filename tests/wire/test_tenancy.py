"""One tenant per model, each with its own credentials, shows exact isolation through boto3."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import admin_request, make_client, onboard


def _code(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def tenants(server):
    placed = {model: [onboard(server, model), onboard(server, model)] for model in ("sa-sp", "sa-mp", "ma-mp")}
    return {model: [(t, make_client(server, t["credentials"])) for t in pair] for model, pair in placed.items()}


def _seed(client, project_id: str, prefix: str) -> None:
    client.update_endpoints_batch(ApplicationId=project_id, EndpointBatchRequest={"Item": [
        {"Id": f"{prefix}-{n}", "ChannelType": "EMAIL", "Address": f"{prefix}{n}@example.com",
         "User": {"UserId": "shared-user"}, "Attributes": {"color": ["blue"]}} for n in range(3)]})


def test_sa_sp_tenants_share_a_project_but_not_endpoints(tenants):
    (a, a_client), (b, b_client) = tenants["sa-sp"]
    project = a["tenant"]["project_id"]
    assert b["tenant"]["project_id"] == project
    _seed(a_client, project, "a")
    _seed(b_client, project, "b")
    mine = a_client.get_endpoint(ApplicationId=project, EndpointId="a-0")["EndpointResponse"]
    assert mine["Attributes"]["TenantId"] == [a["tenant"]["tenant_id"]]  # stamped by the server
    assert _code(lambda: b_client.get_endpoint(ApplicationId=project, EndpointId="a-0")) == "NotFoundException"
    assert _code(lambda: b_client.delete_endpoint(ApplicationId=project, EndpointId="a-0")) == "NotFoundException"
    users = b_client.get_user_endpoints(ApplicationId=project, UserId="shared-user")["EndpointsResponse"]["Item"]
    assert sorted(e["Id"] for e in users) == ["b-0", "b-1", "b-2"]
    b_client.delete_user_endpoints(ApplicationId=project, UserId="shared-user")
    b_client.remove_attributes(ApplicationId=project, AttributeType="endpoint-custom-attributes",
                               UpdateAttributesRequest={"Blacklist": ["color"]})
    survivors = a_client.get_user_endpoints(ApplicationId=project, UserId="shared-user")["EndpointsResponse"]["Item"]
    assert sorted(e["Id"] for e in survivors) == ["a-0", "a-1", "a-2"]
    assert all(e["Attributes"]["color"] == ["blue"] for e in survivors)
    # Claiming another tenant's attribute value is refused, with no hint of who holds it.
    spoof = {"Attributes": {"TenantId": [a["tenant"]["tenant_id"]]}}
    assert _code(lambda: b_client.update_endpoint(ApplicationId=project, EndpointId="b-x",
                                                  EndpointRequest=spoof)) == "BadRequestException"
    assert _code(lambda: b_client.update_endpoint(ApplicationId=project, EndpointId="a-0",
                                                  EndpointRequest={"OptOut": "ALL"})) == "ConflictException"
    assert a_client.get_endpoint(ApplicationId=project, EndpointId="a-0")["EndpointResponse"]["OptOut"] == "NONE"


@pytest.mark.parametrize("model", ["sa-mp", "ma-mp"])
def test_project_and_account_tenants_reach_only_their_own(tenants, model):
    (a, a_client), (b, b_client) = tenants[model]
    a_project, b_project = a["tenant"]["project_id"], b["tenant"]["project_id"]
    _seed(a_client, a_project, "a")
    assert _code(lambda: b_client.get_app(ApplicationId=a_project)) == "NotFoundException"
    assert _code(lambda: b_client.get_endpoint(ApplicationId=a_project, EndpointId="a-0")) == "NotFoundException"
    assert _code(lambda: b_client.update_endpoint(ApplicationId=a_project, EndpointId="z",
                                                  EndpointRequest={})) == "NotFoundException"
    listed = [app["Id"] for app in b_client.get_apps()["ApplicationsResponse"]["Item"]]
    assert b_project in listed and a_project not in listed
    if model == "sa-mp":
        assert a["tenant"]["account_id"] == b["tenant"]["account_id"]
        assert _code(lambda: b_client.create_app(CreateApplicationRequest={"Name": "x"})) == "ForbiddenException"
    else:
        assert a["tenant"]["account_id"] != b["tenant"]["account_id"]
        extra = b_client.create_app(CreateApplicationRequest={"Name": "x"})["ApplicationResponse"]
        assert extra["Arn"].split(":")[4] == b["tenant"]["account_id"]


def test_suspend_resume_offboard_through_the_admin_api(server):
    tenant = onboard(server, "sa-mp")
    tenant_id, client = tenant["tenant"]["tenant_id"], make_client(server, tenant["credentials"])
    project = tenant["tenant"]["project_id"]
    assert admin_request(server, server.admin, "POST", f"/admin/v1/tenants/{tenant_id}/suspend").status_code == 200
    with pytest.raises(ClientError) as caught:
        client.get_app(ApplicationId=project)
    assert caught.value.response["Error"]["Code"] == "ForbiddenException"
    assert "suspended" in caught.value.response["Error"]["Message"]
    assert admin_request(server, server.admin, "POST", f"/admin/v1/tenants/{tenant_id}/resume").status_code == 200
    assert client.get_app(ApplicationId=project)["ApplicationResponse"]["Id"] == project
    offboarded = admin_request(server, server.admin, "POST", f"/admin/v1/tenants/{tenant_id}/offboard").json()
    assert offboarded["tenant"]["status"] == "offboarded" and offboarded["removed"]["projects"] == [project]
    assert _code(lambda: client.get_apps()) == "UnrecognizedClientException"
    shown = admin_request(server, server.admin, "GET", f"/admin/v1/tenants/{tenant_id}").json()
    assert shown["status"] == "offboarded"


def test_admin_api_needs_organization_credentials_and_serves_openapi(server):
    tenant = onboard(server, "ma-mp")
    refused = admin_request(server, tenant["credentials"], "GET", "/admin/v1/tenants")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    listed = admin_request(server, server.admin, "GET", "/admin/v1/tenants?model=ma-mp").json()
    assert tenant["tenant"]["tenant_id"] in {t["tenant_id"] for t in listed}
    document = admin_request(server, server.admin, "GET", "/admin/openapi.json").json()
    assert "/admin/v1/tenants" in document["paths"] and "/admin/v1/tenants/{tenant_id}/offboard" in document["paths"]
