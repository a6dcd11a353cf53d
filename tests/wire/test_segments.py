"""Segments through boto3 and the CLI against a real server."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard

DIMENSIONS = {
    "Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}},
    "Demographic": {"Platform": {"DimensionType": "INCLUSIVE", "Values": ["ios"]}},
    "Location": {"Country": {"DimensionType": "INCLUSIVE", "Values": ["FR"]}},
    "Behavior": {"Recency": {"Duration": "DAY_7", "RecencyType": "ACTIVE"}},
    "Metrics": {"visits": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": 2.0}},
    "UserAttributes": {"since": {"AttributeType": "AFTER", "Values": ["2020-01-01T00:00:00Z"]}},
}


@pytest.fixture(scope="module")
def tenant(server):
    return onboard(server, "sa-mp")


@pytest.fixture(scope="module")
def pinpoint(server, tenant):
    return make_client(server, tenant["credentials"])


def _seed(pinpoint, project: str) -> None:
    def person(n: int, plan: str, platform: str) -> dict:
        return {"Id": f"p{n}", "ChannelType": "EMAIL", "Address": f"p{n}@example.com",
                "Attributes": {"plan": [plan]}, "Metrics": {"visits": float(n)},
                "Demographic": {"Platform": platform}, "Location": {"Country": "FR"},
                "User": {"UserId": f"u{n}", "UserAttributes": {"since": ["2024-05-01T00:00:00Z"]}}}
    items = [person(1, "gold", "ios"), person(2, "gold", "ios"), person(3, "gold", "android"), person(4, "free", "ios")]
    pinpoint.update_endpoints_batch(ApplicationId=project, EndpointBatchRequest={"Item": items})


def test_segment_lifecycle_through_boto3(server, pinpoint, tenant):
    project = tenant["tenant"]["project_id"]
    _seed(pinpoint, project)
    created = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={
        "Name": "gold iOS in France", "Dimensions": DIMENSIONS, "tags": {"team": "growth"}})["SegmentResponse"]
    assert created["Version"] == 1 and created["SegmentType"] == "DIMENSIONAL" and created["tags"] == {"team": "growth"}
    assert created["Arn"].endswith(f"apps/{project}/segments/{created['Id']}")
    assert created["Dimensions"] == DIMENSIONS
    updated = pinpoint.update_segment(ApplicationId=project, SegmentId=created["Id"], WriteSegmentRequest={
        "Name": "gold in France", "Dimensions": {**DIMENSIONS, "Demographic": {}}})["SegmentResponse"]
    assert updated["Version"] == 2
    old = pinpoint.get_segment_version(ApplicationId=project, SegmentId=created["Id"], Version="1")["SegmentResponse"]
    assert old["Name"] == "gold iOS in France"
    versions = pinpoint.get_segment_versions(ApplicationId=project, SegmentId=created["Id"])["SegmentsResponse"]
    assert [v["Version"] for v in versions["Item"]] == [1, 2]
    listed = pinpoint.get_segments(ApplicationId=project)["SegmentsResponse"]["Item"]
    assert [s["Id"] for s in listed] == [created["Id"]]
    size = server.cli("segments", "size", project, created["Id"], "--version", "1", "--json")
    assert json.loads(size.stdout) == {"size": 1}  # p2 only: p1 has 1 visit
    preview = json.loads(server.cli("segments", "preview", project, created["Id"], "--json").stdout)
    assert [e["Id"] for e in preview] == ["p2", "p3"]
    pinpoint.tag_resource(ResourceArn=created["Arn"], TagsModel={"tags": {"owner": "ana"}})
    assert pinpoint.list_tags_for_resource(ResourceArn=created["Arn"])["TagsModel"]["tags"] == {
        "team": "growth", "owner": "ana"}
    assert pinpoint.delete_segment(ApplicationId=project, SegmentId=created["Id"])["SegmentResponse"]["Version"] == 2
    with pytest.raises(ClientError) as caught:
        pinpoint.get_segment(ApplicationId=project, SegmentId=created["Id"])
    assert caught.value.response["Error"]["Code"] == "NotFoundException"


def test_bad_segment_definitions_name_the_field(pinpoint, tenant):
    project = tenant["tenant"]["project_id"]
    with pytest.raises(ClientError) as caught:
        pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={"Name": "x", "Dimensions": {
            "Attributes": {"joined": {"AttributeType": "BEFORE", "Values": ["last tuesday"]}}}})
    assert caught.value.response["Error"]["Code"] == "BadRequestException"
    assert "joined" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        pinpoint.get_segment_version(ApplicationId=project, SegmentId="0" * 32, Version="one")
    assert caught.value.response["Error"]["Code"] == "BadRequestException"
    assert "Version" in caught.value.response["Error"]["Message"]


@pytest.mark.parametrize("model", ["sa-sp", "sa-mp", "ma-mp"])
def test_a_tenants_segments_are_invisible_to_another_tenant(server, model):
    a, b = onboard(server, model), onboard(server, model)
    a_client, b_client = make_client(server, a["credentials"]), make_client(server, b["credentials"])
    a_project, b_project = a["tenant"]["project_id"], b["tenant"]["project_id"]
    made = a_client.create_segment(ApplicationId=a_project, WriteSegmentRequest={"Name": "mine"})["SegmentResponse"]
    for project in {a_project, b_project}:
        with pytest.raises(ClientError) as caught:
            b_client.get_segment(ApplicationId=project, SegmentId=made["Id"])
        assert caught.value.response["Error"]["Code"] == "NotFoundException"
        with pytest.raises(ClientError) as caught:
            b_client.update_segment(ApplicationId=project, SegmentId=made["Id"], WriteSegmentRequest={"Name": "x"})
        assert caught.value.response["Error"]["Code"] == "NotFoundException"
        with pytest.raises(ClientError) as caught:
            b_client.delete_segment(ApplicationId=project, SegmentId=made["Id"])
        assert caught.value.response["Error"]["Code"] == "NotFoundException"
        with pytest.raises(ClientError) as caught:
            b_client.list_tags_for_resource(ResourceArn=made["Arn"])
        assert caught.value.response["Error"]["Code"] == "NotFoundException"
    listed = b_client.get_segments(ApplicationId=b_project)["SegmentsResponse"]["Item"]
    assert made["Id"] not in {s["Id"] for s in listed}
    assert a_client.get_segment(ApplicationId=a_project, SegmentId=made["Id"])["SegmentResponse"]["Name"] == "mine"


def test_segment_groups_with_sources_and_a_gps_point_round_trip(pinpoint, tenant):
    project = tenant["tenant"]["project_id"]
    base = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={
        "Name": "gold", "Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}},
    })["SegmentResponse"]
    groups = {"Include": "ANY", "Groups": [
        {"Type": "ALL", "SourceType": "ANY", "SourceSegments": [{"Id": base["Id"], "Version": 1}],
         "Dimensions": [{"Location": {"GPSPoint": {"Coordinates": {"Latitude": 48.8566, "Longitude": 2.3522},
                                                   "RangeInKilometers": 50.0}}}]},
        {"Type": "NONE", "Dimensions": [{"Demographic": {"Channel": {"DimensionType": "INCLUSIVE",
                                                                     "Values": ["SMS"]}}}]},
    ]}
    made = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={
        "Name": "near Paris or not SMS", "SegmentGroups": groups})["SegmentResponse"]
    assert made["SegmentGroups"] == groups and made["SegmentType"] == "DIMENSIONAL"
    again = pinpoint.get_segment_version(ApplicationId=project, SegmentId=made["Id"], Version="1")
    assert again["SegmentResponse"]["SegmentGroups"] == groups
