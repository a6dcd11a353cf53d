"""The front door: SigV4 refusals as AWS words them, validation, unimplemented operations, no HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, signed_request


def _error(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return {**caught.value.response["Error"], "Status": caught.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def test_unknown_access_key(server):
    client = make_client(server, {**server.admin, "aws_access_key_id": "AKIAUNKNOWNUNKNOWN00"})
    error = _error(client.get_apps)
    assert (error["Code"], error["Status"]) == ("UnrecognizedClientException", 403)
    assert error["Message"] == "The security token included in the request is invalid."


def test_wrong_secret(server):
    client = make_client(server, {**server.admin, "aws_secret_access_key": "x" * 40})
    error = _error(client.get_apps)
    assert (error["Code"], error["Status"]) == ("InvalidSignatureException", 403)
    assert error["Message"].startswith("The request signature we calculated does not match")


@pytest.mark.parametrize("skew", [timedelta(minutes=16), -timedelta(minutes=16)])
def test_clock_skew_over_15_minutes(server, skew):
    client = make_client(server, server.admin)
    skewed = datetime.now(UTC).replace(tzinfo=None) + skew
    with mock.patch("botocore.auth.get_current_datetime", return_value=skewed):
        error = _error(client.get_apps)
    assert (error["Code"], error["Status"]) == ("InvalidSignatureException", 403)
    assert "Signature expired" in error["Message"] or "Signature not yet current" in error["Message"]


def test_clock_skew_under_15_minutes_is_fine(server):
    client = make_client(server, server.admin)
    skewed = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=14)
    with mock.patch("botocore.auth.get_current_datetime", return_value=skewed):
        assert "ApplicationsResponse" in client.get_apps()


def test_unsigned_request_gets_json_not_html(server):
    response = httpx.get(f"{server.url}/v1/apps")
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert response.json()["message"] == "Missing Authentication Token"


def test_unknown_path_is_an_aws_shaped_error(server):
    response = signed_request(server, server.admin, "mobiletargeting", "GET", "/v1/no/such/resource")
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"
    assert response.headers["x-amzn-errortype"] == "NotFoundException" and response.json()["message"]


@pytest.mark.parametrize("service, call", [
    ("pinpoint", lambda c: c.create_journey(ApplicationId="a" * 32, WriteJourneyRequest={"Name": "j"})),
    ("sesv2", lambda c: c.get_deliverability_dashboard_options()),
    ("pinpoint-sms-voice-v2", lambda c: c.describe_registrations()),
])
def test_unimplemented_operations_are_named(server, service, call):
    error = _error(lambda: call(make_client(server, server.admin, service)))
    assert (error["Code"], error["Status"]) == ("NotImplementedException", 501)
    assert "Pinfold does not implement" in error["Message"]


def test_validation_names_the_field(server):
    client = make_client(server, server.admin)
    app_id = client.create_app(CreateApplicationRequest={"Name": "v"})["ApplicationResponse"]["Id"]
    error = _error(lambda: client.update_endpoint(ApplicationId=app_id, EndpointId="e",
                                                  EndpointRequest={"ChannelType": "FAX"}))
    assert (error["Code"], error["Status"]) == ("BadRequestException", 400)
    assert "ChannelType" in error["Message"] and "FAX" in error["Message"]


def test_credentials_for_another_service_name_are_not_admin_credentials(server):
    response = signed_request(server, server.admin, "mobiletargeting", "GET", "/admin/v1/tenants")
    assert response.status_code == 403 and response.json()["error"]["code"] == "auth_failure"


def test_payload_over_7_mb_is_refused_before_anything_is_written(server):
    client = make_client(server, server.admin)
    app_id = client.create_app(CreateApplicationRequest={"Name": "big"})["ApplicationResponse"]["Id"]
    huge = [{"Id": f"big-{n}", "Attributes": {"blob": ["x" * 100] * 800}} for n in range(100)]  # ~8 MB
    error = _error(lambda: client.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": huge}))
    assert (error["Code"], error["Status"]) == ("PayloadTooLargeException", 413)
    assert _error(lambda: client.get_endpoint(ApplicationId=app_id, EndpointId="big-1"))["Code"] == "NotFoundException"
