"""Endpoint rules with no I/O: how an update merges into a stored endpoint, and Pinpoint's limits."""

from __future__ import annotations

from pinfold.core.errors import InvalidInput, LimitExceeded
from pinfold.core.ids import cohort_id

MAX_CUSTOM_ATTRIBUTES = 250  # across Attributes, Metrics and User.UserAttributes
MAX_ATTRIBUTE_NAME = 50
MAX_ATTRIBUTE_VALUE = 100
MAX_VALUES_PER_ATTRIBUTE = 50
MAX_BATCH_ITEMS = 100  # UpdateEndpointsBatch
MAX_EVENTS_PER_REQUEST = 100  # PutEvents

_REPLACED = ("Address", "ChannelType", "EffectiveDate", "EndpointStatus", "OptOut", "RequestId")
_MERGED_BY_FIELD = ("Demographic", "Location")
_MERGED_BY_KEY = ("Attributes", "Metrics")


def merge(existing: dict | None, update: dict, *, endpoint_id: str, now: str, request_id: str) -> dict:
    """The endpoint after applying `update` (an EndpointRequest) to `existing` (None: a new one).

    Scalars given replace the stored ones; Demographic and Location merge field by field;
    Attributes, Metrics and User.UserAttributes merge name by name, as Pinpoint does.
    """
    doc = _copy(existing) if existing else {"Id": endpoint_id, "CreationDate": now}
    for name in _REPLACED:
        if update.get(name) is not None:
            doc[name] = update[name]
    for name in _MERGED_BY_FIELD + _MERGED_BY_KEY:
        if update.get(name):
            doc[name] = {**doc.get(name, {}), **update[name]}
    if update.get("User"):
        _merge_user(doc, update["User"])
    doc["Id"] = endpoint_id
    doc["CohortId"] = cohort_id(endpoint_id)
    doc.setdefault("EndpointStatus", "ACTIVE")
    doc.setdefault("OptOut", "NONE")
    if update.get("EffectiveDate") is None:
        doc["EffectiveDate"] = now
    if update.get("RequestId") is None:
        doc["RequestId"] = request_id
    check(doc)
    return doc


def _merge_user(doc: dict, user: dict) -> None:
    stored = doc.setdefault("User", {})
    if user.get("UserId") is not None:
        stored["UserId"] = user["UserId"]
    if user.get("UserAttributes"):
        stored["UserAttributes"] = {**stored.get("UserAttributes", {}), **user["UserAttributes"]}


def _copy(doc: dict) -> dict:
    copied = dict(doc)
    for name in _MERGED_BY_FIELD + _MERGED_BY_KEY:
        if name in copied:
            copied[name] = dict(copied[name])
    if "User" in copied:
        copied["User"] = dict(copied["User"])
        if "UserAttributes" in copied["User"]:
            copied["User"]["UserAttributes"] = dict(copied["User"]["UserAttributes"])
    return copied


def check(doc: dict) -> None:
    """Raise if the endpoint breaks one of Pinpoint's documented limits or is incoherent."""
    if doc.get("Address") is not None and not doc.get("ChannelType"):
        raise InvalidInput("ChannelType is required when an endpoint has an Address", field="ChannelType")
    user_attributes = doc.get("User", {}).get("UserAttributes", {})
    count = len(doc.get("Attributes", {})) + len(doc.get("Metrics", {})) + len(user_attributes)
    if count > MAX_CUSTOM_ATTRIBUTES:
        raise LimitExceeded(
            f"Custom attribute limit exceeded: an endpoint can have at most {MAX_CUSTOM_ATTRIBUTES} "
            f"custom attributes across Attributes, Metrics and UserAttributes; this one would have {count}"
        )
    # Checked inline, failing over to the helpers for the message: this runs for every endpoint written.
    for group, values in (("Attributes", doc.get("Attributes", {})), ("UserAttributes", user_attributes)):
        for name, items in values.items():
            if not 0 < len(name) <= MAX_ATTRIBUTE_NAME:
                _name_too_long(group, name)
            if len(items) > MAX_VALUES_PER_ATTRIBUTE:
                _values_too_many_or_long(group, name, items)
            for item in items:
                if len(item) > MAX_ATTRIBUTE_VALUE:
                    _values_too_many_or_long(group, name, items)
    for name in doc.get("Metrics", {}):
        if not 0 < len(name) <= MAX_ATTRIBUTE_NAME:
            _name_too_long("Metrics", name)


def _name_too_long(group: str, name: str) -> None:
    raise LimitExceeded(
        f"Attribute name length limit exceeded: {group} name {name[:60]!r} must be 1 to "
        f"{MAX_ATTRIBUTE_NAME} characters", field=f"{group}.{name[:60]}",
    )


def _values_too_many_or_long(group: str, name: str, items: list[str]) -> None:
    if len(items) > MAX_VALUES_PER_ATTRIBUTE:
        raise LimitExceeded(
            f"Attribute values limit exceeded: {group}.{name} has {len(items)} values; "
            f"at most {MAX_VALUES_PER_ATTRIBUTE} are allowed", field=f"{group}.{name}",
        )
    longest = max(map(len, items))
    raise LimitExceeded(
        f"Attribute value length limit exceeded: a value of {group}.{name} is {longest} "
        f"characters; at most {MAX_ATTRIBUTE_VALUE} are allowed", field=f"{group}.{name}",
    )


def check_batch_size(count: int, *, what: str, limit: int) -> None:
    if count > limit:
        raise LimitExceeded(f"{what} limit exceeded: {count} given; at most {limit} are allowed per request")


ATTRIBUTE_TYPES = {
    "endpoint-custom-attributes": "Attributes",
    "endpoint-metric-attributes": "Metrics",
    "endpoint-user-attributes": "UserAttributes",
}


def remove_attributes(doc: dict, attribute_type: str, names: list[str]) -> bool:
    """Drop `names` from the group that RemoveAttributes' `attribute-type` names; True if changed."""
    group = ATTRIBUTE_TYPES[attribute_type]
    holder = doc.get("User", {}) if group == "UserAttributes" else doc
    values = holder.get(group)
    if not values or not any(name in values for name in names):
        return False
    holder[group] = {key: value for key, value in values.items() if key not in names}
    return True
