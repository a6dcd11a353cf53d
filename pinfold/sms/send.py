"""SendTextMessage (End User Messaging SMS): check the request, choose the origination identity,
refuse what AWS refuses at once (an opted-out destination, an unverified one in the sandbox, a price
over MaxPrice or the monthly spend limit), then queue the message and charge its price in one
transaction. The response is its MessageId; delivery and the event records follow from the SMS
sending workers (channel.py). A DryRun is checked the same way and neither queued nor charged.

Callers confined to one project share their account's numbers, pools and opt-out lists, and may send
through them, less what `access.py` keeps for tenants: a tenant with its own pool and configuration
set sends only through those (and through them when it names none), and another tenant's look absent.
Reasons for refusals where AWS names one but not when it applies (Pinfold's reading): an identity
that cannot reach the destination's country is a ValidationException
INVALID_IDENTITY_FOR_DESTINATION_COUNTRY, a number that is not ACTIVE a ConflictException
RESOURCE_NOT_ACTIVE, a body over the maximum (rules/encoding.py) a ValidationException
MAXIMUM_SIZE_EXCEEDED.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from pinfold.context import Context
from pinfold.core import metrics
from pinfold.core.access import Caller
from pinfold.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from pinfold.core.ids import new_uuid
from pinfold.db.database import after_commit
from pinfold.sending.queue import activity_of
from pinfold.sms import access, checks
from pinfold.sms.rules import encoding, ids, prices, routing, simulator
from pinfold.sms.store import messages, opt_outs, resources, spend

DEFAULT_TIME_TO_LIVE = 259_200  # 72 hours, as at AWS
MIN_TIME_TO_LIVE = 5
MAX_CONTEXT = 5
DEFAULT_OPT_OUT_LIST = "Default"
_MAX_PRICE = re.compile(r"[0-9]{0,2}\.[0-9]{1,5}")
_MESSAGE_TYPES = ("TRANSACTIONAL", "PROMOTIONAL")
_CONFLICTS = {"RESOURCE_NOT_ACTIVE"}  # reasons routing gives that are ConflictExceptions, not validation


@dataclass(frozen=True)
class Route:
    """The identity a message leaves from, the opt-out list that guards it, and the pool it went through."""

    identity: routing.Identity
    opt_out_list: str
    pool_id: str | None = None


def send_text_message(ctx: Context, caller: Caller, request: dict) -> dict:
    destination = destination_of(request.get("DestinationPhoneNumber"))
    body = _body(request.get("MessageBody"))
    encoded = encoding.encode(body)
    if encoded.too_long:
        raise ids.invalid(f"The message takes {encoded.units} {encoded.encoding} characters; at most "
                          f"{encoding.MAX_UNITS[encoded.encoding]} can be sent", "MAXIMUM_SIZE_EXCEEDED", "MessageBody")
    message_type = _message_type(request.get("MessageType"))
    ttl = _time_to_live(request.get("TimeToLive"))
    max_price = _max_price(request.get("MaxPrice"))
    context = _context(request.get("Context"))
    now = time.time()
    with ctx.db.write() as conn:
        configuration_set = _configuration_set(conn, caller, request.get("ConfigurationSetName"))
        message_type = message_type or (configuration_set or {}).get("DefaultMessageType")
        route = choose_route(conn, caller, request.get("OriginationIdentity"), destination, message_type=message_type,
                             default_sender_id=(configuration_set or {}).get("DefaultSenderId"))
        check_opted_out(conn, caller, route.opt_out_list, destination.number)
        _check_sandbox(conn, caller, destination)
        _check_price(conn, caller, prices.price_of(destination.country, len(encoded.parts)), max_price, now=now)
        if request.get("DryRun"):
            return {"MessageId": str(new_uuid())}
        message_id = queue(conn, caller.account_id, caller.region, route, destination, body, now=now,
                           project_id=caller.pinned_project(), tenant_id=caller.tenant_id, extra={
                                "message_type": message_type or checks.message_type_of(route.identity),
                                "expires_at": now + ttl,
                                "context": context, "keyword": request.get("Keyword"),
                                "configuration_set": (configuration_set or {}).get("ConfigurationSetName"),
                                "request_id": caller.request_id})
    return {"MessageId": message_id}


def queue_reply(conn, number: dict, destination: str, body: str) -> str:
    """Queue a keyword's answer (HELP, STOP, ...) from the number row that received the keyword to the
    handset that sent it; returns its message id. It goes even to a number that has just opted out
    and from the sandbox, and is charged like any text, but no spend limit holds back a reply the
    law requires."""
    identity = routing.Identity(routing.PHONE_NUMBER, number["id"], number["name"], number["document"])
    country = simulator.country_of(destination) or ids.country_of(destination) or ""
    target = routing.Destination(destination, country, simulator.is_destination(destination))
    now = time.time()
    return queue(conn, number["account_id"], number["region"], Route(identity, _opt_out_list(identity)), target,
                  body, now=now, extra={"message_type": checks.message_type_of(identity),
                                        "expires_at": now + DEFAULT_TIME_TO_LIVE, "reply": True})


def queue(conn, account_id: str, region: str, route: Route, destination: routing.Destination, body: str, *,
          now: float, extra: dict, project_id: str | None = None, tenant_id: str | None = None) -> str:
    """Queue one text and add its price to the month's spend, in the caller's transaction."""
    row = text_row(account_id, region, route, destination, body, now=now, extra=extra, project_id=project_id,
                   tenant_id=tenant_id)
    queue_rows(conn, account_id, region, [row], now=now)
    return row["id"]


def text_row(account_id: str, region: str, route: Route, destination: routing.Destination, body: str, *,
             now: float, extra: dict, project_id: str | None = None, tenant_id: str | None = None) -> dict:
    """The `sms_messages` row of one text: where it goes, from where, its parts and its price."""
    encoded = encoding.encode(body)
    identity = route.identity
    return {
        "id": str(new_uuid()), "account_id": account_id, "region": region, "project_id": project_id,
        "tenant_id": tenant_id, "created_at": now,
        "activity_id": activity_of(extra.get("attributes")),  # a campaign's text: its lane
        "message": {
            "destination": destination.number, "country": destination.country, "origination": identity.name,
            "origination_kind": identity.kind, "origination_id": identity.id, "pool_id": route.pool_id,
            "opt_out_list": route.opt_out_list, "body": body, "parts": len(encoded.parts),
            "encoding": encoded.encoding, "price": prices.price_of(destination.country, len(encoded.parts)),
            "international": bool(identity.country) and identity.country != destination.country, **extra,
        }}


def queue_rows(conn, account_id: str, region: str, rows: list[dict], *, now: float) -> None:
    """Queue texts of one account (text_row) and charge their prices, in one statement each. A tenant's
    texts are refused while its sending is paused (reputation) or past its own monthly spend limit."""
    if not rows:
        return
    month = spend.month_of(now)
    by_tenant: dict[str, float] = {}
    for row in rows:
        if row.get("tenant_id"):
            by_tenant[row["tenant_id"]] = by_tenant.get(row["tenant_id"], 0.0) + row["message"]["price"]
    for tenant_id, dollars in by_tenant.items():
        checks.tenant_may_send(conn, tenant_id, dollars, month)
        spend.add_tenant(conn, tenant_id, month, dollars)
    messages.add_many(conn, rows)
    spend.add(conn, account_id, region, month, sum(row["message"]["price"] for row in rows))
    after_commit(conn, lambda: metrics.count_messages("sms", account_id, "accepted", len(rows)))


def _check_price(conn, caller: Caller, price: float, max_price: float | None, *, now: float) -> None:
    """MaxPrice (ValidationException PRICE_OVER_THRESHOLD), then the month's spend limit."""
    if max_price is not None and price > max_price:
        raise ids.invalid(f"The message costs {price:.5f} USD, more than MaxPrice {max_price:.5f}",
                          "PRICE_OVER_THRESHOLD", "MaxPrice")
    if price > checks.spend_left(conn, caller.account_id, caller.region, now=now) + 1e-9:
        raise LimitExceeded("The account's monthly text message spend limit is reached",
                            details={"Reason": "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT"})


def destination_of(raw: str | None) -> routing.Destination:
    """The destination in E.164 with its country; the simulator numbers are taken as AWS lists them."""
    if not raw:
        raise ids.invalid("DestinationPhoneNumber is required", "MISSING_PARAMETER", "DestinationPhoneNumber")
    number = raw.strip() if raw.strip().startswith("+") else "+" + raw.strip()
    country = simulator.country_of(number)
    if country is not None:
        return routing.Destination(number, country, True)
    number = ids.parse_e164(raw, "DestinationPhoneNumber")
    return routing.Destination(number, ids.country_of(number) or "", False)


def choose_route(conn, caller: Caller, given: str | None, destination: routing.Destination, *,
                 message_type: str | None, default_sender_id: str | None = None) -> Route:
    """The origination the message leaves from: the one named (a phone number, its id or ARN, a sender
    id or its ARN, a pool id or ARN), or one chosen from the account's identities. A confined caller
    sends only through what `access` lets it: its tenant's own pool, when it has one, by default."""
    scope = access.scope_of(conn, caller)
    given = given or (scope.pool_id if scope is not None else None)
    if not given:
        candidates = [*_numbers(conn, caller, scope=scope), *_sender_ids(conn, caller)]
        chosen = routing.choose(candidates, destination, message_type=message_type,
                                default_sender_id=default_sender_id)
        return Route(_found(chosen), _opt_out_list(chosen))
    kind, key = _named(caller, given)
    if kind == ids.POOL:
        return _pool_route(conn, caller, key, given, destination, message_type, default_sender_id, scope)
    if kind == ids.PHONE_NUMBER:
        row = (resources.by_name(conn, caller.account_id, caller.region, kind, key) if key.startswith("+")
               else resources.get(conn, caller.account_id, caller.region, kind, key))
        if row is None:
            raise _not_found(kind, given)
        _check_access(conn, caller, scope, kind, given, [row["pool_id"]] if row["pool_id"] else [])
        identity = routing.Identity(kind, row["id"], row["name"], row["document"])
    else:
        identity = _sender_id(conn, caller, key, given, destination)
        if scope is not None and scope.pool_id is not None:
            pool = resources.get(conn, caller.account_id, caller.region, ids.POOL, scope.pool_id)
            holding = pool is not None and identity.id in pool["document"].get("_sender_ids", [])
            _check_access(conn, caller, scope, kind, given, [scope.pool_id] if holding else [])
    _refuse(routing.problem(identity, destination), identity, destination)
    return Route(identity, _opt_out_list(identity))


def _check_access(conn, caller: Caller, scope: access.Scope | None, kind: str, given: str,
                  pool_ids: list[str]) -> None:
    """Refuse what a confined caller may not send through: another tenant's looks absent."""
    if scope is None:
        return
    owners = access.pool_owners(conn, caller)
    verdict = access.verdict(scope, {pool_id: owners.get(pool_id) for pool_id in pool_ids})
    if verdict == access.HIDDEN:
        raise _not_found(kind, given)
    if verdict == access.DENIED:
        raise access.denied(scope, f"{kind.replace('-', ' ')} {given}")


def check_opted_out(conn, caller: Caller, list_name: str, number: str) -> None:
    """ConflictException DESTINATION_PHONE_NUMBER_OPTED_OUT when the number is on the list."""
    if opt_outs.opted_out(conn, caller.account_id, caller.region, list_name, [number]):
        raise Conflict(f"The destination phone number {number} opted out of messages on opt-out list {list_name}",
                       details={"Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT", "ResourceType": "opted-out-number",
                                "ResourceId": number})


def _pool_route(conn, caller: Caller, pool_id: str, given: str, destination: routing.Destination,
                message_type: str | None, default_sender_id: str | None, scope: access.Scope | None) -> Route:
    row = resources.get(conn, caller.account_id, caller.region, ids.POOL, pool_id)
    if row is None:
        raise _not_found(ids.POOL, given)
    _check_access(conn, caller, scope, ids.POOL, given, [pool_id])
    pool = row["document"]
    if pool.get("Status") != "ACTIVE":
        raise Conflict(f"Pool {pool_id} is {pool.get('Status')}, not ACTIVE",
                       details={"Reason": "RESOURCE_NOT_ACTIVE", "ResourceType": "pool", "ResourceId": pool_id})
    candidates = [*_numbers(conn, caller, pool_id)]
    for key in pool.get("_sender_ids") or []:
        found = resources.get(conn, caller.account_id, caller.region, ids.SENDER_ID, key)
        if found is not None:
            candidates.append(routing.Identity(ids.SENDER_ID, found["id"], found["name"], found["document"]))
    chosen = routing.choose(candidates, destination, message_type=message_type or pool.get("MessageType"),
                            default_sender_id=default_sender_id)
    return Route(_found(chosen), pool.get("OptOutListName") or DEFAULT_OPT_OUT_LIST, pool_id)


def _named(caller: Caller, given: str) -> tuple[str, str]:
    """(resource type, id or name) of an OriginationIdentity; an ARN must be this account's and region's."""
    target = ids.arn_target(given)
    if target is not None:
        region, account_id, kind, key = target
        if kind not in (ids.PHONE_NUMBER, ids.SENDER_ID, ids.POOL):
            raise ids.invalid(f"{given} is not the ARN of a phone number, sender id or pool", "INVALID_ARN",
                              "OriginationIdentity")
        if (region, account_id) != (caller.region, caller.account_id):
            raise _not_found(kind, given)
        return kind, key
    if ids.looks_like_id(given, "pool"):
        return ids.POOL, given
    if ids.looks_like_id(given, "phone"):
        return ids.PHONE_NUMBER, given
    if ids.looks_like_number(given):
        return ids.PHONE_NUMBER, given if given.startswith("+") else "+" + given
    return ids.SENDER_ID, given


def _sender_id(conn, caller: Caller, key: str, given: str, destination: routing.Destination) -> routing.Identity:
    """A sender id by `SenderId:Country` (from an ARN) or by name, for the destination's country."""
    if ":" not in key:
        key = ids.sender_id_key(key, destination.country)
    row = resources.get(conn, caller.account_id, caller.region, ids.SENDER_ID, key)
    if row is None:
        name = key.partition(":")[0]
        if resources.by_name(conn, caller.account_id, caller.region, ids.SENDER_ID, name) is not None:
            raise ids.invalid(f"Sender id {name} is not registered for {destination.country}",
                              "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY", "OriginationIdentity")
        raise _not_found(ids.SENDER_ID, given)
    return routing.Identity(ids.SENDER_ID, row["id"], row["name"], row["document"])


def _numbers(conn, caller: Caller, pool_id: str | None = None, *,
             scope: access.Scope | None = None) -> list[routing.Identity]:
    """The account's numbers (or a pool's); for a confined caller, none in another tenant's pool."""
    rows = resources.listing(conn, caller.account_id, caller.region, ids.PHONE_NUMBER, pool_id=pool_id)
    if scope is not None:
        owners = access.pool_owners(conn, caller)
        rows = [row for row in rows if access.verdict(scope, {row["pool_id"]: owners.get(row["pool_id"])}
                                                      if row["pool_id"] else {}) == access.ALLOWED]
    return [routing.Identity(ids.PHONE_NUMBER, row["id"], row["name"], row["document"]) for row in rows]


def _sender_ids(conn, caller: Caller) -> list[routing.Identity]:
    rows = resources.listing(conn, caller.account_id, caller.region, ids.SENDER_ID)
    return [routing.Identity(ids.SENDER_ID, row["id"], row["name"], row["document"]) for row in rows]


def _found(chosen: routing.Identity | None) -> routing.Identity:
    if chosen is None:
        raise Conflict("No origination identity can send this message to this destination",
                       details={"Reason": "NO_ORIGINATION_IDENTITIES_FOUND"})
    return chosen


def _refuse(reason: str | None, identity: routing.Identity, destination: routing.Destination) -> None:
    if reason is None:
        return
    message = f"{identity.name} cannot send to {destination.number} ({destination.country or 'no country'})"
    if reason in _CONFLICTS:
        raise Conflict(f"{identity.name} is not ACTIVE", details={
            "Reason": reason, "ResourceType": identity.kind, "ResourceId": identity.id})
    raise ids.invalid(message, reason, "OriginationIdentity")


def _opt_out_list(identity: routing.Identity) -> str:
    return identity.document.get("OptOutListName") or DEFAULT_OPT_OUT_LIST


def _configuration_set(conn, caller: Caller, given: str | None) -> dict | None:
    """The set named, or a confined tenant's own when none is named; what `access` refuses is refused."""
    scope = access.scope_of(conn, caller)
    given = given or (scope.configuration_set if scope is not None else None)
    if not given:
        return None
    target = ids.arn_target(given)
    name = given
    if target is not None:
        region, account_id, kind, name = target
        if kind != ids.CONFIGURATION_SET or (region, account_id) != (caller.region, caller.account_id):
            raise _not_found(ids.CONFIGURATION_SET, given)
    row = resources.get(conn, caller.account_id, caller.region, ids.CONFIGURATION_SET, name)
    if row is None:
        raise _not_found(ids.CONFIGURATION_SET, given)
    verdict = access.set_verdict(scope, name, access.owner_of(row["document"]))
    if verdict == access.HIDDEN:
        raise _not_found(ids.CONFIGURATION_SET, given)
    if verdict == access.DENIED:
        raise access.denied(scope, f"configuration set {given}")
    return row["document"]


def _check_sandbox(conn, caller: Caller, destination: routing.Destination) -> None:
    """In the sandbox only simulator destinations and VERIFIED destination numbers may be sent to."""
    settings = checks.account_settings(conn, caller.account_id, caller.region)
    problem = checks.sandbox_problem(conn, caller.account_id, caller.region, settings, destination)
    if problem is not None:
        raise Conflict(problem, details={"Reason": "DESTINATION_PHONE_NUMBER_NOT_VERIFIED",
                                         "ResourceType": "verified-destination-number",
                                         "ResourceId": destination.number})


def _not_found(kind: str, given: str) -> NotFound:
    return NotFound(f"The {kind.replace('-', ' ')} {given} does not exist", details={
        "ResourceType": kind, "ResourceId": given})


def _body(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("MessageBody must hold 1 to 1600 characters, not all whitespace", field="MessageBody")
    if len(value) > 1600:
        raise InvalidInput("MessageBody must hold 1 to 1600 characters", field="MessageBody")
    return value


def _message_type(value) -> str | None:
    if value is None:
        return None
    if value not in _MESSAGE_TYPES:
        raise InvalidInput("MessageType must be TRANSACTIONAL or PROMOTIONAL", field="MessageType")
    return value


def _time_to_live(value) -> int:
    if value is None:
        return DEFAULT_TIME_TO_LIVE
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_TIME_TO_LIVE <= value <= DEFAULT_TIME_TO_LIVE:
        raise InvalidInput(f"TimeToLive must be {MIN_TIME_TO_LIVE} to {DEFAULT_TIME_TO_LIVE} seconds",
                           field="TimeToLive")
    return value


def _max_price(value) -> float | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _MAX_PRICE.fullmatch(value):
        raise InvalidInput("MaxPrice must be US dollars written as 0.00581 (up to 2 digits, a point, up to 5 "
                           "decimals)", field="MaxPrice")
    return float(value)


def _context(value) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_CONTEXT or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()):
        raise InvalidInput(f"Context takes at most {MAX_CONTEXT} non-empty string keys and values", field="Context")
    return dict(value)
