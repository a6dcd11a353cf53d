"""SES v2 configuration sets and their event destinations.

Who may do what: callers that reach their whole account (organization and account scopes, ma-mp
tenants in their member account) administer its configuration sets; callers confined to one project
(project scope, sa-sp and sa-mp tenants) may only read the sets associated with their SES tenant.

Each AWS event destination type maps to a Pinfold sink (`sink`, `target` in `get()`):

- KinesisFirehoseDestination (DeliveryStreamArn) -> "lake": Parquet at the delivery stream's
  location (Settings.firehose_location of the stream name, as event streams do).
- SnsDestination (TopicArn) -> "nats": the NATS JetStream stream named after the topic ('.' -> '_').
- EventBridgeDestination (EventBusArn) -> "webhook": target is the bus ARN; the HTTPS URL and its
  signing secret come from the operator's mapping (`pinfold webhooks set`), looked up at delivery so
  an operator can move a webhook without touching tenants' sets. A bus must be mapped before use.
- PinpointDestination (ApplicationArn) -> "pinpoint": target is the project id; records go to that
  project's event stream (and the lake with it).
- CloudWatchDestination -> "none": accepted and stored, but Pinfold has no CloudWatch metrics sink.

Destination ARNs must belong to the caller's account, so one account cannot feed another's sinks.
"""

from __future__ import annotations

import re

from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller
from pinfold.core.arns import parse_arn
from pinfold.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from pinfold.core.paging import after_key, limit_of, page_of
from pinfold.db.database import lock_keys
from pinfold.email.access import check_can_administer, visible_arns, visible_row
from pinfold.email.store import configuration_sets as store
from pinfold.email.store import tenants as ses_tenants
from pinfold.email.tenants import tag_list, tags_of
from pinfold.events.destinations import destination
from pinfold.events.sinks.nats import stream_name
from pinfold.projects import projects as project_service
from pinfold.projects import store as tag_store

MAX_CONFIGURATION_SETS = 10_000  # per account and region, as SES counts them
MAX_EVENT_DESTINATIONS = 10  # per configuration set
EVENT_TYPES = ("SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK", "RENDERING_FAILURE",
               "DELIVERY_DELAY", "SUBSCRIPTION")
DESTINATION_TYPES = ("KinesisFirehoseDestination", "CloudWatchDestination", "SnsDestination",
                     "EventBridgeDestination", "PinpointDestination")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DOMAIN = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,256}(\.fifo)?")
_OPTION_MEMBERS = ("VdmOptions", "ArchivingOptions", "MessageSecurityOptions")


# --- access -----------------------------------------------------------------------------------

def check_name(value: str, field: str, what: str) -> str:
    """SES's rule for configuration set, event destination and template names."""
    if not _NAME.fullmatch(value or ""):
        raise InvalidInput(f"Invalid {what} name {value!r}: use 1 to 64 ASCII letters, digits, underscores (_) "
                           "or hyphens (-)", field=field)
    return value


def _require(conn, caller: Caller, name: str) -> dict:
    return visible_row(conn, caller, store, name, f"Configuration set {name} does not exist.")


def _administer(conn, caller: Caller, name: str) -> dict:
    found = _require(conn, caller, name)
    check_can_administer(caller, "configuration sets")
    return found


# --- options ----------------------------------------------------------------------------------

def _tracking(options: dict | None) -> dict | None:
    if not options or not options.get("CustomRedirectDomain"):
        return None
    domain = options["CustomRedirectDomain"]
    if not _DOMAIN.fullmatch(domain):
        raise InvalidInput(f"CustomRedirectDomain {domain!r} is not a domain name", field="CustomRedirectDomain")
    return {"CustomRedirectDomain": domain.lower(), "HttpsPolicy": options.get("HttpsPolicy") or "OPTIONAL"}


def _delivery(options: dict | None) -> dict:
    options = options or {}
    result = {"TlsPolicy": options.get("TlsPolicy") or "OPTIONAL"}
    pool = options.get("SendingPoolName")
    if pool:
        result["SendingPoolName"] = check_name(pool, "SendingPoolName", "sending pool")
    seconds = options.get("MaxDeliverySeconds")
    if seconds is not None:
        if not 300 <= seconds <= 50400:
            raise InvalidInput("MaxDeliverySeconds must be between 300 and 50400", field="MaxDeliverySeconds")
        result["MaxDeliverySeconds"] = seconds
    if options.get("SharedPoolDeliveryMode"):
        result["SharedPoolDeliveryMode"] = options["SharedPoolDeliveryMode"]
    return result


def _suppression(options: dict | None) -> dict | None:
    """SES's three modes: None (account settings), [] (no suppression), or the set's own reasons."""
    if options is None:
        return None
    result = {key: options[key] for key in ("SuppressionScope", "ValidationOptions") if options.get(key)}
    if options.get("SuppressedReasons") is not None:
        result["SuppressedReasons"] = sorted(set(options["SuppressedReasons"]))
    return result or None


def _options(request: dict) -> dict:
    reputation = request.get("ReputationOptions") or {}
    options = {"DeliveryOptions": _delivery(request.get("DeliveryOptions")),
               "ReputationOptions": {"ReputationMetricsEnabled": bool(reputation.get("ReputationMetricsEnabled"))}}
    tracking = _tracking(request.get("TrackingOptions"))
    if tracking:
        options["TrackingOptions"] = tracking
    options.update({member: request[member] for member in _OPTION_MEMBERS if request.get(member)})
    return options


def _response(conn, row: dict) -> dict:
    name, options = row["name"], row["options"]
    result = {"ConfigurationSetName": name, "SendingOptions": {"SendingEnabled": row["sending_enabled"]},
              "Tags": tag_list(tag_store.get_tags(conn, store.arn(row["account_id"], row["region"], name)))}
    for member in ("TrackingOptions", "DeliveryOptions", "ReputationOptions", *_OPTION_MEMBERS):
        if options.get(member):
            result[member] = options[member]
    if row["suppression"] is not None:
        result["SuppressionOptions"] = row["suppression"]
    return result


# --- configuration sets -----------------------------------------------------------------------

def create(ctx: Context, caller: Caller, request: dict) -> None:
    check_can_administer(caller, "configuration sets")
    name = check_name(request["ConfigurationSetName"], "ConfigurationSetName", "configuration set")
    tags = tags_of(request)
    sending = request.get("SendingOptions") or {}
    row = {"account_id": caller.account_id, "region": caller.region, "name": name,
           "sending_enabled": sending.get("SendingEnabled", True) is not False,
           "suppression": _suppression(request.get("SuppressionOptions")), "options": _options(request),
           "created_at": ids.iso_now()}
    with ctx.db.write() as conn:
        lock_keys(conn, "configuration-sets", [f"{caller.account_id}/{caller.region}"])
        if store.row(conn, caller.account_id, caller.region, name) is not None:
            raise Conflict(f"Configuration set {name} already exists.")
        if store.count(conn, caller.account_id, caller.region) >= MAX_CONFIGURATION_SETS:
            raise LimitExceeded(f"Maximum number of configuration sets ({MAX_CONFIGURATION_SETS}) reached for "
                                "this account in this region")
        store.insert(conn, row)
        tag_store.put_tags(conn, store.arn(caller.account_id, caller.region, name), tags)


def get(ctx: Context, caller: Caller, name: str) -> dict:
    with ctx.db.read() as conn:
        return _response(conn, _require(conn, caller, name))


def list_page(ctx: Context, caller: Caller, size: int | None, token: str | None,
              filters: dict | None = None) -> dict:
    """A page of names; the filter CONFIGURATION_SET_NAME_CONTAINS keeps names holding a substring."""
    limit, after = limit_of(size), after_key(token, "configuration-sets")
    contains = (filters or {}).get("CONFIGURATION_SET_NAME_CONTAINS")
    with ctx.db.read() as conn:
        visible = visible_arns(conn, caller)
        only = None
        if visible is not None:
            prefix = store.arn(caller.account_id, caller.region, "")
            only = {arn[len(prefix):] for arn in visible if arn.startswith(prefix)}
        names = store.names_page(conn, caller.account_id, caller.region, after=after, limit=limit + 1, only=only,
                                 contains=contains)
    names, token = page_of(names, limit, "configuration-sets", str)
    return {"ConfigurationSets": names, **({"NextToken": token} if token else {})}


def delete(ctx: Context, caller: Caller, name: str) -> None:
    with ctx.db.write() as conn:
        _administer(conn, caller, name)
        arn = store.arn(caller.account_id, caller.region, name)
        ses_tenants.refuse_if_associated(conn, caller.account_id, caller.region, arn, f"Configuration set {name}")
        store.delete(conn, caller.account_id, caller.region, name)
        tag_store.delete_tags(conn, arn)


def _put_options(ctx: Context, caller: Caller, name: str, member: str, value: dict | None) -> None:
    with ctx.db.write() as conn:
        row = _administer(conn, caller, name)
        options = {key: item for key, item in row["options"].items() if key != member}
        if value:
            options[member] = value
        store.update(conn, caller.account_id, caller.region, name, options=options)


def put_tracking(ctx: Context, caller: Caller, name: str, request: dict) -> None:
    """Set the custom redirect domain for open and click tracking; no domain removes it."""
    _put_options(ctx, caller, name, "TrackingOptions", _tracking(request))


def put_delivery(ctx: Context, caller: Caller, name: str, request: dict) -> None:
    _put_options(ctx, caller, name, "DeliveryOptions", _delivery(request))


def put_vdm(ctx: Context, caller: Caller, name: str, request: dict) -> None:
    _put_options(ctx, caller, name, "VdmOptions", request.get("VdmOptions"))


def put_reputation(ctx: Context, caller: Caller, name: str, request: dict) -> None:
    with ctx.db.write() as conn:
        options = dict(_administer(conn, caller, name)["options"])
        reputation = dict(options.get("ReputationOptions") or {})
        reputation["ReputationMetricsEnabled"] = bool(request.get("ReputationMetricsEnabled"))
        options["ReputationOptions"] = reputation
        store.update(conn, caller.account_id, caller.region, name, options=options)


def put_sending(ctx: Context, caller: Caller, name: str, request: dict) -> None:
    """Pause or resume sending; resuming a paused set gives its reputation metrics a fresh start."""
    enabled = bool(request.get("SendingEnabled"))
    with ctx.db.write() as conn:
        row = _administer(conn, caller, name)
        values: dict = {"sending_enabled": enabled}
        if enabled and not row["sending_enabled"]:
            options = dict(row["options"])
            options["ReputationOptions"] = {**(options.get("ReputationOptions") or {}),
                                            "LastFreshStart": ids.iso_now()}
            values["options"] = options
        store.update(conn, caller.account_id, caller.region, name, **values)


def put_suppression(ctx: Context, caller: Caller, name: str, request: dict) -> None:
    """No SuppressedReasons: the account's settings apply again; a list (even empty) overrides them."""
    with ctx.db.write() as conn:
        _administer(conn, caller, name)
        store.update(conn, caller.account_id, caller.region, name, suppression=_suppression(request))


# --- event destinations -----------------------------------------------------------------------

def _owned_arn(caller: Caller, text: str, service: str, field: str):
    """Parse an ARN of `service` that must belong to the caller's account."""
    arn = parse_arn(text or "", field)
    if arn.service != service:
        raise InvalidInput(f"{field} must be an arn:aws:{service}:... ARN", field=field)
    if arn.account_id != caller.account_id:
        raise InvalidInput(f"{field} must belong to account {caller.account_id}", field=field)
    return arn


def _sink(ctx: Context, conn, caller: Caller, definition: dict) -> tuple[str, dict, str, str]:
    """(destination member, its body, sink, target) for the one destination a definition names."""
    given = [member for member in DESTINATION_TYPES if definition.get(member) is not None]
    if len(given) != 1:
        raise InvalidInput(f"Provide exactly one destination: one of {', '.join(DESTINATION_TYPES)}",
                           field="EventDestination")
    member = given[0]
    body = definition[member]
    if member == "KinesisFirehoseDestination":
        _owned_arn(caller, body.get("DeliveryStreamArn"), "firehose", "DeliveryStreamArn")
        try:
            stream = destination(body["DeliveryStreamArn"])
        except InvalidInput:
            raise InvalidInput("DeliveryStreamArn must name a Firehose delivery stream",
                               field="DeliveryStreamArn") from None
        return member, body, "lake", ctx.settings.firehose_location(stream.name)
    if member == "SnsDestination":
        topic = _owned_arn(caller, body.get("TopicArn"), "sns", "TopicArn").resource
        if not _TOPIC.fullmatch(topic):
            raise InvalidInput("TopicArn must name an SNS topic", field="TopicArn")
        return member, body, "nats", stream_name(topic)
    if member == "EventBridgeDestination":
        bus = _owned_arn(caller, body.get("EventBusArn"), "events", "EventBusArn")
        if bus.resource_type != "event-bus" or store.webhook(conn, str(bus)) is None:
            raise InvalidInput(f"No webhook is configured for event bus {body.get('EventBusArn')}; an operator "
                               "maps buses to webhooks with `pinfold webhooks set`", field="EventBusArn")
        return member, body, "webhook", str(bus)
    if member == "PinpointDestination":
        app = _owned_arn(caller, body.get("ApplicationArn"), "mobiletargeting", "ApplicationArn")
        try:
            project_service.require(conn, caller, app.resource_id)
        except NotFound:
            raise InvalidInput(f"ApplicationArn {body.get('ApplicationArn')} names no project of this account "
                               "and region", field="ApplicationArn") from None
        return member, body, "pinpoint", app.resource_id
    return member, body, "none", ""


def _event_types(definition: dict) -> list[str]:
    types = definition.get("MatchingEventTypes") or []
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(f"Unknown event type(s) {', '.join(unknown)}; use {', '.join(EVENT_TYPES)}",
                           field="MatchingEventTypes")
    if not types:
        raise InvalidInput("MatchingEventTypes must name at least one event type", field="MatchingEventTypes")
    return [kind for kind in EVENT_TYPES if kind in types]


def _put_destination(ctx: Context, caller: Caller, name: str, destination_name: str, definition: dict, *,
                     creating: bool) -> None:
    check_name(destination_name, "EventDestinationName", "event destination")
    types = _event_types(definition)
    with ctx.db.write() as conn:
        _administer(conn, caller, name)
        existing = {row["name"]: row for row in store.destinations(conn, caller.account_id, caller.region, name)}
        if creating and destination_name in existing:
            raise Conflict(f"Event destination {destination_name} already exists in configuration set {name}.")
        if not creating and destination_name not in existing:
            raise NotFound(f"Event destination {destination_name} does not exist in configuration set {name}.")
        if creating and len(existing) >= MAX_EVENT_DESTINATIONS:
            raise LimitExceeded(f"Maximum number of event destinations ({MAX_EVENT_DESTINATIONS}) reached for "
                                f"configuration set {name}")
        member, body, sink, target = _sink(ctx, conn, caller, definition)
        created = existing[destination_name]["created_at"] if destination_name in existing else ids.iso_now()
        store.put_destination(conn, {
            "account_id": caller.account_id, "region": caller.region, "configuration_set": name,
            "name": destination_name, "enabled": bool(definition.get("Enabled")), "matching_event_types": types,
            "definition": {member: body}, "sink": sink, "target": target, "created_at": created})


def create_destination(ctx: Context, caller: Caller, name: str, destination_name: str, definition: dict) -> None:
    _put_destination(ctx, caller, name, destination_name, definition, creating=True)


def update_destination(ctx: Context, caller: Caller, name: str, destination_name: str, definition: dict) -> None:
    """Replace a destination's definition (as SES does: members left out are not kept)."""
    _put_destination(ctx, caller, name, destination_name, definition, creating=False)


def get_destinations(ctx: Context, caller: Caller, name: str) -> list[dict]:
    with ctx.db.read() as conn:
        _require(conn, caller, name)
        rows = store.destinations(conn, caller.account_id, caller.region, name)
    return [{"Name": row["name"], "Enabled": row["enabled"], "MatchingEventTypes": row["matching_event_types"],
             **row["definition"]} for row in rows]


def delete_destination(ctx: Context, caller: Caller, name: str, destination_name: str) -> None:
    with ctx.db.write() as conn:
        _administer(conn, caller, name)
        if not store.delete_destination(conn, caller.account_id, caller.region, name, destination_name):
            raise NotFound(f"Event destination {destination_name} does not exist in configuration set {name}.")


# --- operator webhooks for EventBridge destinations ---------------------------------------------

def _webhook_url(url: str) -> str:
    """HTTPS, except to this machine (local development and tests)."""
    match = re.fullmatch(r"(https?)://(\[[^\]]+\]|[^/:?#]+)(:\d+)?([/?#].*)?", url or "")
    if match is None:
        raise InvalidInput(f"Not a URL: {url!r}", field="url")
    local = match[2].lower() in ("localhost", "127.0.0.1", "[::1]")
    if match[1] != "https" and not local:
        raise InvalidInput("Webhook URLs must use https:// (http:// only to localhost)", field="url")
    return url


def set_webhook(ctx: Context, caller: Caller, event_bus_arn: str, url: str, secret: str | None = None) -> dict:
    """Map an EventBridge bus ARN to a webhook (replacing any mapping); the secret signs deliveries."""
    caller.require_organization_admin()
    bus = parse_arn(event_bus_arn, "event_bus_arn")
    if bus.service != "events" or bus.resource_type != "event-bus" or not bus.resource_id:
        raise InvalidInput("Expected an event bus ARN: arn:aws:events:<region>:<account>:event-bus/<name>",
                           field="event_bus_arn")
    row = {"event_bus_arn": event_bus_arn, "url": _webhook_url(url),
           "secret_ciphertext": ctx.secrets.encrypt(secret) if secret else None,
           "updated_at": ids.iso_now(), "updated_by": caller.principal_id}
    with ctx.db.write() as conn:
        store.put_webhook(conn, row)
    return _webhook_view(row)


def _webhook_view(row: dict) -> dict:
    """A mapping as shown to people: never the secret, only whether there is one."""
    return {"event_bus_arn": row["event_bus_arn"], "url": row["url"], "signed": row["secret_ciphertext"] is not None,
            "updated_at": row["updated_at"]}


def list_webhooks(ctx: Context, caller: Caller) -> list[dict]:
    caller.require_organization_admin()
    with ctx.db.read() as conn:
        return [_webhook_view(row) for row in store.webhooks(conn)]


def remove_webhook(ctx: Context, caller: Caller, event_bus_arn: str) -> None:
    caller.require_organization_admin()
    with ctx.db.write() as conn:
        if not store.delete_webhook(conn, event_bus_arn):
            raise NotFound(f"No webhook is configured for event bus {event_bus_arn}")


def webhook_target(ctx: Context, event_bus_arn: str) -> tuple[str, str | None] | None:
    """For the event sink: (url, secret) of the webhook standing in for a bus, or None if unmapped."""
    with ctx.db.read() as conn:
        row = store.webhook(conn, event_bus_arn)
    if row is None:
        return None
    secret = ctx.secrets.decrypt(row["secret_ciphertext"]) if row["secret_ciphertext"] else None
    return row["url"], secret
