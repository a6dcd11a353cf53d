"""Identifiers, names and numbers of End User Messaging SMS resources, with no I/O.

Ids look like AWS's (`phone-`, `pool-`, `verifieddestinationnumber-` and 32 lowercase hex); a
sender id's resource id is `SenderId:IsoCountryCode`. Anything that names a resource in a request
may be its id, its name or its `sms-voice` ARN; `arn_target` takes an ARN apart. Phone numbers are
E.164 with the leading "+", checked with the `phonenumbers` library.
"""

from __future__ import annotations

import hashlib
import re
import uuid

import phonenumbers

from pinfold.core.errors import InvalidInput

PHONE_NUMBER = "phone-number"
SENDER_ID = "sender-id"
POOL = "pool"
OPT_OUT_LIST = "opt-out-list"
CONFIGURATION_SET = "configuration-set"
VERIFIED_DESTINATION = "verified-destination-number"

_HEX_ID = re.compile(r"(phone|pool|verifieddestinationnumber)-[0-9a-f]{32}")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SENDER_ID = re.compile(r"[A-Za-z0-9_-]{1,11}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_ARN = re.compile(r"arn:[a-z-]+:sms-voice:([a-z0-9-]*):(\d{12}):([a-z-]+)/(.+)")


def invalid(message: str, reason: str = "INVALID_PARAMETER", field: str | None = None) -> InvalidInput:
    """A ValidationException carrying AWS's Reason (and the field, when there is one)."""
    details = {"Reason": reason}
    if field:
        details["Fields"] = [{"Name": field, "Message": message}]
    return InvalidInput(message, details=details)


# --- ids ----------------------------------------------------------------------------------------

def new_id(prefix: str, client_token: str | None = None, *, scope: str = "") -> str:
    """`prefix-` and 32 hex: random, or derived from a ClientToken within `scope` (account and
    region), so that repeating a request with the same token names the same resource."""
    if not client_token:
        return f"{prefix}-{uuid.uuid4().hex}"
    digest = hashlib.blake2b(f"{scope}\0{prefix}\0{client_token}".encode(), digest_size=16).hexdigest()
    return f"{prefix}-{digest}"


def new_phone_number_id(client_token: str | None = None, *, scope: str = "") -> str:
    return new_id("phone", client_token, scope=scope)


def new_pool_id(client_token: str | None = None, *, scope: str = "") -> str:
    return new_id("pool", client_token, scope=scope)


def new_verified_destination_id() -> str:
    return new_id("verifieddestinationnumber")


def looks_like_id(value: str, prefix: str) -> bool:
    """True for an id of the shape AWS gives (`phone-`, `pool-`, ... and 32 lowercase hex)."""
    return bool(_HEX_ID.fullmatch(value)) and value.startswith(prefix + "-")


def sender_id_key(sender_id: str, iso_country_code: str) -> str:
    """A sender id's resource id: the same sender id may be requested in several countries."""
    return f"{sender_id}:{iso_country_code}"


def arn_target(value: str) -> tuple[str, str, str, str] | None:
    """(region, account id, resource type, resource id) of an `sms-voice` ARN, or None when `value`
    is not one. A sender id's ARN may end in `SenderId:CC` or `SenderId/CC`."""
    found = _ARN.fullmatch(value or "")
    if found is None:
        return None
    region, account_id, resource_type, resource_id = found.groups()
    if resource_type == SENDER_ID and "/" in resource_id:
        resource_id = resource_id.replace("/", ":", 1)
    return region, account_id, resource_type, resource_id


# --- names and rules ----------------------------------------------------------------------------

def check_name(value: str, field: str, what: str) -> str:
    """The rule for opt-out list, configuration set and event destination names."""
    if not _NAME.fullmatch(value or ""):
        raise invalid(f"Invalid {what} name {value!r}: use 1 to 64 letters, digits, underscores or hyphens",
                      "FIELD_VALIDATION_FAILED", field)
    return value


def check_country(value: str, field: str = "IsoCountryCode") -> str:
    """An ISO 3166-1 alpha-2 code that the phone number metadata knows."""
    if not _COUNTRY.fullmatch(value or "") or value not in phonenumbers.SUPPORTED_REGIONS:
        raise invalid(f"{value!r} is not a supported ISO 3166-1 alpha-2 country code", "FIELD_VALIDATION_FAILED",
                      field)
    return value


def check_sender_id(value: str) -> str:
    """1 to 11 of [A-Za-z0-9_-], at least one letter, not starting or ending with a hyphen."""
    if not _SENDER_ID.fullmatch(value or "") or not any(c.isalpha() for c in value) \
            or value.startswith("-") or value.endswith("-"):
        raise invalid(f"Invalid sender id {value!r}: use 1 to 11 letters, digits, underscores or hyphens, with at "
                      "least one letter and no hyphen first or last", "FIELD_VALIDATION_FAILED", "SenderId")
    return value


def parse_e164(value: str, field: str = "PhoneNumber") -> str:
    """The number in E.164 with its "+", if it is a valid number; ValidationException otherwise."""
    text = (value or "").strip()
    if not re.fullmatch(r"\+?[1-9][0-9]{1,18}", text):
        raise invalid(f"{value!r} is not a phone number in E.164 format", "INVALID_PARAMETER", field)
    try:
        number = phonenumbers.parse(text if text.startswith("+") else "+" + text, None)
    except phonenumbers.NumberParseException:
        raise invalid(f"{value!r} cannot be parsed as a phone number", "CANNOT_PARSE", field) from None
    if not phonenumbers.is_valid_number(number):
        raise invalid(f"{value!r} is not a valid phone number", "INVALID_PARAMETER", field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def looks_like_number(value: str) -> bool:
    """True when `value` is written as a phone number (digits, with or without "+") rather than an id."""
    return bool(re.fullmatch(r"\+?[1-9][0-9]{1,18}", value or ""))


def country_of(number: str) -> str | None:
    """The ISO country of an E.164 number, or None when it has none (or cannot be parsed)."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return None


# --- Describe* calls: filters and next tokens ------------------------------------------------------

def filter_values(document: dict, member: str) -> list[str]:
    """A document member as the strings a filter compares with (booleans as "true"/"false")."""
    value = document.get(member)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]


def filter_predicate(filters: list[dict] | None, members: dict[str, str], booleans: frozenset[str] = frozenset()):
    """A test of one document against Filters [{Name, Values}]: every filter must match one of its
    values; `members` maps a filter name to the document member it reads."""
    wanted: list[tuple[str, set[str]]] = []
    for item in filters or []:
        name, values = item.get("Name"), item.get("Values") or []
        if name not in members:
            raise invalid(f"Unknown filter {name!r}; use one of {', '.join(members)}", "INVALID_FILTER_VALUES")
        if name in booleans:
            values = [str(v).lower() for v in values]
            if not set(values) <= {"true", "false"}:
                raise invalid(f"Filter {name} takes true or false", "INVALID_FILTER_VALUES")
        wanted.append((members[name], set(values)))

    def keep(document: dict) -> bool:
        return all(values & set(filter_values(document, member)) for member, values in wanted)

    return keep

