"""Routing requests built by botocore's own serializer back to their operations."""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import prepare_request_dict
from botocore.model import ServiceModel
from botocore.serialize import create_serializer

from pinfold.api.protocol import Router, UnknownOperation, detect_service, load_services, parse_query, parse_request
from pinfold.api.protocol.older_bindings import OLDER_BINDINGS

SERVICES = load_services()
PINPOINT, SESV2, SMS = SERVICES["mobiletargeting"], SERVICES["ses"], SERVICES["sms-voice"]

# Tried in order for a string member until one satisfies its pattern and length limits.
_CANDIDATE_STRINGS = (
    "value-1",
    "+12065550100",
    "US",
    "arn:aws:acm:us-east-1:123456789012:certificate/abc-123",
    "s3://bucket/path/key.csv",
)


def _string_value(shape) -> str:
    if shape.enum:
        return shape.enum[0]
    low, high = shape.metadata.get("min") or 1, shape.metadata.get("max")
    pattern = shape.metadata.get("pattern")
    for candidate in _CANDIDATE_STRINGS:
        candidate = candidate.ljust(low, "x")
        if high is not None and len(candidate) > high:
            continue
        if pattern is None or re.search(pattern, candidate):
            return candidate
    return "value-1".ljust(low, "x")


def minimal_value(shape):
    """A plausible value holding only what the shape requires (one item for lists, maps with a minimum)."""
    kind = shape.type_name
    if kind == "structure":
        return {name: minimal_value(shape.members[name]) for name in shape.required_members}
    if kind == "list":
        return [minimal_value(shape.member) for _ in range(shape.metadata.get("min") or 1)]
    if kind == "map":
        count = shape.metadata.get("min") or 0
        key = _string_value(shape.key)
        return {key + (str(i) if i else ""): minimal_value(shape.value) for i in range(count)}
    scalars = {
        "string": lambda: _string_value(shape),
        "integer": lambda: shape.metadata.get("min") or 1,
        "long": lambda: shape.metadata.get("min") or 1,
        "float": lambda: 1.5,
        "double": lambda: 1.5,
        "boolean": lambda: True,
        "timestamp": lambda: datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "blob": lambda: b"data",
    }
    return scalars[kind]()


def wire_request(spec, op_name: str, params: dict):
    """(method, raw_path, query, headers, body) as botocore would put the request on the wire."""
    op = spec.model.operation_model(op_name)
    request = create_serializer(spec.protocol).serialize_to_request(params, op)
    prepare_request_dict(request, "https://example.com")
    url = urlsplit(request["url"])
    query = parse_query(url.query)
    return request["method"], url.path, query, request["headers"], request["body"]


def _all_operations():
    for spec in SERVICES.values():
        for name in spec.model.operation_names:
            yield pytest.param(spec, name, id=f"{spec.name}:{name}")


@pytest.mark.parametrize(("spec", "op_name"), list(_all_operations()))
def test_every_operation_routes_and_parses_its_minimal_request(spec, op_name):
    op = spec.model.operation_model(op_name)
    params = minimal_value(op.input_shape) if op.input_shape is not None else {}
    method, path, query, headers, body = wire_request(spec, op_name, params)
    found, labels = spec.router.match(method, path, query, headers.get("X-Amz-Target"))
    assert found.name == op_name
    assert parse_request(spec, found, labels, query, headers, body) == params


def test_labels_are_percent_decoded_after_matching_so_arns_keep_slashes_and_colons():
    arn = "arn:aws:mobiletargeting:us-east-1:123456789012:apps/abc/campaigns/x y"
    method, path, query, _, _ = wire_request(
        PINPOINT, "TagResource", {"ResourceArn": arn, "TagsModel": {"tags": {"k": "v"}}}
    )
    assert "%2F" in path
    op, labels = PINPOINT.router.match(method, path, query, None)
    assert op.name == "TagResource"
    assert labels == {"resource-arn": arn}


def test_literal_segments_win_over_labels_and_trailing_slash_is_tolerated():
    op, labels = SESV2.router.match("GET", "/v2/email/account/", {}, None)
    assert op.name == "GetAccount" and labels == {}
    op, labels = PINPOINT.router.match("GET", "/v1/apps/app-1/channels/sms", {}, None)
    assert op.name == "GetSmsChannel" and labels == {"application-id": "app-1"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nowhere"),
        ("PATCH", "/v1/apps"),
        ("GET", "/v1/apps//channels/sms"),
        ("GET", "/"),
    ],
)
def test_unmatched_requests_raise_unknown_operation(method, path):
    with pytest.raises(UnknownOperation):
        PINPOINT.router.match(method, path, {}, None)


def test_json_protocol_routes_by_target_header():
    op, labels = SMS.router.match("POST", "/", {}, "PinpointSMSVoiceV2.SendTextMessage")
    assert (op.name, labels) == ("SendTextMessage", {})


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("POST", None),
        ("POST", "PinpointSMSVoiceV2.NoSuchThing"),
        ("POST", "Other.SendTextMessage"),
        ("GET", "PinpointSMSVoiceV2.SendTextMessage"),
    ],
)
def test_json_protocol_rejects_bad_targets(method, target):
    with pytest.raises(UnknownOperation):
        SMS.router.match(method, "/", {}, target)


def _toy_model(uris: dict[str, tuple[str, str]]) -> ServiceModel:
    operations = {
        name: {"name": name, "http": {"method": method, "requestUri": uri}}
        for name, (method, uri) in uris.items()
    }
    return ServiceModel(
        {
            "metadata": {"protocol": "rest-json", "serviceId": "Toy"},
            "operations": operations,
            "shapes": {},
        }
    )


def test_greedy_labels_query_literals_and_priority():
    router = Router(
        _toy_model(
            {
                "GetObject": ("GET", "/{Bucket}/{Key+}"),
                "GetObjectVersions": ("GET", "/{Bucket}/{Key+}?versions"),
                "GetTagged": ("GET", "/{Bucket}/{Key+}?x-id=Tagged"),
                "GetBucketPolicy": ("GET", "/{Bucket}/policy"),
                "ListBucket": ("GET", "/{Bucket}"),
            }
        )
    )
    assert router.match("GET", "/b/a/b%2Fc/d", {}, None) == (
        router.model.operation_model("GetObject"),
        {"Bucket": "b", "Key": "a/b/c/d"},
    )
    assert router.match("GET", "/b/k", {"versions": [""]}, None)[0].name == "GetObjectVersions"
    assert router.match("GET", "/b/k", {"x-id": ["Tagged"]}, None)[0].name == "GetTagged"
    assert router.match("GET", "/b/k", {"x-id": ["Other"]}, None)[0].name == "GetObject"
    assert router.match("GET", "/b/policy", {}, None)[0].name == "GetBucketPolicy"
    assert router.match("GET", "/b", {}, None)[0].name == "ListBucket"


@pytest.mark.parametrize(
    ("signing_name", "target", "path", "expected"),
    [
        ("mobiletargeting", None, "/", "pinpoint"),
        ("ses", None, "/v2/email/account", "sesv2"),
        ("sms-voice", "PinpointSMSVoiceV2.SendTextMessage", "/", "pinpoint-sms-voice-v2"),
        (None, "PinpointSMSVoiceV2.SendTextMessage", "/", "pinpoint-sms-voice-v2"),
        (None, None, "/v1/apps", "pinpoint"),
        (None, None, "/v2/email/identities", "sesv2"),
        (None, None, "/elsewhere", None),
        ("sqs", None, "/v1/apps", None),
    ],
)
def test_detect_service(signing_name, target, path, expected):
    spec = detect_service(SERVICES, signing_name=signing_name, target=target, path=path)
    assert (spec.name if spec else None) == expected


def test_services_are_loaded_once_and_keyed_by_signing_name():
    assert load_services() is SERVICES
    assert {spec.protocol for spec in SERVICES.values()} == {"rest-json", "json"}


@pytest.mark.parametrize("binding", OLDER_BINDINGS["sesv2"], ids=lambda binding: binding.operation)
def test_an_older_binding_routes_to_its_operation_and_reads_its_query_members(binding):
    path = re.sub(r"\{[^}]+\}", "x", binding.request_uri)
    query = {member: ["7" if member == "PageSize" else "t"] for member in binding.query}
    found, labels = SESV2.router.match(binding.method, path, query, None)
    assert found.name == binding.operation
    assert found.input_shape.members.keys() == SESV2.model.operation_model(binding.operation).input_shape.members.keys()
    body = b'{"SigningAttributesOrigin": "AWS_SES"}'  # required by one of them, ignored by the rest
    params = parse_request(SESV2, found, labels, query, {}, body)
    assert {member: params[member] for member in binding.query} == {
        member: 7 if member == "PageSize" else "t" for member in binding.query}
    pinned = SESV2.model.operation_model(binding.operation).http
    assert SESV2.router.match(pinned["method"], re.sub(r"\{[^}]+\}", "x", pinned["requestUri"]), {}, None)[0].name \
        == binding.operation
