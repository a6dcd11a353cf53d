"""AWS Signature Version 4: parse the Authorization header and verify a request's signature.

Looking up the secret for an access key is the caller's job; an unknown key should be reported as
UnrecognizedClient('The security token included in the request is invalid.').
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from pinfold.core.errors import IncompleteSignature, InvalidSignature, MissingAuthentication, UnrecognizedClient

ALGORITHM = "AWS4-HMAC-SHA256"
_BASIC_FORMAT = "%Y%m%dT%H%M%SZ"
_MAX_SKEW = timedelta(minutes=15)
# Markers that stand in for a body hash; these APIs take no streamed or unsigned bodies.
_UNHASHED_PAYLOADS = ("UNSIGNED-PAYLOAD", "STREAMING-")
_INVALID_TOKEN = "The security token included in the request is invalid."
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an 'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...' header."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lowercased; repeated headers (from a multi-valued mapping) joined with commas."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def parse_authorization(headers: Mapping[str, str]) -> SignedRequest:
    """Parse the Authorization header; MissingAuthentication if absent, IncompleteSignature if malformed."""
    value = _lowered(headers).get("authorization", "").strip()
    if not value:
        raise MissingAuthentication("Missing Authentication Token")
    algorithm, _, rest = value.partition(" ")
    fields = {}
    for part in rest.split(","):
        key, sep, item = part.strip().partition("=")
        if sep:
            fields[key] = item.strip()
    absent = [name for name in ("Credential", "Signature", "SignedHeaders") if not fields.get(name)]
    if absent:
        wanted = " ".join(f"Authorization header requires '{name}' parameter." for name in absent)
        raise IncompleteSignature(f"{wanted} Authorization={value}")
    if algorithm != ALGORITHM:
        raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{algorithm}'")
    return _signed_request(fields)


def _signed_request(fields: dict[str, str]) -> SignedRequest:
    credential = fields["Credential"]
    scope = credential.split("/")
    if len(scope) != 5:
        raise IncompleteSignature(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'"
        )
    key_id, date, region, service, terminator = scope
    if terminator != "aws4_request":
        raise IncompleteSignature(
            f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )
    if len(date) != 8 or not date.isdigit():
        raise IncompleteSignature(
            f"Invalid credential date '{date}': expected yyyyMMdd. Credential={credential}"
        )
    if not key_id or not region or not service:
        raise IncompleteSignature(f"Credential has an empty element: '{credential}'")
    signed_headers = tuple(
        name.strip().lower() for name in fields["SignedHeaders"].split(";") if name.strip()
    )
    return SignedRequest(key_id, date, region, service, signed_headers, fields["Signature"])


@functools.lru_cache(maxsize=256)
def _signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The derived key for one credential scope; cached because derivation costs four HMACs."""
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _request_time(headers: dict[str, str], authorization: str) -> tuple[datetime, str]:
    """The signing time and its basic-format text, from X-Amz-Date or else Date."""
    if "x-amz-date" in headers:
        text = headers["x-amz-date"].strip()
        try:
            return datetime.strptime(text, _BASIC_FORMAT).replace(tzinfo=UTC), text
        except ValueError:
            raise IncompleteSignature(
                f"Date must be in ISO-8601 'basic format'. Got '{text}'."
            ) from None
    if "date" in headers:
        try:
            moment = parsedate_to_datetime(headers["date"]).astimezone(UTC)
        except (TypeError, ValueError):
            raise IncompleteSignature(f"Invalid Date header: '{headers['date']}'.") from None
        return moment, moment.strftime(_BASIC_FORMAT)
    raise IncompleteSignature(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        f"Authorization={authorization}"
    )


def _check_skew(moment: datetime, stamp: str, now: datetime) -> None:
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    now_text = now.strftime(_BASIC_FORMAT)
    if moment < now - _MAX_SKEW:
        limit = (now - _MAX_SKEW).strftime(_BASIC_FORMAT)
        raise InvalidSignature(
            f"Signature expired: {stamp} is now earlier than {limit} ({now_text} - 15 min.)"
        )
    if moment > now + _MAX_SKEW:
        limit = (now + _MAX_SKEW).strftime(_BASIC_FORMAT)
        raise InvalidSignature(
            f"Signature not yet current: {stamp} is still later than {limit} ({now_text} + 15 min.)"
        )


def _canonical_path(raw_path: str) -> str:
    """Dot segments and empty segments removed, then the (already encoded) path encoded once more."""
    if not raw_path:
        return "/"
    kept: list[str] = []
    for segment in raw_path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    path = "/" + "/".join(kept) if raw_path.startswith("/") else "/".join(kept)
    if raw_path.endswith("/") and kept:
        path += "/"
    return quote(path or "/", safe="/~")


def _canonical_query(raw_query: str) -> str:
    pairs = []
    for part in raw_query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def _payload_hash(headers: dict[str, str], body: bytes) -> str:
    """The body's sha256; a declared x-amz-content-sha256 must be that same hash, never a marker."""
    declared = headers.get("x-amz-content-sha256")
    if declared and declared.strip().upper().startswith(_UNHASHED_PAYLOADS):
        raise InvalidSignature(
            f"x-amz-content-sha256 '{declared}' is not accepted: this API requires a signed payload "
            "(the body's SHA-256)."
        )
    actual = hashlib.sha256(body).hexdigest()
    if declared and not hmac.compare_digest(declared.lower(), actual):
        raise InvalidSignature(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    return declared or actual


def check_scope(signed: SignedRequest, *, regions: frozenset[str], service: str) -> None:
    """The credential scope must name a region this installation serves and the expected service."""
    if signed.region not in regions:
        raise InvalidSignature(f"Credential should be scoped to a valid region, not '{signed.region}'.")
    if signed.service != service:
        raise InvalidSignature(f"Credential should be scoped to correct service: '{service}'.")


def refuse_session_token(headers: Mapping[str, str], raw_query: str) -> None:
    """Pinfold issues no session tokens, so a request carrying one is refused rather than the token ignored."""
    if "x-amz-security-token" in _lowered(headers) or "x-amz-security-token=" in raw_query.lower():
        raise UnrecognizedClient(_INVALID_TOKEN)


def check_canonical_path(raw_path: str) -> None:
    """Refuse a path that SigV4 normalisation would change: the router must see what was signed."""
    # Fast path: a path with no dot, no doubled slash and no encoded dot is already canonical.
    if "//" not in raw_path and "/." not in raw_path and "%2e" not in raw_path.lower():
        return
    segments = raw_path.split("/")[1:-1] if raw_path.endswith("/") else raw_path.split("/")[1:]
    for segment in segments:
        if not segment or unquote(segment) in (".", ".."):
            raise InvalidSignature(
                f"The request path must be canonical (no empty, '.' or '..' segments, encoded or not): "
                f"'{raw_path[:200]}'."
            )


def verify_signature(
    signed: SignedRequest,
    *,
    secret_key: str,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> None:
    """Recompute the SigV4 signature; InvalidSignature if it differs or the time is over 15 min off."""
    check_canonical_path(raw_path)
    lowered = _lowered(headers)
    moment, stamp = _request_time(lowered, lowered.get("authorization", ""))
    _check_skew(moment, stamp, now)
    if stamp[:8] != signed.date:
        raise InvalidSignature(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{signed.date}' != '{stamp[:8]}', from '{stamp}'."
        )
    if "host" not in signed.signed_headers:
        raise InvalidSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    canonical = _canonical_request(signed, method, raw_path, raw_query, lowered, body)
    scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
    string_to_sign = (
        f"{ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    key = _signing_key(secret_key, signed.date, signed.region, signed.service)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
        raise InvalidSignature(_MISMATCH)


def _canonical_request(
    signed: SignedRequest,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
) -> str:
    names = sorted(signed.signed_headers)
    canonical_headers = "".join(
        f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in names
    )
    return "\n".join(
        (
            method.upper(),
            _canonical_path(raw_path),
            _canonical_query(raw_query),
            canonical_headers,
            ";".join(names),
            _payload_hash(headers, body),
        )
    )
