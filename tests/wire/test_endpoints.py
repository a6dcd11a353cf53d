"""Endpoints and PutEvents through boto3, including the foundation's done-when script."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client


@pytest.fixture(scope="module")
def pinpoint(server):
    """The organization administrator, exactly as the README's example uses it."""
    return make_client(server, server.admin)


@pytest.fixture
def app_id(pinpoint):
    return pinpoint.create_app(CreateApplicationRequest={"Name": "endpoints"})["ApplicationResponse"]["Id"]


def _item(n: int) -> dict:
    return {"Id": f"user-{n}", "ChannelType": "EMAIL", "Address": f"user{n}@example.com",
            "Attributes": {"plan": ["gold" if n % 2 else "free"]}, "Metrics": {"visits": float(n)},
            "User": {"UserId": f"person-{n // 3}", "UserAttributes": {"name": [f"Person {n}"]}},
            "Demographic": {"Platform": "ios"}, "Location": {"Country": "US"}}


def test_ten_thousand_endpoints_in_batches_read_back(pinpoint, app_id):
    for start in range(0, 10_000, 100):
        batch = [_item(n) for n in range(start, start + 100)]
        response = pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": batch})
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
        assert response["MessageBody"]["Message"] == "Accepted"

    def read(n: int) -> dict:
        return pinpoint.get_endpoint(ApplicationId=app_id, EndpointId=f"user-{n}")["EndpointResponse"]

    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(read, range(10_000)))
    for n, endpoint in enumerate(found):
        assert endpoint["Address"] == f"user{n}@example.com" and endpoint["Metrics"] == {"visits": float(n)}
    sample = found[1234]
    assert sample["ApplicationId"] == app_id and sample["EndpointStatus"] == "ACTIVE"
    assert sample["OptOut"] == "NONE" and 0 <= int(sample["CohortId"]) < 100
    assert sample["EffectiveDate"] and sample["CreationDate"] and sample["RequestId"]


def test_update_merges_and_keeps_creation_date(pinpoint, app_id):
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="e1", EndpointRequest={
        "ChannelType": "SMS", "Address": "+15550100", "Attributes": {"a": ["1"], "b": ["2"]},
        "Demographic": {"Platform": "android", "Make": "acme"}})
    first = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="e1")["EndpointResponse"]
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="e1", EndpointRequest={
        "Attributes": {"b": ["3"]}, "Demographic": {"Platform": "ios"}, "OptOut": "ALL"})
    second = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="e1")["EndpointResponse"]
    assert second["Attributes"] == {"a": ["1"], "b": ["3"]}
    assert second["Demographic"] == {"Platform": "ios", "Make": "acme"}
    assert second["OptOut"] == "ALL" and second["CreationDate"] == first["CreationDate"]


def test_user_endpoints_and_delete(pinpoint, app_id):
    items = [{"Id": f"d{n}", "ChannelType": "EMAIL", "Address": f"d{n}@example.com", "User": {"UserId": "dana"}}
             for n in range(3)]
    pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    listed = pinpoint.get_user_endpoints(ApplicationId=app_id, UserId="dana")["EndpointsResponse"]["Item"]
    assert sorted(e["Id"] for e in listed) == ["d0", "d1", "d2"]
    deleted = pinpoint.delete_endpoint(ApplicationId=app_id, EndpointId="d0")
    assert deleted["EndpointResponse"]["Id"] == "d0" and deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    removed = pinpoint.delete_user_endpoints(ApplicationId=app_id, UserId="dana")["EndpointsResponse"]["Item"]
    assert sorted(e["Id"] for e in removed) == ["d1", "d2"]
    with pytest.raises(ClientError) as caught:
        pinpoint.get_user_endpoints(ApplicationId=app_id, UserId="dana")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"


def test_remove_attributes_from_every_endpoint(pinpoint, app_id):
    items = [{"Id": f"r{n}", "Attributes": {"keep": ["k"], "drop": ["d"]}, "Metrics": {"m": 1.0}} for n in range(3)]
    pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    result = pinpoint.remove_attributes(ApplicationId=app_id, AttributeType="endpoint-custom-attributes",
                                        UpdateAttributesRequest={"Blacklist": ["drop"]})["AttributesResource"]
    assert result == {"ApplicationId": app_id, "AttributeType": "endpoint-custom-attributes", "Attributes": ["drop"]}
    for n in range(3):
        endpoint = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId=f"r{n}")["EndpointResponse"]
        assert endpoint["Attributes"] == {"keep": ["k"]} and endpoint["Metrics"] == {"m": 1.0}


def test_put_events_applies_endpoints_and_reports_per_item(pinpoint, app_id):
    event = {"EventType": "_session.start", "Timestamp": "2026-11-26T10:00:00Z",
             "Session": {"Id": "s1", "StartTimestamp": "2026-11-26T10:00:00Z"}, "Attributes": {"screen": "home"}}
    response = pinpoint.put_events(ApplicationId=app_id, EventsRequest={"BatchItem": {
        "ev-1": {"Endpoint": {"ChannelType": "APNS", "Address": "token-1", "Demographic": {"Platform": "ios"}},
                 "Events": {"a": event, "b": {**event, "Timestamp": "yesterday"}}},
    }})["EventsResponse"]["Results"]["ev-1"]
    assert response["EndpointItemResponse"] == {"Message": "Accepted", "StatusCode": 202}
    assert response["EventsItemResponse"]["a"]["StatusCode"] == 202
    assert response["EventsItemResponse"]["b"]["StatusCode"] == 400
    assert "Timestamp" in response["EventsItemResponse"]["b"]["Message"]
    assert pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="ev-1")["EndpointResponse"]["Address"] == "token-1"


@pytest.mark.parametrize("request_body, limit", [
    ({"Item": [{"Id": f"x{n}"} for n in range(101)]}, "at most 100"),
    ({"Item": [{"Id": "x", "Attributes": {f"a{n}": ["v"] for n in range(251)}}]}, "at most 250 custom attributes"),
    ({"Item": [{"Id": "x", "Attributes": {"a" * 51: ["v"]}}]}, "name length"),
    ({"Item": [{"Id": "x", "Attributes": {"a": ["v" * 101]}}]}, "value length"),
    ({"Item": [{"Id": "x", "Attributes": {"a": ["v"] * 51}}]}, "values limit"),
])
def test_limits_answer_bad_request_naming_the_limit(pinpoint, app_id, request_body, limit):
    with pytest.raises(ClientError) as caught:
        pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest=request_body)
    assert caught.value.response["Error"]["Code"] == "BadRequestException"
    assert limit in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="x")


def test_address_conflict_names_the_holder(pinpoint, app_id):
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="holder",
                             EndpointRequest={"ChannelType": "EMAIL", "Address": "taken@example.com"})
    with pytest.raises(ClientError) as caught:
        pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="other",
                                 EndpointRequest={"ChannelType": "EMAIL", "Address": "taken@example.com"})
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    assert "endpoint 'holder'" in caught.value.response["Error"]["Message"]


def test_put_events_over_100_events(pinpoint, app_id):
    event = {"EventType": "x", "Timestamp": "2026-11-26T10:00:00Z"}
    with pytest.raises(ClientError, match="at most 100"):
        pinpoint.put_events(ApplicationId=app_id, EventsRequest={"BatchItem": {
            "e": {"Endpoint": {}, "Events": {str(n): event for n in range(101)}}}})
