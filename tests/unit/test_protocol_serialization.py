"""Responses and errors as botocore's own parsers read them."""

from __future__ import annotations

import datetime

import orjson
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from pinfold.api.protocol import WireResponse, load_services, serialize_error, serialize_response
from pinfold.core import errors

SERVICES = load_services()
PINPOINT, SESV2, SMS = SERVICES["mobiletargeting"], SERVICES["ses"], SERVICES["sms-voice"]
UTC = datetime.UTC
MOMENT = datetime.datetime(2024, 3, 4, 5, 6, 7, 125000, tzinfo=UTC)


def botocore_reads(spec, op, wire: WireResponse) -> dict:
    """What a boto3 client would hand its caller for this wire response."""
    response = {"status_code": wire.status, "headers": HeadersDict(wire.headers), "body": wire.body}
    parsed = create_parser(spec.protocol).parse(response, op.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def sample(shape, depth: int = 0):
    """A value with every member filled (structures nest to a bounded depth, so recursion ends)."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 3:
            return {}
        if shape.is_tagged_union:
            name, member = next(iter(shape.members.items()))
            return {name: sample(member, depth + 1)}
        return {
            name: sample(member, depth + 1)
            for name, member in shape.members.items()
            if "location" not in member.serialization
        }
    if kind == "list":
        return [sample(shape.member, depth + 1), sample(shape.member, depth + 1)]
    if kind == "map":
        return {"k1": sample(shape.value, depth + 1)}
    if kind == "string":
        return shape.enum[0] if shape.enum else "text \u00e9"
    return {
        "integer": 7,
        "long": 2**40,
        "float": 0.5,
        "double": 2.25,
        "boolean": True,
        "timestamp": MOMENT,
        "blob": b"\x00\xffbytes",
    }[kind]


def _outputs():
    for spec in SERVICES.values():
        for name in spec.model.operation_names:
            if spec.model.operation_model(name).output_shape is not None:
                yield pytest.param(spec, name, id=f"{spec.name}:{name}")


@pytest.mark.parametrize(("spec", "op_name"), list(_outputs()))
def test_every_output_shape_round_trips_through_botocore(spec, op_name):
    op = spec.model.operation_model(op_name)
    output = sample(op.output_shape)
    wire = serialize_response(spec, op, output, "req-1")
    assert wire.status == op.http.get("responseCode", 200)
    assert botocore_reads(spec, op, wire) == output


def test_headers_carry_content_type_and_request_id():
    op = SMS.model.operation_model("SendTextMessage")
    wire = serialize_response(SMS, op, {"MessageId": "m-1"}, "req-9")
    assert ("Content-Type", "application/x-amz-json-1.0") in wire.headers
    assert ("x-amzn-RequestId", "req-9") in wire.headers
    rest = serialize_response(
        PINPOINT, PINPOINT.model.operation_model("GetApps"), {"ApplicationsResponse": {}}, "r"
    )
    assert ("Content-Type", "application/json") in rest.headers


def test_unknown_and_none_members_are_dropped_and_status_comes_from_the_model():
    op = PINPOINT.model.operation_model("CreateApp")
    output = {
        "ApplicationResponse": {"Id": "a1", "Name": "shop", "Arn": None, "Secret": "x"},
        "Other": 1,
    }
    wire = serialize_response(PINPOINT, op, output, "r")
    assert wire.status == 201
    assert orjson.loads(wire.body) == {"Id": "a1", "Name": "shop"}


def test_datetimes_for_string_members_become_iso8601_with_milliseconds():
    op = PINPOINT.model.operation_model("GetApp")
    wire = serialize_response(
        PINPOINT, op, {"ApplicationResponse": {"Id": "a", "CreationDate": MOMENT}}, "r"
    )
    assert orjson.loads(wire.body)["CreationDate"] == "2024-03-04T05:06:07.125Z"


def test_timestamps_accept_datetimes_epoch_numbers_and_iso_strings():
    op = SESV2.model.operation_model("GetSuppressedDestination")
    for given in (MOMENT, MOMENT.timestamp(), "2024-03-04T05:06:07.125Z"):
        output = {
            "SuppressedDestination": {
                "EmailAddress": "a@b.c",
                "Reason": "BOUNCE",
                "LastUpdateTime": given,
            }
        }
        wire = serialize_response(SESV2, op, output, "r")
        assert orjson.loads(wire.body)["SuppressedDestination"]["LastUpdateTime"] == 1709528767.125
        assert botocore_reads(SESV2, op, wire)["SuppressedDestination"]["LastUpdateTime"] == MOMENT


def test_iso8601_timestamp_members_are_strings_with_z():
    op = PINPOINT.model.operation_model("GetApplicationDateRangeKpi")
    output = {
        "ApplicationDateRangeKpiResponse": {
            "StartTime": MOMENT,
            "EndTime": MOMENT.replace(microsecond=0),
        }
    }
    body = orjson.loads(serialize_response(PINPOINT, op, output, "r").body)
    assert body == {"StartTime": "2024-03-04T05:06:07.125Z", "EndTime": "2024-03-04T05:06:07Z"}


def test_operations_without_output_have_empty_bodies():
    op = PINPOINT.model.operation_model("TagResource")
    wire = serialize_response(PINPOINT, op, None, "r")
    assert (wire.status, wire.body) == (204, b"")
    assert (
        serialize_response(SMS, SMS.model.operation_model("DescribePhoneNumbers"), None, "r").body
        == b"{}"
    )


ERROR_TABLE = [
    (PINPOINT, errors.InvalidInput, "BadRequestException", 400),
    (PINPOINT, errors.LimitExceeded, "BadRequestException", 400),
    (PINPOINT, errors.NotFound, "NotFoundException", 404),
    (PINPOINT, errors.Conflict, "ConflictException", 409),
    (PINPOINT, errors.Forbidden, "ForbiddenException", 403),
    (PINPOINT, errors.PayloadTooLarge, "PayloadTooLargeException", 413),
    (PINPOINT, errors.Throttled, "TooManyRequestsException", 429),
    (PINPOINT, errors.NotImplementedOperation, "NotImplementedException", 501),
    (PINPOINT, errors.PinfoldError, "InternalServerErrorException", 500),
    (SESV2, errors.InvalidInput, "BadRequestException", 400),
    (SESV2, errors.LimitExceeded, "LimitExceededException", 400),
    (SESV2, errors.NotFound, "NotFoundException", 404),
    (SESV2, errors.Conflict, "AlreadyExistsException", 400),
    (SESV2, errors.Forbidden, "AccessDeniedException", 403),
    (SESV2, errors.PayloadTooLarge, "BadRequestException", 400),
    (SESV2, errors.Throttled, "TooManyRequestsException", 429),
    (SESV2, errors.NotImplementedOperation, "NotImplementedException", 501),
    (SESV2, errors.PinfoldError, "InternalServiceErrorException", 500),
    (SMS, errors.InvalidInput, "ValidationException", 400),
    (SMS, errors.LimitExceeded, "ServiceQuotaExceededException", 400),
    (SMS, errors.NotFound, "ResourceNotFoundException", 404),
    (SMS, errors.Conflict, "ConflictException", 400),
    (SMS, errors.Forbidden, "AccessDeniedException", 403),
    (SMS, errors.PayloadTooLarge, "ValidationException", 400),
    (SMS, errors.Throttled, "ThrottlingException", 400),
    (SMS, errors.NotImplementedOperation, "NotImplementedException", 501),
    (SMS, errors.PinfoldError, "InternalServerException", 500),
]
AUTH_ERRORS = [
    (errors.MissingAuthentication, "MissingAuthenticationTokenException"),
    (errors.IncompleteSignature, "IncompleteSignatureException"),
    (errors.UnrecognizedClient, "UnrecognizedClientException"),
    (errors.InvalidSignature, "InvalidSignatureException"),
]
ANY_OP = {
    "pinpoint": "GetApps",
    "sesv2": "GetAccount",
    "pinpoint-sms-voice-v2": "DescribePhoneNumbers",
}


def botocore_error(spec, wire: WireResponse) -> dict:
    op = spec.model.operation_model(ANY_OP[spec.name])
    response = {"status_code": wire.status, "headers": HeadersDict(wire.headers), "body": wire.body}
    return create_parser(spec.protocol).parse(response, op.output_shape)


@pytest.mark.parametrize(
    ("spec", "error_type", "code", "status"),
    ERROR_TABLE,
    ids=[f"{s.name}:{c}:{e.__name__}" for s, e, c, _ in ERROR_TABLE],
)
def test_errors_parse_in_botocore_with_the_services_own_codes(spec, error_type, code, status):
    wire = serialize_error(spec, error_type("Things went wrong: <b>"), "req-7")
    parsed = botocore_error(spec, wire)
    assert wire.status == status
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == "Things went wrong: <b>"
    assert parsed["ResponseMetadata"]["RequestId"] == "req-7"


@pytest.mark.parametrize(("error_type", "code"), AUTH_ERRORS)
@pytest.mark.parametrize(
    "spec", [PINPOINT, SESV2, SMS, None], ids=["pinpoint", "sesv2", "sms", "unknown"]
)
def test_auth_failures_are_403_with_their_aws_code_everywhere(spec, error_type, code):
    wire = serialize_error(spec, error_type("denied"), "r")
    assert wire.status == 403
    parsed = botocore_error(spec or PINPOINT, wire)
    assert (parsed["Error"]["Code"], parsed["Error"]["Message"]) == (code, "denied")


def test_pinpoint_error_bodies_carry_modelled_members():
    body = orjson.loads(serialize_error(PINPOINT, errors.NotFound("no app"), "req-3").body)
    assert body == {"message": "no app", "Message": "no app", "RequestID": "req-3"}
    assert orjson.loads(serialize_error(SESV2, errors.NotFound("no id"), "r").body) == {
        "message": "no id"
    }


def test_validation_exceptions_name_the_field():
    wire = serialize_error(
        SMS, errors.InvalidInput("MaxResults must be at least 1", field="MaxResults"), "r"
    )
    body = orjson.loads(wire.body)
    assert body["Reason"] == "FIELD_VALIDATION_FAILED"
    assert body["Fields"] == [{"Name": "MaxResults", "Message": "MaxResults must be at least 1"}]
    # botocore's client fills the modelled exception's fields by parsing with the error shape.
    response = {"status_code": wire.status, "headers": HeadersDict(wire.headers), "body": wire.body}
    modelled = create_parser("json").parse(response, SMS.model.shape_for("ValidationException"))
    assert modelled["Reason"] == "FIELD_VALIDATION_FAILED"
    assert modelled["Fields"] == [
        {"Name": "MaxResults", "Message": "MaxResults must be at least 1"}
    ]


def test_unknown_operation_errors():
    from pinfold.api.protocol import UnknownOperation

    json_wire = serialize_error(SMS, UnknownOperation("Unknown operation X"), "r")
    assert (json_wire.status, botocore_error(SMS, json_wire)["Error"]["Code"]) == (
        400,
        "UnknownOperationException",
    )
    rest_wire = serialize_error(PINPOINT, UnknownOperation("nope"), "r")
    assert (rest_wire.status, botocore_error(PINPOINT, rest_wire)["Error"]["Code"]) == (
        404,
        "NotFoundException",
    )
    unknown = serialize_error(None, errors.InvalidInput("bad"), "r")
    assert unknown.status == 400 and orjson.loads(unknown.body) == {"message": "bad"}
