"""SigV4 verification against requests signed by botocore itself, prepared the way boto3 prepares them."""

from __future__ import annotations

import datetime
import hashlib
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, create_request_object, prepare_request_dict
from botocore.credentials import Credentials
from botocore.serialize import create_serializer

from pinfold.api.protocol import check_scope, load_services, parse_authorization, refuse_session_token, verify_signature
from pinfold.core.errors import IncompleteSignature, InvalidSignature, MissingAuthentication, UnrecognizedClient

SERVICES = load_services()
ACCESS_KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SIGNED_AT = datetime.datetime(2024, 6, 1, 12, 0, 0, tzinfo=datetime.UTC)
ENDPOINT = "https://pinfold.example.com:8443"


def signed_wire(
    monkeypatch,
    service: str,
    op_name: str,
    params: dict,
    *,
    at=SIGNED_AT,
    unsigned_payload=False,
    use_date=False,
):
    """Serialize, prepare and sign like boto3; return what the server sees (method .. body)."""
    spec = SERVICES[service]
    op = spec.model.operation_model(op_name)
    request_dict = create_serializer(spec.protocol).serialize_to_request(params, op)
    prepare_request_dict(request_dict, ENDPOINT, context={}, user_agent="Boto3/1.44.8 test")
    if unsigned_payload:
        request_dict["context"]["payload_signing_enabled"] = False
    request = create_request_object(request_dict)
    if use_date:
        request.headers["Date"] = (
            "placeholder"  # SigV4Auth then signs with Date instead of X-Amz-Date
        )
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: at.replace(tzinfo=None))
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), spec.signing_name, "us-east-1").add_auth(request)
    prepared = request.prepare()
    url = urlsplit(prepared.url)
    headers = dict(prepared.headers.items())
    headers["Host"] = url.netloc  # the HTTP client adds it when sending
    body = prepared.body or b""
    return (
        prepared.method,
        url.path,
        url.query,
        headers,
        body if isinstance(body, bytes) else body.encode(),
    )


def verify(method, path, query, headers, body, *, secret=SECRET, now=SIGNED_AT):
    signed = parse_authorization(headers)
    verify_signature(
        signed,
        secret_key=secret,
        method=method,
        raw_path=path,
        raw_query=query,
        headers=headers,
        body=body,
        now=now,
    )
    return signed


TAG_ARN = "arn:aws:mobiletargeting:us-east-1:123456789012:apps/app-1"
SIGNED_CASES = [
    (
        "mobiletargeting",
        "TagResource",
        {"ResourceArn": TAG_ARN, "TagsModel": {"tags": {"team": "growth"}}},
    ),
    (
        "mobiletargeting",
        "UntagResource",
        {"ResourceArn": TAG_ARN, "TagKeys": ["cost center", "team", "a+b", "ünï"]},
    ),
    ("mobiletargeting", "GetApps", {"PageSize": "10", "Token": "x y~z"}),
    (
        "ses",
        "ListSuppressedDestinations",
        {"Reasons": ["BOUNCE", "COMPLAINT"], "StartDate": SIGNED_AT},
    ),
    ("ses", "GetEmailIdentity", {"EmailIdentity": "user+tag@example.com"}),
    (
        "sms-voice",
        "SendTextMessage",
        {"DestinationPhoneNumber": "+12065550100", "MessageBody": "hello"},
    ),
]


@pytest.mark.parametrize(
    ("service", "op_name", "params"), SIGNED_CASES, ids=[c[1] for c in SIGNED_CASES]
)
def test_botocore_signatures_verify(monkeypatch, service, op_name, params):
    wire = signed_wire(monkeypatch, service, op_name, params)
    signed = verify(*wire)
    assert (signed.access_key_id, signed.date, signed.region, signed.service) == (
        ACCESS_KEY,
        "20240601",
        "us-east-1",
        service,
    )
    assert "host" in signed.signed_headers


def test_arn_labels_are_double_encoded_the_way_botocore_signs_them(monkeypatch):
    method, path, query, headers, body = signed_wire(monkeypatch, *SIGNED_CASES[1])
    assert "%2F" in path and "%3A" in path
    assert query.count("tagKeys=") == 4
    verify(method, path, query, headers, body)


def test_unsigned_payload_is_refused(monkeypatch):
    """The body must be covered by the signature: botocore's UNSIGNED-PAYLOAD signature does not verify."""
    with pytest.raises(InvalidSignature, match="requires a signed payload"):
        verify(*signed_wire(monkeypatch, *SIGNED_CASES[0], unsigned_payload=True))


@pytest.mark.parametrize("marker", ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                    "unsigned-payload"])
def test_streaming_payload_markers_are_refused(monkeypatch, marker):
    method, path, query, headers, body = signed_wire(monkeypatch, *SIGNED_CASES[5])
    with pytest.raises(InvalidSignature, match="requires a signed payload"):
        verify(method, path, query, {**headers, "X-Amz-Content-SHA256": marker}, body)


def test_date_header_variant_verifies(monkeypatch):
    method, path, query, headers, body = signed_wire(monkeypatch, *SIGNED_CASES[5], use_date=True)
    assert "X-Amz-Date" not in headers
    verify(method, path, query, headers, body)


def _tampered(wire, **changes):
    method, path, query, headers, body = wire
    headers = dict(headers)
    headers.update(changes.pop("headers", {}))
    values = {
        "method": method,
        "path": path,
        "query": query,
        "headers": headers,
        "body": body,
        **changes,
    }
    return values["method"], values["path"], values["query"], values["headers"], values["body"]


@pytest.mark.parametrize(
    "changes",
    [
        {"body": b'{"DestinationPhoneNumber": "+19995550100", "MessageBody": "hello"}'},
        {"headers": {"X-Amz-Target": "PinpointSMSVoiceV2.SendVoiceMessage"}},
        {"headers": {"Content-Type": "application/json"}},
        {"path": "/other"},
        {"query": "extra=1"},
        {"method": "PUT"},
    ],
    ids=["body", "target-header", "content-type", "path", "query", "method"],
)
def test_tampering_is_detected(monkeypatch, changes):
    wire = _tampered(signed_wire(monkeypatch, *SIGNED_CASES[5]), **changes)
    with pytest.raises(
        InvalidSignature, match="^The request signature we calculated does not match"
    ):
        verify(*wire)


def test_wrong_secret_is_detected(monkeypatch):
    with pytest.raises(InvalidSignature):
        verify(*signed_wire(monkeypatch, *SIGNED_CASES[1]), secret="not-the-secret")


def test_content_sha256_header_must_match_the_body(monkeypatch):
    method, path, query, headers, body = signed_wire(monkeypatch, *SIGNED_CASES[5])
    headers = {**headers, "X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()}
    with pytest.raises(InvalidSignature, match="x-amz-content-sha256"):
        verify(method, path, query, headers, body)


def test_expired_and_future_signatures_use_aws_wording(monkeypatch):
    wire = signed_wire(monkeypatch, *SIGNED_CASES[2])
    with pytest.raises(InvalidSignature) as expired:
        verify(*wire, now=SIGNED_AT + datetime.timedelta(minutes=20))
    assert expired.value.message == (
        "Signature expired: 20240601T120000Z is now earlier than 20240601T120500Z (20240601T122000Z - 15 min.)"
    )
    with pytest.raises(InvalidSignature) as future:
        verify(*wire, now=SIGNED_AT - datetime.timedelta(minutes=16))
    assert future.value.message == (
        "Signature not yet current: 20240601T120000Z is still later than 20240601T115900Z (20240601T114400Z + 15 min.)"
    )
    verify(*wire, now=SIGNED_AT + datetime.timedelta(minutes=14))


def test_missing_authorization_header():
    with pytest.raises(MissingAuthentication, match="^Missing Authentication Token$"):
        parse_authorization({"Host": "x"})


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("Bearer abc", "Authorization header requires 'Credential' parameter."),
        (
            "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/ses/aws4_request, Signature=ab",
            "requires 'SignedHeaders' parameter",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/aws4_request, SignedHeaders=host, Signature=ab",
            "exactly 5 slash-delimited elements",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AK/20240601/us-east-1/ses/aws5, SignedHeaders=host, Signature=ab",
            "valid terminator",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AK/June/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=ab",
            "Invalid credential date",
        ),
        (
            "AWS4-HMAC-SHA1 Credential=AK/20240601/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=ab",
            "Unsupported AWS 'algorithm'",
        ),
    ],
)
def test_malformed_authorization_headers(value, fragment):
    with pytest.raises(IncompleteSignature) as caught:
        parse_authorization({"authorization": value})
    assert fragment in caught.value.message
    assert caught.value.aws_code == "IncompleteSignatureException"


def test_request_without_a_date_or_with_a_mismatched_scope_date(monkeypatch):
    method, path, query, headers, body = signed_wire(monkeypatch, *SIGNED_CASES[2])
    no_date = {k: v for k, v in headers.items() if k.lower() != "x-amz-date"}
    with pytest.raises(IncompleteSignature, match="X-Amz-Date"):
        verify(method, path, query, no_date, body)
    shifted = {**headers, "X-Amz-Date": "20240602T000500Z"}
    with pytest.raises(InvalidSignature, match="Date in Credential scope does not match"):
        verify(
            method,
            path,
            query,
            shifted,
            body,
            now=datetime.datetime(2024, 6, 2, 0, 5, tzinfo=datetime.UTC),
        )


def test_host_must_be_signed(monkeypatch):
    method, path, query, headers, body = signed_wire(monkeypatch, *SIGNED_CASES[2])
    headers = {
        **headers,
        "Authorization": headers["Authorization"].replace("SignedHeaders=host;", "SignedHeaders="),
    }
    with pytest.raises(InvalidSignature, match="'Host'"):
        verify(method, path, query, headers, body)


def _signed_for_url(monkeypatch, url: str, service: str = "mobiletargeting"):
    """Sign a GET for a literal URL, as botocore would if handed that path."""
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: SIGNED_AT.replace(tzinfo=None))
    request = AWSRequest(method="GET", url=url, data=b"")
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    split = urlsplit(prepared.url)
    return "GET", split.path, split.query, {**dict(prepared.headers.items()), "Host": split.netloc}, b""


@pytest.mark.parametrize("path", [
    "/v1/apps/../apps/x", "/v1/apps/./x", "/v1//apps/x", "/v1/apps/%2e%2e/apps/x", "/v1/apps/%2E/x",
    "/v1/apps/x/..",
])
def test_paths_that_normalise_to_another_path_are_refused(monkeypatch, path):
    """botocore signs the normalised path; the router would see the raw one, so it is refused."""
    wire = _signed_for_url(monkeypatch, f"{ENDPOINT}{path}")
    assert wire[1] == path
    with pytest.raises(InvalidSignature, match="must be canonical"):
        verify(*wire)


@pytest.mark.parametrize("path", ["/v1/apps/x", "/v1/apps/a.b/.hidden/..x", "/v1/apps/a%2Fb", "/v1/apps/x/", "/"])
def test_canonical_paths_still_verify(monkeypatch, path):
    verify(*_signed_for_url(monkeypatch, f"{ENDPOINT}{path}"))


def test_scope_must_name_a_served_region_and_the_expected_service(monkeypatch):
    signed = parse_authorization(signed_wire(monkeypatch, *SIGNED_CASES[2])[3])
    check_scope(signed, regions=frozenset({"us-east-1"}), service="mobiletargeting")
    with pytest.raises(InvalidSignature) as region:
        check_scope(signed, regions=frozenset({"eu-west-1"}), service="mobiletargeting")
    assert region.value.message == "Credential should be scoped to a valid region, not 'us-east-1'."
    with pytest.raises(InvalidSignature) as service:
        check_scope(signed, regions=frozenset({"us-east-1"}), service="pinfold")
    assert service.value.message == "Credential should be scoped to correct service: 'pinfold'."


def test_any_session_token_is_refused():
    refuse_session_token({"Host": "x"}, "a=1")
    for headers, query in [({"X-Amz-Security-Token": "FwoGZX"}, ""), ({}, "X-Amz-Security-Token=FwoGZX")]:
        with pytest.raises(UnrecognizedClient, match="^The security token included in the request is invalid.$"):
            refuse_session_token(headers, query)
