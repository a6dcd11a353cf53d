"""SMS configuration sets (CreateConfigurationSet ... SetDefaultMessageFeedbackEnabled) and their
event destinations, stored as ConfigurationSetInformation documents in `sms_resources`.

Where each event destination's records go is the sending side's business; this module stores and
checks them. The plan: a KinesisFirehoseDestination delivers to the lake at the delivery stream's
location (as Pinpoint event streams do), an SnsDestination to the NATS JetStream stream named after
the topic, and a CloudWatchLogsDestination is kept but delivers nowhere (Pinfold has no CloudWatch).
Every destination ARN must belong to the caller's account and region, so one account cannot feed
another's streams. Another tenant's set is absent to a confined caller (`access.visible`), in every
operation that names one and in DescribeConfigurationSets.
"""

from __future__ import annotations

import re
import time

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.arns import parse_arn, sms_arn
from pinfold.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from pinfold.db.database import lock_keys
from pinfold.sms import access, tags
from pinfold.sms.account import local_id, maximum, page, page_after, page_limit, require_admin
from pinfold.sms.rules.ids import invalid
from pinfold.sms.store import resources

KIND = "configuration-set"
MAX_EVENT_DESTINATIONS = 5  # per configuration set
# Each destination kind, the member naming its target, and the ARN service and resource type it must have.
DESTINATION_KINDS = {
    "KinesisFirehoseDestination": ("DeliveryStreamArn", "firehose", "deliverystream"),
    "SnsDestination": ("TopicArn", "sns", None),
    "CloudWatchLogsDestination": ("LogGroupArn", "logs", "log-group"),
}
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
FILTERS = ("event-destination-name", "matching-event-types", "default-message-type", "default-sender-id",
           "default-message-feedback-enabled", "protect-configuration-id")


def _missing(name: str) -> NotFound:
    return NotFound(f"Configuration set {name} does not exist", details={"ResourceType": KIND, "ResourceId": name})


def require(conn, caller: Caller, name_or_arn: str, scope: access.Scope | None = None) -> dict:
    """The row of a configuration set the caller may see, by name or ARN; NotFound otherwise. Give the
    caller's `scope` when it is known (None is an unconfined caller only when the caller is one)."""
    name = local_id(caller, name_or_arn, KIND)
    found = resources.get(conn, caller.account_id, caller.region, KIND, name)
    if found is not None and scope is None:
        scope = access.scope_of(conn, caller)
    if found is None or not access.visible(scope, found["document"]):
        raise _missing(name)
    return found


def _arn(caller: Caller, name: str) -> str:
    return sms_arn(caller.region, caller.account_id, KIND, name)


def information(caller: Caller, document: dict) -> dict:
    """ConfigurationSetInformation as the API answers it."""
    return {"ConfigurationSetArn": _arn(caller, document["ConfigurationSetName"]),
            **{key: value for key, value in document.items() if not key.startswith("_")}}


def _check_name(value: str, field: str) -> str:
    if not _NAME.fullmatch(value or ""):
        raise invalid(f"{field} must be 1 to 64 letters, digits, underscores or hyphens", field=field)
    return value


# --- configuration sets ----------------------------------------------------------------------------

def create(ctx: Context, caller: Caller, name: str, tag_list: list[dict] | None = None) -> dict:
    require_admin(caller, "create configuration sets")
    _check_name(name, "ConfigurationSetName")
    new_tags = tags.tag_map(tag_list)
    account, region = caller.account_id, caller.region
    with ctx.db.write() as conn:
        lock_keys(conn, "sms-configuration-sets", [f"{account}/{region}"])
        if resources.get(conn, account, region, KIND, name) is not None:
            raise Conflict(f"Configuration set {name} already exists",
                           details={"Reason": "RESOURCE_ALREADY_EXISTS", "ResourceType": KIND, "ResourceId": name})
        most = maximum(conn, account, region, "CONFIGURATION_SETS")
        if resources.count(conn, account, region, KIND) >= most:
            raise LimitExceeded(f"This account can have at most {most} configuration sets in a region",
                                details={"Reason": "CONFIGURATION_SETS_PER_ACCOUNT"})
        document = {"ConfigurationSetName": name, "EventDestinations": [], "CreatedTimestamp": time.time()}
        resources.insert(conn, account, region, KIND, name, name, document)
        return {"ConfigurationSetArn": _arn(caller, name), "ConfigurationSetName": name,
                "Tags": tags.attach(conn, _arn(caller, name), new_tags),
                "CreatedTimestamp": document["CreatedTimestamp"]}


def describe(ctx: Context, caller: Caller, names: list[str] | None = None, filters: list[dict] | None = None,
             max_results: int | None = None, token: str | None = None) -> dict:
    """Sets in name order that pass every filter (a filter passes when any of its values matches)."""
    limit, after = page_limit(max_results), page_after(token, "sms-configuration-sets")
    for item in filters or []:
        if item["Name"] not in FILTERS:
            raise invalid(f"Unknown filter {item['Name']!r}", "INVALID_FILTER_VALUES", "Filters")
    with ctx.db.read() as conn:
        scope = access.scope_of(conn, caller)
        if names:
            named = (require(conn, caller, name, scope) for name in names)
            rows = sorted({row["id"]: row for row in named}.values(), key=lambda row: row["id"])
            rows = [row for row in rows if after is None or row["id"] > after]
        else:  # bounded by the account's quota of sets
            rows = [row for row in resources.listing(conn, caller.account_id, caller.region, KIND, after=after)
                    if access.visible(scope, row["document"])]
    rows = [row for row in rows if all(_passes(row["document"], item) for item in filters or [])][:limit + 1]
    return page(rows, limit, "sms-configuration-sets", lambda row: row["id"], "ConfigurationSets",
                lambda row: information(caller, row["document"]))


def _passes(document: dict, item: dict) -> bool:
    values, destinations = set(item["Values"]), document.get("EventDestinations", [])
    match item["Name"]:
        case "event-destination-name":
            return any(found["EventDestinationName"] in values for found in destinations)
        case "matching-event-types":
            return any(values & set(found["MatchingEventTypes"]) for found in destinations)
        case "default-message-type":
            return document.get("DefaultMessageType") in values
        case "default-sender-id":
            return document.get("DefaultSenderId") in values
        case "default-message-feedback-enabled":
            return str(bool(document.get("DefaultMessageFeedbackEnabled"))).lower() in {v.lower() for v in values}
    return False  # protect-configuration-id: Pinfold has no protect configurations


def delete(ctx: Context, caller: Caller, name_or_arn: str) -> dict:
    """Delete the set and its destinations; answers the set as it was."""
    require_admin(caller, "delete configuration sets")
    with ctx.db.write() as conn:
        row = require(conn, caller, name_or_arn)
        resources.delete(conn, caller.account_id, caller.region, KIND, row["id"])
        tags.detach_all(conn, _arn(caller, row["id"]))
    return information(caller, row["document"])


def _change(ctx: Context, caller: Caller, name_or_arn: str, what: str, change) -> tuple[dict, dict]:
    """Apply `change(document)` to the set under the write lock; the document before and after."""
    require_admin(caller, f"change configuration sets ({what})")
    with ctx.db.write() as conn:
        row = require(conn, caller, name_or_arn)
        before = row["document"]
        after = change({**before, "EventDestinations": [dict(item) for item in before.get("EventDestinations", [])]})
        resources.update(conn, caller.account_id, caller.region, KIND, row["id"], document=after)
    return before, after


def _default_setter(member: str, answer_as: str):
    """Set* and Delete* for one default (`member` in the document, `answer_as` in the response)."""
    def set_default(ctx: Context, caller: Caller, name_or_arn: str, value) -> dict:
        _before, after = _change(ctx, caller, name_or_arn, member, lambda document: {**document, member: value})
        return {"ConfigurationSetArn": _arn(caller, after["ConfigurationSetName"]),
                "ConfigurationSetName": after["ConfigurationSetName"], answer_as: value}

    def delete_default(ctx: Context, caller: Caller, name_or_arn: str) -> dict:
        before, after = _change(ctx, caller, name_or_arn, member,
                                lambda document: {k: v for k, v in document.items() if k != member})
        result = {"ConfigurationSetArn": _arn(caller, after["ConfigurationSetName"]),
                  "ConfigurationSetName": after["ConfigurationSetName"]}
        return {**result, answer_as: before[member]} if member in before else result
    return set_default, delete_default


set_default_sender_id, delete_default_sender_id = _default_setter("DefaultSenderId", "SenderId")
set_default_message_type, delete_default_message_type = _default_setter("DefaultMessageType", "MessageType")
set_default_message_feedback, _ = _default_setter("DefaultMessageFeedbackEnabled", "MessageFeedbackEnabled")


# --- event destinations ----------------------------------------------------------------------------

def _event_types(values: list[str]) -> list[str]:
    if not values:
        raise invalid("MatchingEventTypes needs at least one event type", "MISSING_PARAMETER", "MatchingEventTypes")
    if "TEXT_SENT" in values:
        raise invalid("The TEXT_SENT event type is not supported for event destinations", field="MatchingEventTypes")
    return sorted(set(values))


def _target(caller: Caller, request: dict) -> tuple[str, dict] | None:
    """The one destination kind the request gives (checked), or None when it gives none."""
    given = [kind for kind in DESTINATION_KINDS if request.get(kind)]
    if len(given) > 1:
        raise invalid(f"Give exactly one destination; this request gives {', '.join(given)}",
                      "PARAMETERS_CANNOT_BE_USED_TOGETHER", given[1])
    if not given:
        return None
    kind = given[0]
    member, service, resource_type = DESTINATION_KINDS[kind]
    definition = dict(request[kind])
    try:
        arn = parse_arn(definition.get(member) or "", field=member)
    except InvalidInput:
        raise invalid(f"{kind}.{member} is not an ARN", "INVALID_ARN", member) from None
    # A resource is "type/name", or "type:name" as CloudWatch Logs writes its log groups.
    given_type = arn.resource.replace(":", "/", 1).split("/", 1)[0]
    if (arn.service, arn.region, arn.account_id) != (service, caller.region, caller.account_id) or (
            resource_type is not None and given_type != resource_type):
        raise invalid(f"{kind}.{member} must be a {service} ARN of this account and region "
                      f"({caller.account_id}, {caller.region})", "INVALID_ARN", member)
    return kind, definition


def _find(document: dict, destination_name: str) -> int:
    for index, found in enumerate(document["EventDestinations"]):
        if found["EventDestinationName"] == destination_name:
            return index
    raise NotFound(f"Event destination {destination_name} does not exist in configuration set "
                   f"{document['ConfigurationSetName']}",
                   details={"ResourceType": "event-destination", "ResourceId": destination_name})


def _destination_answer(caller: Caller, document: dict, destination: dict) -> dict:
    return {"ConfigurationSetArn": _arn(caller, document["ConfigurationSetName"]),
            "ConfigurationSetName": document["ConfigurationSetName"], "EventDestination": destination}


def create_destination(ctx: Context, caller: Caller, name_or_arn: str, destination_name: str,
                       request: dict) -> dict:
    """`request` holds MatchingEventTypes and exactly one destination kind; the destination starts enabled."""
    _check_name(destination_name, "EventDestinationName")
    types, target = _event_types(request.get("MatchingEventTypes") or []), _target(caller, request)
    if target is None:
        raise invalid("Give one of " + ", ".join(DESTINATION_KINDS), "MISSING_PARAMETER", "EventDestination")
    destination = {"EventDestinationName": destination_name, "Enabled": True, "MatchingEventTypes": types,
                   target[0]: target[1]}

    def add(document: dict) -> dict:
        names = [found["EventDestinationName"] for found in document["EventDestinations"]]
        if destination_name in names:
            raise Conflict(f"Event destination {destination_name} already exists",
                           details={"Reason": "RESOURCE_ALREADY_EXISTS", "ResourceType": "event-destination",
                                    "ResourceId": destination_name})
        if len(names) >= MAX_EVENT_DESTINATIONS:
            raise LimitExceeded(f"A configuration set can have at most {MAX_EVENT_DESTINATIONS} event destinations",
                                details={"Reason": "EVENT_DESTINATIONS_PER_CONFIGURATION_SET"})
        document["EventDestinations"].append(destination)
        return document
    _before, after = _change(ctx, caller, name_or_arn, "event destinations", add)
    return _destination_answer(caller, after, destination)


def update_destination(ctx: Context, caller: Caller, name_or_arn: str, destination_name: str,
                       request: dict) -> dict:
    """Change what the request gives (Enabled, MatchingEventTypes, the destination kind); keep the rest."""
    types = _event_types(request["MatchingEventTypes"]) if request.get("MatchingEventTypes") is not None else None
    target = _target(caller, request)

    def replace(document: dict) -> dict:
        index = _find(document, destination_name)
        destination = dict(document["EventDestinations"][index])
        if request.get("Enabled") is not None:
            destination["Enabled"] = bool(request["Enabled"])
        if types is not None:
            destination["MatchingEventTypes"] = types
        if target is not None:
            destination = {key: value for key, value in destination.items() if key not in DESTINATION_KINDS}
            destination[target[0]] = target[1]
        document["EventDestinations"][index] = destination
        return document
    _before, after = _change(ctx, caller, name_or_arn, "event destinations", replace)
    return _destination_answer(caller, after, after["EventDestinations"][_find(after, destination_name)])


def delete_destination(ctx: Context, caller: Caller, name_or_arn: str, destination_name: str) -> dict:
    removed: list[dict] = []

    def remove(document: dict) -> dict:
        removed.append(document["EventDestinations"].pop(_find(document, destination_name)))
        return document
    _before, after = _change(ctx, caller, name_or_arn, "event destinations", remove)
    return _destination_answer(caller, after, removed[0])
