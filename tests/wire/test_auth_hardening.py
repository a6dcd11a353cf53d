"""Forged and off-scope SigV4 requests against a real server: each is a 4xx in the AWS shape and changes nothing."""

from __future__ import annotations

import hashlib
import http.client
import json
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import make_client, signed_request


def _error(call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def _raw(server, creds: dict, method: str, path: str, *, body: bytes = b"", service: str = "mobiletargeting",
         headers: dict | None = None, token: str | None = None) -> tuple[int, dict, dict]:
    """Sign with botocore for exactly `path`, then send that path byte for byte (http.client keeps dots)."""
    request = AWSRequest(method=method, url=f"{server.url}{path}", data=body,
                         headers={"Content-Type": "application/json", **(headers or {})})
    SigV4Auth(Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"], token), service,
              creds["region"]).add_auth(request)
    split = urlsplit(server.url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=dict(request.headers.items()))
        response = connection.getresponse()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(payload or b"{}")
    finally:
        connection.close()


def _app_names(server) -> set[str]:
    apps = make_client(server, server.admin).get_apps(PageSize="1000")["ApplicationsResponse"]["Item"]
    return {app["Name"] for app in apps}


def test_a_region_the_installation_does_not_serve_is_refused_and_creates_nothing(server):
    name = f"fake-{uuid.uuid4().hex[:8]}"
    pinpoint = make_client(server, server.admin, region="xx-fake-1")
    code, status, message = _error(lambda: pinpoint.create_app(CreateApplicationRequest={"Name": name}))
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message == "Credential should be scoped to a valid region, not 'xx-fake-1'."
    assert name not in _app_names(server)
    ses = make_client(server, server.admin, "sesv2", region="xx-fake-1")
    address = f"{name}@example.com"
    assert _error(lambda: ses.create_email_identity(EmailIdentity=address))[:2] == ("InvalidSignatureException", 403)
    assert _error(lambda: ses.get_account())[:2] == ("InvalidSignatureException", 403)
    home = make_client(server, server.admin, "sesv2")
    assert _error(lambda: home.get_email_identity(EmailIdentity=address))[0] == "NotFoundException"


def test_the_admin_api_refuses_another_region_and_a_session_token(server):
    response = signed_request(server, {**server.admin, "region": "xx-fake-1"}, "pinfold", "GET", "/admin/v1/accounts")
    assert response.status_code == 403 and response.json()["error"]["code"] == "auth_failure"
    assert "valid region" in response.json()["error"]["message"]
    status, _, body = _raw(server, server.admin, "GET", "/admin/v1/accounts", service="pinfold", token="FwoG")
    assert status == 403 and body["error"]["message"] == "The security token included in the request is invalid."


def test_a_service_name_pinfold_does_not_serve_is_a_4xx_in_the_aws_shape(server):
    status, headers, body = _raw(server, server.admin, "GET", "/v1/apps", service="s3")
    assert (status, headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")
    assert body["message"] == "Credential should be scoped to correct service: 'mobiletargeting'."
    status, headers, body = _raw(server, server.admin, "POST", "/", service="dynamodb", body=b"{}")
    assert (status, headers["x-amzn-errortype"]) == (404, "UnknownOperationException")
    assert "Pinfold does not serve" in body["message"]


def test_an_unsigned_get_of_the_root_is_403_missing_authentication_token(server):
    response = httpx.get(f"{server.url}/")
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert response.json()["message"] == "Missing Authentication Token"


@pytest.mark.parametrize("declared", ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                                      hashlib.sha256(b"something else").hexdigest()])
def test_the_body_must_be_covered_by_the_signature(server, declared):
    name = f"unsigned-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"Name": name}).encode()
    status, headers, answer = _raw(server, server.admin, "POST", "/v1/apps", body=body,
                                   headers={"X-Amz-Content-SHA256": declared})
    assert (status, headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")
    assert "x-amz-content-sha256" in answer["message"]
    assert name not in _app_names(server)


@pytest.mark.parametrize("path", ["/v1/apps/../apps", "/v1/apps/%2e%2e/apps", "/v1//apps",
                                  "/admin/v1/tenants/..", "/admin/v1/tenants/."])
def test_paths_that_differ_from_the_signed_canonical_path_are_refused(server, path):
    service = "pinfold" if path.startswith("/admin/") else "mobiletargeting"
    status, _, body = _raw(server, server.admin, "GET", path, service=service)
    assert status == 403, body
    assert "must be canonical" in json.dumps(body)


@pytest.mark.parametrize("path", ["/admin/v1%2Faccounts", "/%61dmin/v1/accounts", "/admin/v1/%61ccounts"])
def test_an_encoded_admin_path_cannot_reach_a_route_other_than_the_signed_one(server, path):
    status, _, body = _raw(server, server.admin, "GET", path, service="pinfold")
    assert status == 403 and "percent-encoded" in body["error"]["message"]


def test_a_session_token_pinfold_did_not_issue_is_refused(server):
    import boto3
    from botocore.config import Config

    client = boto3.client("pinpoint", endpoint_url=server.url, region_name=server.admin["region"],
                          aws_access_key_id=server.admin["aws_access_key_id"],
                          aws_secret_access_key=server.admin["aws_secret_access_key"],
                          aws_session_token="FwoGZXIvYXdzEXAMPLE", config=Config(retries={"max_attempts": 1}))
    code, status, message = _error(client.get_apps)
    assert (code, status) == ("UnrecognizedClientException", 403)
    assert message == "The security token included in the request is invalid."


def test_the_admin_api_needs_a_signed_body_too(server):
    body = json.dumps({"tenant_id": f"u{uuid.uuid4().hex[:8]}", "model": "ma-mp"}).encode()
    status, _, answer = _raw(server, server.admin, "POST", "/admin/v1/tenants", body=body, service="pinfold",
                             headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert status == 403 and "signed payload" in answer["error"]["message"]
    tenant_id = json.loads(body)["tenant_id"]
    assert signed_request(server, server.admin, "pinfold", "GET", f"/admin/v1/tenants/{tenant_id}").status_code == 404
