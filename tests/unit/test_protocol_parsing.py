"""Parsing botocore-serialized requests back into the caller's params, and validating them."""

from __future__ import annotations

import base64
import datetime
from urllib.parse import urlsplit

import orjson
import pytest
from botocore.awsrequest import prepare_request_dict
from botocore.model import ServiceModel
from botocore.serialize import create_serializer
from hypothesis import given, settings
from hypothesis import strategies as st

from pinfold.api.protocol import Router, ServiceSpec, load_services, parse_query, parse_request
from pinfold.core.errors import InvalidInput

SERVICES = load_services()
PINPOINT, SESV2, SMS = SERVICES["mobiletargeting"], SERVICES["ses"], SERVICES["sms-voice"]
UTC = datetime.UTC


def round_trip(spec, op_name: str, params: dict) -> dict:
    """Serialize `params` exactly as botocore does, then route and parse the wire request."""
    op = spec.model.operation_model(op_name)
    request = create_serializer(spec.protocol).serialize_to_request(params, op)
    prepare_request_dict(request, "https://example.com")
    url = urlsplit(request["url"])
    query = parse_query(url.query)
    found, labels = spec.router.match(
        request["method"], url.path, query, request["headers"].get("X-Amz-Target")
    )
    assert found.name == op_name
    return parse_request(spec, found, labels, query, request["headers"], request["body"])


def endpoint_item(i: int, channel: str = "SMS") -> dict:
    return {
        "Address": f"+1206555{i:04d}",
        "ChannelType": channel,
        "Id": f"endpoint-{i}",
        "Attributes": {"Interests": ["music", "books"]},
        "Metrics": {"score": 1.5},
        "User": {"UserId": f"user-{i}", "UserAttributes": {"Tier": ["gold"]}},
        "OptOut": "NONE",
    }


ROUND_TRIPS = [
    (
        PINPOINT,
        "CreateApp",
        {"CreateApplicationRequest": {"Name": "shop", "tags": {"team": "growth"}}},
    ),
    (PINPOINT, "GetApps", {"PageSize": "25", "Token": "next page"}),
    (
        PINPOINT,
        "UpdateEndpointsBatch",
        {
            "ApplicationId": "app-1",
            "EndpointBatchRequest": {"Item": [endpoint_item(i) for i in range(20)]},
        },
    ),
    (
        PINPOINT,
        "RemoveAttributes",
        {
            "ApplicationId": "app-1",
            "AttributeType": "endpoint-custom-attributes",
            "UpdateAttributesRequest": {"Blacklist": ["a", "b"]},
        },
    ),
    (
        PINPOINT,
        "UntagResource",
        {
            "ResourceArn": "arn:aws:mobiletargeting:us-east-1:123456789012:apps/app-1",
            "TagKeys": ["team", "cost center", "a&b=c"],
        },
    ),
    (
        PINPOINT,
        "TagResource",
        {
            "ResourceArn": "arn:aws:mobiletargeting:us-east-1:123456789012:apps/app-1",
            "TagsModel": {"tags": {"k": "v w"}},
        },
    ),
    (
        PINPOINT,
        "GetApplicationDateRangeKpi",
        {
            "ApplicationId": "app-1",
            "KpiName": "successful-delivery-rate",
            "StartTime": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "EndTime": datetime.datetime(2024, 2, 2, 3, 4, 5, 250000, tzinfo=UTC),
            "PageSize": "10",
        },
    ),
    (
        SESV2,
        "SendEmail",
        {
            "FromEmailAddress": "sender@example.com",
            "Destination": {"ToAddresses": ["a@example.com", "b@example.com"]},
            "Content": {"Raw": {"Data": b"From: x\r\nSubject: hi\r\n\r\nbody \xff"}},
            "EmailTags": [{"Name": "campaign", "Value": "spring"}],
        },
    ),
    (
        SESV2,
        "ListSuppressedDestinations",
        {
            "Reasons": ["BOUNCE", "COMPLAINT"],
            "StartDate": datetime.datetime(2024, 1, 1, tzinfo=UTC),
            "EndDate": datetime.datetime(2024, 3, 1, 12, 30, tzinfo=UTC),
            "PageSize": 50,
        },
    ),
    (
        SESV2,
        "ListContacts",
        {"ContactListName": "news letter", "PageSize": 10, "Filter": {"FilteredStatus": "OPT_IN"}},
    ),
    (
        SMS,
        "SendTextMessage",
        {
            "DestinationPhoneNumber": "+12065550100",
            "MessageBody": "Your code is 1234",
            "MessageType": "TRANSACTIONAL",
            "TimeToLive": 300,
            "Context": {"order": "42"},
            "DryRun": False,
        },
    ),
    (
        SMS,
        "DescribePhoneNumbers",
        {"MaxResults": 5, "Filters": [{"Name": "status", "Values": ["ACTIVE"]}]},
    ),
]


@pytest.mark.parametrize(
    ("spec", "op_name", "params"), ROUND_TRIPS, ids=[f"{s.name}:{o}" for s, o, _ in ROUND_TRIPS]
)
def test_parse_returns_exactly_what_the_boto3_caller_passed(spec, op_name, params):
    assert round_trip(spec, op_name, params) == params


# NUL is the one character refused everywhere (test_nul_is_refused_in_every_place_a_string_can_be).
_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


@settings(max_examples=50, deadline=None)
@given(
    arn=st.text(_TEXT, min_size=1, max_size=40),
    keys=st.lists(st.text(_TEXT, min_size=1, max_size=10), min_size=1, max_size=4),
)
def test_labels_and_repeated_query_values_survive_any_text(arn, keys):
    params = {"ResourceArn": arn, "TagKeys": keys}
    assert round_trip(PINPOINT, "UntagResource", params) == params


@pytest.mark.parametrize(("spec", "op_name", "params", "field"), [
    (PINPOINT, "UntagResource", {"ResourceArn": "arn\x00", "TagKeys": ["k"]}, "ResourceArn"),
    (PINPOINT, "UntagResource", {"ResourceArn": "arn", "TagKeys": ["k", "\x00"]}, "TagKeys[1]"),
    (PINPOINT, "TagResource", {"ResourceArn": "arn", "TagsModel": {"tags": {"k\x00": "v"}}}, "TagsModel.tags.k\x00"),
    (PINPOINT, "TagResource", {"ResourceArn": "arn", "TagsModel": {"tags": {"k": "\x00"}}}, "TagsModel.tags.k"),
    (SMS, "SendTextMessage", {"DestinationPhoneNumber": "+12065550100", "MessageType": "\x00"}, "MessageType"),
])
def test_nul_is_refused_in_every_place_a_string_can_be(spec, op_name, params, field):
    with pytest.raises(InvalidInput) as caught:
        round_trip(spec, op_name, params)
    assert caught.value.field == field
    assert caught.value.message == f"{field} must not contain the NUL character"


def parse(spec, op_name: str, body: bytes = b"", *, labels=None, query=None, headers=None) -> dict:
    op = spec.model.operation_model(op_name)
    return parse_request(spec, op, labels or {}, query or {}, headers or {}, body)


def invalid(spec, op_name: str, body: bytes = b"", **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse(spec, op_name, body, **kwargs)
    return caught.value


SEND_TEXT = '{"DestinationPhoneNumber": "+12065550100", %s}'


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            '{"MessageBody": "hi"}',
            "DestinationPhoneNumber",
            "Missing required parameter: DestinationPhoneNumber",
        ),
        (
            SEND_TEXT % '"MessageType": "LOUD"',
            "MessageType",
            "Invalid value for MessageType: 'LOUD'; must be one of TRANSACTIONAL, PROMOTIONAL",
        ),
        (
            '{"DestinationPhoneNumber": "+1206555010012345678901"}',
            "DestinationPhoneNumber",
            "DestinationPhoneNumber must be at most 20 characters",
        ),
        (SEND_TEXT % '"MaxPrice": "1"', "MaxPrice", "MaxPrice must be at least 2 characters"),
        (
            '{"DestinationPhoneNumber": "call me"}',
            "DestinationPhoneNumber",
            r"DestinationPhoneNumber must match the pattern \+?[1-9][0-9]{1,18}",
        ),
        (SEND_TEXT % '"TimeToLive": 4', "TimeToLive", "TimeToLive must be at least 5"),
        (SEND_TEXT % '"TimeToLive": 259201', "TimeToLive", "TimeToLive must be at most 259200"),
        (SEND_TEXT % '"TimeToLive": 7.5', "TimeToLive", "TimeToLive must be an integer"),
        (SEND_TEXT % '"TimeToLive": "300"', "TimeToLive", "TimeToLive must be an integer"),
        (SEND_TEXT % '"DryRun": "true"', "DryRun", "DryRun must be a boolean"),
        (SEND_TEXT % '"MessageBody": 12', "MessageBody", "MessageBody must be a string"),
        (SEND_TEXT % '"Context": ["a"]', "Context", "Context must be an object"),
        (SEND_TEXT % '"Context": {"a": 1}', "Context.a", "Context.a must be a string"),
        (
            SEND_TEXT % '"Context": {"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1"}',
            "Context",
            "Context must be at most 5 entries",
        ),
    ],
)
def test_each_validation_rule_names_the_field(body, field, message):
    error = invalid(SMS, "SendTextMessage", body.encode())
    assert (error.field, error.message) == (field, message)


def test_list_counts_and_nested_paths():
    error = invalid(SMS, "DescribePhoneNumbers", b'{"PhoneNumberIds": ["a","b","c","d","e","f"]}')
    assert (error.field, error.message) == (
        "PhoneNumberIds",
        "PhoneNumberIds must be at most 5 items",
    )
    error = invalid(
        SMS,
        "DescribePhoneNumbers",
        b'{"Filters": [{"Name": "status", "Values": ["x"]}, {"Values": ["x"]}]}',
    )
    assert error.message == "Missing required parameter: Filters[1].Name"
    error = invalid(SMS, "DescribePhoneNumbers", b'{"Filters": {"Name": "status"}}')
    assert error.message == "Filters must be a list"
    error = invalid(SMS, "DescribePhoneNumbers", b'{"MaxResults": 0}')
    assert error.message == "MaxResults must be at least 1"


def test_enum_inside_a_batch_names_the_item():
    items = [endpoint_item(i) for i in range(5)]
    items[3]["ChannelType"] = "FAX"
    params = {"ApplicationId": "app-1", "EndpointBatchRequest": {"Item": items}}
    op = PINPOINT.model.operation_model("UpdateEndpointsBatch")
    body = create_serializer("rest-json", include_validation=False).serialize_to_request(
        params, op
    )["body"]
    error = invalid(PINPOINT, "UpdateEndpointsBatch", body, labels={"application-id": "app-1"})
    assert error.field == "EndpointBatchRequest.Item[3].ChannelType"
    assert error.message.startswith(
        "Invalid value for EndpointBatchRequest.Item[3].ChannelType: 'FAX'; must be one of "
    )
    assert "SMS, VOICE" in error.message


def test_union_structures_take_exactly_one_member():
    content = {"TextMessage": {"Body": "a"}, "FileMessage": {"FileUrl": "https://x"}}
    request = {
        "DestinationPhoneNumber": "+12065550100",
        "OriginationIdentity": "pool-1",
        "RcsMessageContent": {"Content": content},
    }
    body = orjson.dumps(request)
    error = invalid(SMS, "SendRcsMessage", body)
    assert error.message == "RcsMessageContent.Content must have exactly one member set"


def test_located_members_are_converted_and_validated():
    error = invalid(SESV2, "ListSuppressedDestinations", query={"PageSize": ["many"]})
    assert (error.field, error.message) == ("PageSize", "PageSize must be an integer")
    error = invalid(SESV2, "ListSuppressedDestinations", query={"Reason": ["BOUNCE", "SPAM"]})
    assert error.field == "Reasons[1]"
    error = invalid(SESV2, "ListSuppressedDestinations", query={"StartDate": ["yesterday"]})
    assert error.field == "StartDate"
    error = invalid(SESV2, "ListMultiRegionEndpoints", query={"PageSize": ["0"]})
    assert error.message == "PageSize must be at least 1"
    epoch = parse(SESV2, "ListSuppressedDestinations", query={"StartDate": ["1704067200"]})
    assert epoch == {"StartDate": datetime.datetime(2024, 1, 1, tzinfo=UTC)}


def test_missing_label_and_missing_required_payload():
    error = invalid(PINPOINT, "CreateApp", b"")
    assert error.message == "Missing required parameter: CreateApplicationRequest.Name"
    error = invalid(PINPOINT, "GetApp")
    assert error.message == "Missing required parameter: ApplicationId"


def test_body_problems():
    assert invalid(SMS, "SendTextMessage", b"{not json").message == "Request body is not valid JSON"
    assert (
        invalid(SMS, "SendTextMessage", b"[1, 2]").message == "Request body must be a JSON object"
    )
    assert invalid(SESV2, "SendEmail", b'"text"').message == "Request body must be a JSON object"
    raw = invalid(SESV2, "SendEmail", b'{"Content": {"Raw": {"Data": "not base64!"}}}')
    assert (raw.field, raw.message) == (
        "Content.Raw.Data",
        "Content.Raw.Data must be a base64-encoded string",
    )


def test_unknown_members_and_nulls_are_ignored_and_empty_json_bodies_are_empty_input():
    body = b'{"DestinationPhoneNumber": "+12065550100", "Surprise": [1], "MessageBody": null}'
    assert parse(SMS, "SendTextMessage", body) == {"DestinationPhoneNumber": "+12065550100"}
    assert parse(SMS, "DescribePhoneNumbers", b"") == {}
    assert parse(SMS, "DescribePhoneNumbers", b"{}") == {}


def test_integral_floats_are_accepted_as_integers_and_ints_as_doubles():
    assert parse(SMS, "DescribePhoneNumbers", b'{"MaxResults": 5.0}') == {"MaxResults": 5}
    body = b'{"Item": [{"Metrics": {"m": 2}}]}'
    parsed = parse(PINPOINT, "UpdateEndpointsBatch", body, labels={"application-id": "a"})
    assert parsed["EndpointBatchRequest"]["Item"][0]["Metrics"] == {"m": 2.0}


def test_body_keys_use_the_members_wire_name():
    dimensions = {"Demographic": {"Platform": {"DimensionType": "INCLUSIVE", "Values": ["ios"]}}}
    condition = {"Conditions": [{"SegmentDimensions": dimensions}], "Operator": "ALL"}
    journey = {"Name": "j", "Activities": {"split": {"ConditionalSplit": {"Condition": condition}}}}
    params = {"ApplicationId": "app-1", "WriteJourneyRequest": journey}
    op = PINPOINT.model.operation_model("CreateJourney")
    body = create_serializer("rest-json").serialize_to_request(params, op)["body"]
    assert b'"segmentDimensions"' in body
    assert round_trip(PINPOINT, "CreateJourney", params) == params


# A toy rest-json model for the locations Pinfold's three services do not use today.
_TOY = ServiceModel(
    {
        "metadata": {"protocol": "rest-json", "serviceId": "Toy", "signatureVersion": "v4"},
        "operations": {
            "PutThing": {
                "name": "PutThing",
                "http": {"method": "PUT", "requestUri": "/things/{Id}"},
                "input": {"shape": "PutThingRequest"},
            },
            "PutBlob": {
                "name": "PutBlob",
                "http": {"method": "PUT", "requestUri": "/blobs/{Id}"},
                "input": {"shape": "PutBlobRequest"},
            },
        },
        "shapes": {
            "PutThingRequest": {
                "type": "structure",
                "required": ["Id"],
                "members": {
                    "Id": {"shape": "Str", "location": "uri", "locationName": "Id"},
                    "Count": {"shape": "Int", "location": "header", "locationName": "X-Count"},
                    "Flags": {"shape": "StrList", "location": "header", "locationName": "X-Flags"},
                    "Doc": {
                        "shape": "Str",
                        "location": "header",
                        "locationName": "X-Doc",
                        "jsonvalue": True,
                    },
                    "Meta": {"shape": "StrMap", "location": "headers", "locationName": "x-meta-"},
                    "Since": {"shape": "Time", "location": "header", "locationName": "X-Since"},
                    "Extra": {"shape": "StrMap", "location": "querystring"},
                    "Mode": {"shape": "Str", "location": "querystring", "locationName": "mode"},
                    "Ratio": {"shape": "Dbl"},
                },
            },
            "PutBlobRequest": {
                "type": "structure",
                "required": ["Id"],
                "payload": "Data",
                "members": {
                    "Id": {"shape": "Str", "location": "uri", "locationName": "Id"},
                    "Data": {"shape": "Blob"},
                },
            },
            "Str": {"type": "string"},
            "Int": {"type": "integer", "max": 10},
            "Dbl": {"type": "double"},
            "Blob": {"type": "blob"},
            "Time": {"type": "timestamp"},
            "StrList": {"type": "list", "member": {"shape": "Str"}},
            "StrMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Str"}},
        },
    }
)
TOY = ServiceSpec("toy", "toy", "rest-json", _TOY, Router(_TOY))


def test_headers_header_maps_query_maps_and_raw_payloads_round_trip():
    params = {
        "Id": "a b/c",
        "Count": 3,
        "Flags": ["x", "y"],
        "Doc": {"nested": [1, 2]},
        "Meta": {"color": "blue"},
        "Since": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        "Extra": {"foo": "1", "bar": "2"},
        "Mode": "fast",
        "Ratio": 0.25,
    }
    assert round_trip(TOY, "PutThing", params) == params
    blob = {"Id": "b", "Data": b"\x00\x01raw"}
    assert round_trip(TOY, "PutBlob", blob) == blob


def test_header_values_are_validated_and_header_names_are_case_insensitive():
    op_headers = {"x-count": "11"}
    error = invalid(TOY, "PutThing", labels={"Id": "a"}, headers=op_headers)
    assert (error.field, error.message) == ("Count", "Count must be at most 10")
    assert parse(TOY, "PutThing", labels={"Id": "a"}, headers={"X-COUNT": "2"}) == {
        "Id": "a",
        "Count": 2,
    }
    doc = base64.b64encode(b"not json").decode()
    assert (
        invalid(TOY, "PutThing", labels={"Id": "a"}, headers={"X-Doc": doc}).message
        == "Doc must be base64-encoded JSON"
    )


def test_parse_query_keeps_repeats_blank_values_and_literal_plus():
    query = parse_query("tagKeys=a%20b&tagKeys=c%2Bd&flag&x=1+2&&empty=")
    assert query == {"tagKeys": ["a b", "c+d"], "flag": [""], "x": ["1+2"], "empty": [""]}


def test_integers_are_32_bits_and_longs_64_whatever_json_allows():
    settings = b'{"JourneyLimits": {"TotalCap": %d}}'
    labels = {"application-id": "a"}
    error = invalid(PINPOINT, "UpdateApplicationSettings", settings % 2**31, labels=labels)
    assert (error.field, error.message) == (
        "WriteApplicationSettingsRequest.JourneyLimits.TotalCap",
        "WriteApplicationSettingsRequest.JourneyLimits.TotalCap must be a 32-bit integer")
    assert invalid(PINPOINT, "UpdateApplicationSettings", b'{"JourneyLimits": {"TotalCap": 1e23}}',
                   labels=labels).message.endswith("must be a 32-bit integer")
    parsed = parse(PINPOINT, "UpdateApplicationSettings", settings % (2**31 - 1), labels=labels)
    assert parsed["WriteApplicationSettingsRequest"]["JourneyLimits"]["TotalCap"] == 2**31 - 1
    error = invalid(SMS, "SetTextMessageSpendLimitOverride", b'{"MonthlyLimit": %d}' % 2**63)
    assert error.message == "MonthlyLimit must be a 64-bit integer"
