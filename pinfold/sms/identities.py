"""Origination identities: phone numbers (RequestPhoneNumber, DescribePhoneNumbers,
UpdatePhoneNumber, ReleasePhoneNumber), sender ids (the same four), how a request names one, and
how one joins or leaves a pool (the membership rules `pools` applies).

Numbers and sender ids come from the simulated inventory in `rules/inventory.py`. A ClientToken
makes a request idempotent: the new resource's id is derived from it, so the same token gives back
the same number (or sender id, or pool). Confined callers (project scope, sa-sp and sa-mp tenants)
may describe the account's identities but not request, change or release them, and never see
another tenant's pool or what is in it (`access.Hidden`): every lookup here treats those as absent.

Quotas per account and region (ServiceQuotaExceededException with the Reason named), Pinfold's own
defaults since AWS publishes none for these: 1,000 phone numbers, 1,000 sender ids; a pool holds up
to 1,000 origination identities.

A little over 400 lines: the membership rules live here, beside the identities they move, so that
RequestPhoneNumber (with PoolId) and `pools` share them without importing each other.
"""

from __future__ import annotations

import time

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.arns import sms_arn
from pinfold.core.errors import Conflict, LimitExceeded, NotFound
from pinfold.db.database import lock_keys
from pinfold.sms import access, keywords, tags
from pinfold.sms.account import local_id, maximum, page, page_after, page_limit, require_admin
from pinfold.sms.opt_outs import ensure_default
from pinfold.sms.rules import ids, inventory
from pinfold.sms.rules.ids import PHONE_NUMBER, POOL, SENDER_ID, invalid
from pinfold.sms.store import resources

MAX_PHONE_NUMBERS = 1_000  # PHONE_NUMBERS_PER_ACCOUNT
MAX_SENDER_IDS = 1_000  # SENDER_IDS_PER_ACCOUNT
MAX_POOL_MEMBERS = 1_000  # ORIGINATION_IDENTITIES_PER_POOL
ARN_MEMBERS = {PHONE_NUMBER: "PhoneNumberArn", SENDER_ID: "SenderIdArn", POOL: "PoolArn"}
NUMBER_FILTERS = {"status": "Status", "iso-country-code": "IsoCountryCode", "message-type": "MessageType",
                  "number-capability": "NumberCapabilities", "number-type": "NumberType",
                  "two-way-enabled": "TwoWayEnabled", "self-managed-opt-outs-enabled": "SelfManagedOptOutsEnabled",
                  "opt-out-list-name": "OptOutListName", "deletion-protection-enabled": "DeletionProtectionEnabled",
                  "two-way-channel-arn": "TwoWayChannelArn"}
SENDER_ID_FILTERS = {"sender-id": "SenderId", "iso-country-code": "IsoCountryCode", "message-type": "MessageTypes",
                     "deletion-protection-enabled": "DeletionProtectionEnabled", "registered": "Registered"}
BOOLEAN_FILTERS = frozenset({"two-way-enabled", "self-managed-opt-outs-enabled", "deletion-protection-enabled",
                             "registered", "shared-routes-enabled"})
_SCAN_BATCH = 200


# --- shared: naming, showing and listing identities ---------------------------------------------------

def arn(caller: Caller, kind: str, resource_id: str) -> str:
    return sms_arn(caller.region, caller.account_id, kind, resource_id)


def information(caller: Caller, row: dict) -> dict:
    """The resource as the API shows it: its document less private keys, with its ARN."""
    shown = {key: value for key, value in row["document"].items() if not key.startswith("_")}
    return {ARN_MEMBERS[row["kind"]]: arn(caller, row["kind"], row["id"]), **shown}


def missing(kind: str, value: str) -> NotFound:
    return NotFound(f"The {kind.replace('-', ' ')} {value} does not exist",
                    details={"ResourceType": kind, "ResourceId": value})


def _lookup(conn, caller: Caller, kind: str, value: str, country: str | None) -> dict | None:
    account, region = caller.account_id, caller.region
    if value.startswith("arn:"):
        target = ids.arn_target(value)
        if target is None or target[:3] != (region, account, kind):
            return None
        return resources.get(conn, account, region, kind, target[3])
    if kind == PHONE_NUMBER and ids.looks_like_number(value):
        return resources.by_name(conn, account, region, kind, value if value.startswith("+") else "+" + value)
    if kind == SENDER_ID:
        if not country:
            raise invalid(f"IsoCountryCode is required to name the sender id {value}", "MISSING_PARAMETER",
                          "IsoCountryCode")
        return resources.get(conn, account, region, kind, ids.sender_id_key(value, country))
    return resources.get(conn, account, region, kind, value)


def find(conn, caller: Caller, kind: str, value: str, country: str | None = None,
         hidden: access.Hidden | None = None) -> dict:
    """The row of a phone number (id, number or ARN), sender id (name with `country`, or ARN) or pool
    (id or ARN) of the caller's account that the caller may see; ResourceNotFoundException otherwise.
    `hidden` saves working out again what the caller may not see."""
    found = _lookup(conn, caller, kind, value, country)
    if found is not None and not (hidden or access.hidden_from(conn, caller)).shows(found):
        found = None
    if found is None:
        raise missing(kind, ids.sender_id_key(value, country) if kind == SENDER_ID and country else value)
    return found


def kind_named(value: str, kinds: tuple[str, ...]) -> str:
    """Which of `kinds` a PhoneOrSenderIdOrArn / PhoneOrPoolIdOrArn value names."""
    target = ids.arn_target(value) if value.startswith("arn:") else None
    if target is not None and target[2] in kinds:
        return target[2]
    if value.startswith("pool-") and POOL in kinds:
        return POOL
    if (value.startswith("phone-") or ids.looks_like_number(value)) and PHONE_NUMBER in kinds:
        return PHONE_NUMBER
    return SENDER_ID if SENDER_ID in kinds else PHONE_NUMBER


def find_identity(conn, caller: Caller, value: str, kinds: tuple[str, ...], country: str | None = None) -> dict:
    """The row of the identity `value` names, of one of `kinds`."""
    return find(conn, caller, kind_named(value, kinds), value, country)


def hold(conn, caller: Caller, kind: str) -> None:
    """Serialise creations of `kind` in the account until the transaction ends (quota counts and
    ClientToken replays stay exact under PostgreSQL; SQLite has one writer anyway)."""
    lock_keys(conn, "sms-quota", [f"{caller.account_id}:{caller.region}:{kind}"])


def check_quota(conn, caller: Caller, kind: str, quota: str, reason: str) -> None:
    """ServiceQuotaExceededException if the account already has as many resources of `kind` as its
    `quota` ("PHONE_NUMBERS", "POOLS", ...) allows."""
    hold(conn, caller, kind)
    most = maximum(conn, caller.account_id, caller.region, quota)
    if resources.count(conn, caller.account_id, caller.region, kind) >= most:
        raise LimitExceeded(f"This account already has the most {kind.replace('-', ' ')}s it may have ({most})",
                            details={"Reason": reason})


def opt_out_list(conn, caller: Caller, value: str | None) -> str:
    """The name of the opt-out list `value` names (Default when None), which must exist."""
    name = local_id(caller, value, "opt-out-list") if value else "Default"
    if name == "Default":
        ensure_default(conn, caller.account_id, caller.region)
    elif resources.get(conn, caller.account_id, caller.region, "opt-out-list", name) is None:
        raise missing("opt-out-list", name)
    return name


def scan(conn, caller: Caller, kind: str, after: str | None, limit: int, keep,
         hidden: access.Hidden = access.NOTHING_HIDDEN) -> list[dict]:
    """Up to `limit` + 1 rows of `kind` after the id `after` that `keep` accepts and `hidden` shows, in id order."""
    shown: list[dict] = []
    while len(shown) <= limit:
        batch = resources.listing(conn, caller.account_id, caller.region, kind, after=after, limit=_SCAN_BATCH)
        shown.extend(row for row in batch if keep(row["document"]) and hidden.shows(row))
        if len(batch) < _SCAN_BATCH:
            break
        after = batch[-1]["id"]
    return shown[:limit + 1]


def describe(ctx: Context, caller: Caller, kind: str, named: list[dict] | None, filters, members: dict,
             owner: str | None, max_results: int | None, token: str | None, member: str) -> dict:
    """A Describe* answer: the named resources (each {value, country}) or a page of all of them."""
    if named and owner:
        raise invalid("The resource list and Owner cannot be used together", "PARAMETERS_CANNOT_BE_USED_TOGETHER")
    keep = ids.filter_predicate(filters, members, BOOLEAN_FILTERS)
    limit, listing = page_limit(max_results), f"sms:{kind}"
    after = page_after(token, listing)
    with ctx.db.read() as conn:
        hidden = access.hidden_from(conn, caller)
        if owner == "SHARED":  # nothing is shared between accounts here
            rows: list[dict] = []
        elif named:
            rows = [find(conn, caller, kind, item["value"], item.get("country"), hidden) for item in named]
            return {member: [information(caller, row) for row in rows if keep(row["document"])]}
        else:
            rows = scan(conn, caller, kind, after, limit, keep, hidden)
    return page(rows, limit, listing, lambda row: row["id"], member, lambda row: information(caller, row))


# --- pool membership --------------------------------------------------------------------------------

def members(conn, caller: Caller, pool: dict) -> list[dict]:
    """The pool's phone numbers (id order) and sender ids (in the order they joined)."""
    numbers = resources.listing(conn, caller.account_id, caller.region, PHONE_NUMBER, pool_id=pool["id"])
    senders = [resources.get(conn, caller.account_id, caller.region, SENDER_ID, key)
               for key in pool["document"].get("_sender_ids", [])]
    return numbers + [row for row in senders if row is not None]


def _mismatch(pool: dict, kind: str, document: dict) -> tuple[str, str] | None:
    """(Reason, what differs) when an identity's configuration does not match the pool's."""
    if kind == SENDER_ID:
        if pool["MessageType"] not in document.get("MessageTypes", []):
            return "MESSAGE_TYPE_MISMATCH", "message type"
        if pool.get("TwoWayEnabled"):
            return "TWO_WAY_CONFIG_MISMATCH", "two-way configuration (sender ids cannot receive)"
        return None
    checks = (("MESSAGE_TYPE_MISMATCH", "message type", ("MessageType",)),
              ("OPT_OUT_LIST_MISMATCH", "opt-out list", ("OptOutListName",)),
              ("TWO_WAY_CONFIG_MISMATCH", "two-way configuration", ("TwoWayEnabled", "TwoWayChannelArn")),
              ("SELF_MANAGED_OPT_OUTS_MISMATCH", "self-managed opt-outs", ("SelfManagedOptOutsEnabled",)))
    for reason, what, fields in checks:
        if any(pool.get(field) != document.get(field) for field in fields):
            return reason, what
    if keywords.keywords_of(pool) != keywords.keywords_of(document):
        return "KEYWORD_MISMATCH", "keywords"
    return None


def join(conn, caller: Caller, pool: dict, row: dict) -> dict:
    """Put the identity `row` in `pool` (nothing to do if it is there already); the updated row."""
    kind, account, region, document = row["kind"], caller.account_id, caller.region, dict(row["document"])
    if kind == PHONE_NUMBER and row["pool_id"] == pool["id"]:
        return row
    if kind == SENDER_ID and row["id"] in pool["document"].get("_sender_ids", []):
        return row
    if kind == PHONE_NUMBER and row["pool_id"]:
        raise Conflict(f"Phone number {row['id']} is already in pool {row['pool_id']}; a number is in one pool at most",
                       details={"Reason": "PHONE_NUMBER_ASSOCIATED_TO_POOL", "ResourceType": kind,
                                "ResourceId": row["id"]})
    mismatch = _mismatch(pool["document"], kind, document)
    if mismatch is not None:
        raise Conflict(f"The {mismatch[1]} of {row['id']} does not match pool {pool['id']}'s",
                       details={"Reason": mismatch[0], "ResourceType": kind, "ResourceId": row["id"]})
    if len(members(conn, caller, pool)) >= MAX_POOL_MEMBERS:
        raise LimitExceeded(f"A pool holds at most {MAX_POOL_MEMBERS} origination identities",
                            details={"Reason": "ORIGINATION_IDENTITIES_PER_POOL"})
    if kind == SENDER_ID:
        pool_document = {**pool["document"], "_sender_ids": [*pool["document"].get("_sender_ids", []), row["id"]]}
        resources.update(conn, account, region, POOL, pool["id"], document=pool_document)
        return row
    document["PoolId"] = pool["id"]
    resources.update(conn, account, region, kind, row["id"], document=document, pool_id=pool["id"])
    return {**row, "document": document, "pool_id": pool["id"]}


def leave(conn, caller: Caller, pool: dict, row: dict, *, keep_one: bool = True) -> None:
    """Take the identity `row` out of `pool`; with `keep_one`, never its last identity."""
    kind, account, region = row["kind"], caller.account_id, caller.region
    senders = pool["document"].get("_sender_ids", [])
    inside = row["pool_id"] == pool["id"] if kind == PHONE_NUMBER else row["id"] in senders
    if not inside:
        raise Conflict(f"{row['id']} is not in pool {pool['id']}", details={
            "Reason": "PHONE_NUMBER_NOT_ASSOCIATED_TO_POOL", "ResourceType": kind, "ResourceId": row["id"]})
    if keep_one and len(members(conn, caller, pool)) <= 1:
        raise Conflict(f"{row['id']} is the last origination identity of pool {pool['id']}; delete the pool instead",
                       details={"Reason": "LAST_PHONE_NUMBER", "ResourceType": POOL, "ResourceId": pool["id"]})
    if kind == SENDER_ID:
        pool_document = {**pool["document"], "_sender_ids": [key for key in senders if key != row["id"]]}
        resources.update(conn, account, region, POOL, pool["id"], document=pool_document)
        return
    document = {key: value for key, value in row["document"].items() if key != "PoolId"}
    resources.update(conn, account, region, kind, row["id"], document=document, pool_id=None)


# --- phone numbers ------------------------------------------------------------------------------------

def _offer(request: dict) -> inventory.Offer:
    country, number_type = ids.check_country(request["IsoCountryCode"]), request["NumberType"]
    if number_type == "SIMULATOR" and request["MessageType"] != "TRANSACTIONAL":
        raise invalid("A SIMULATOR number must have MessageType TRANSACTIONAL", "INVALID_PARAMETER", "MessageType")
    offer = inventory.offer(country, number_type)
    if offer is None:
        where = ", ".join(inventory.countries_offering(number_type)) or "no country"
        raise invalid(f"{number_type} numbers are not offered in {country}; they are in {where}",
                      "INVALID_PARAMETER", "NumberType")
    unsupported = set(request["NumberCapabilities"]) - offer.capabilities
    if unsupported:
        raise invalid(f"{number_type} numbers in {country} do not offer {', '.join(sorted(unsupported))}",
                      "INVALID_PARAMETER", "NumberCapabilities")
    return offer


def _new_number(conn, caller: Caller, offer: inventory.Offer) -> str:
    for _ in range(5):
        number = inventory.make_number(offer)
        # Unique across every account: an inbound message names only the number it was sent to.
        if number and resources.phone_number_anywhere(conn, number) is None:
            return number
    raise Conflict(f"No {offer.number_type} number is available in {offer.country} right now; try again",
                   details={"Reason": "RESOURCE_NOT_ACTIVE"})


def request_number(ctx: Context, caller: Caller, request: dict) -> dict:
    """RequestPhoneNumber: a new number from the inventory (into PoolId when given)."""
    require_admin(caller, "request phone numbers")
    offer, new_tags = _offer(request), tags.tag_map(request.get("Tags"))
    account, region = caller.account_id, caller.region
    number_id = ids.new_phone_number_id(request.get("ClientToken"), scope=f"{account}:{region}")
    with ctx.db.write() as conn:
        hold(conn, caller, PHONE_NUMBER)
        existing = resources.get(conn, account, region, PHONE_NUMBER, number_id)
        if existing is not None:  # the same ClientToken again
            return information(caller, existing)
        check_quota(conn, caller, PHONE_NUMBER, "PHONE_NUMBERS", "PHONE_NUMBERS_PER_ACCOUNT")
        pool = find(conn, caller, POOL, request["PoolId"]) if request.get("PoolId") else None
        number, now = _new_number(conn, caller, offer), time.time()
        document = {"PhoneNumberId": number_id, "PhoneNumber": number, "Status": "ACTIVE",
                    "IsoCountryCode": offer.country, "MessageType": request["MessageType"],
                    "NumberCapabilities": sorted(set(request["NumberCapabilities"])), "NumberType": offer.number_type,
                    "MonthlyLeasingPrice": offer.price, "TwoWayEnabled": False, "SelfManagedOptOutsEnabled": False,
                    "OptOutListName": opt_out_list(conn, caller, request.get("OptOutListName")),
                    "DeletionProtectionEnabled": bool(request.get("DeletionProtectionEnabled")),
                    "InternationalSendingEnabled": bool(request.get("InternationalSendingEnabled")),
                    "CreatedTimestamp": now, "_keywords": keywords.default_keywords()}
        if pool is not None:  # a number requested into a pool takes the pool's keywords
            document["_keywords"] = keywords.keywords_of(pool["document"])
        resources.insert(conn, account, region, PHONE_NUMBER, number_id, number, document, created_at=now)
        row = resources.get(conn, account, region, PHONE_NUMBER, number_id)
        if pool is not None:
            row = join(conn, caller, pool, row)
        return {**information(caller, row), "Tags": tags.attach(conn, arn(caller, PHONE_NUMBER, number_id), new_tags)}


def describe_numbers(ctx: Context, caller: Caller, number_ids: list[str] | None = None, filters=None,
                     owner: str | None = None, max_results: int | None = None, token: str | None = None) -> dict:
    named = [{"value": value} for value in number_ids or []]
    return describe(ctx, caller, PHONE_NUMBER, named, filters, NUMBER_FILTERS, owner, max_results, token,
                    "PhoneNumbers")


def update_number(ctx: Context, caller: Caller, request: dict) -> dict:
    """UpdatePhoneNumber: two-way, self-managed opt-outs, opt-out list, international sending and
    deletion protection; refused while the number is in a pool (the pool's settings apply there)."""
    require_admin(caller, "change phone numbers")
    with ctx.db.write() as conn:
        row = find(conn, caller, PHONE_NUMBER, request["PhoneNumberId"])
        if row["pool_id"]:
            raise Conflict(f"Phone number {row['id']} is in pool {row['pool_id']}: update the pool, or take the "
                           "number out of it first", details={"Reason": "PHONE_NUMBER_ASSOCIATED_TO_POOL",
                                                             "ResourceType": PHONE_NUMBER, "ResourceId": row["id"]})
        document = updated(conn, caller, row["document"], request, "InternationalSendingEnabled")
        resources.update(conn, caller.account_id, caller.region, PHONE_NUMBER, row["id"], document=document)
        return information(caller, {**row, "document": document})


def check_two_way(document: dict) -> None:
    """Two-way messaging needs somewhere to deliver inbound messages."""
    if document.get("TwoWayEnabled") and not document.get("TwoWayChannelArn"):
        raise invalid("TwoWayEnabled needs a TwoWayChannelArn to deliver inbound messages to",
                      "TWO_WAY_CHANNEL_NOT_PRESENT", "TwoWayChannelArn")


def updated(conn, caller: Caller, document: dict, request: dict, *flags: str) -> dict:
    """A number's or pool's settings after UpdatePhoneNumber or UpdatePool: two-way, self-managed
    opt-outs, deletion protection and the opt-out list, with the kind's own `flags`; checked."""
    changed = dict(document)
    for member in ("TwoWayEnabled", "SelfManagedOptOutsEnabled", "DeletionProtectionEnabled", *flags):
        if request.get(member) is not None:
            changed[member] = bool(request[member])
    for member in ("TwoWayChannelArn", "TwoWayChannelRole"):
        if request.get(member):
            changed[member] = request[member]
    if request.get("OptOutListName"):
        changed["OptOutListName"] = opt_out_list(conn, caller, request["OptOutListName"])
    check_two_way(changed)
    return changed


def _check_releasable(row: dict, value: str) -> None:
    if row["document"].get("DeletionProtectionEnabled"):
        raise Conflict(f"{value} has deletion protection on; turn it off first",
                       details={"Reason": "DELETION_PROTECTION_ENABLED", "ResourceType": row["kind"],
                                "ResourceId": row["id"]})


def release_number(ctx: Context, caller: Caller, number_id: str) -> dict:
    """ReleasePhoneNumber: refused with deletion protection on or while in a pool."""
    require_admin(caller, "release phone numbers")
    with ctx.db.write() as conn:
        row = find(conn, caller, PHONE_NUMBER, number_id)
        _check_releasable(row, row["id"])
        if row["pool_id"]:
            raise Conflict(f"Phone number {row['id']} is in pool {row['pool_id']}: take it out of the pool first",
                           details={"Reason": "PHONE_NUMBER_ASSOCIATED_TO_POOL", "ResourceType": PHONE_NUMBER,
                                    "ResourceId": row["id"]})
        resources.delete(conn, caller.account_id, caller.region, PHONE_NUMBER, row["id"])
        tags.detach_all(conn, arn(caller, PHONE_NUMBER, row["id"]))
    return {**information(caller, row), "Status": "DELETED"}


# --- sender ids -------------------------------------------------------------------------------------

def request_sender_id(ctx: Context, caller: Caller, request: dict) -> dict:
    """RequestSenderId: a sender id that needs no registration, in a country that allows them."""
    require_admin(caller, "request sender ids")
    sender_id, country = ids.check_sender_id(request["SenderId"]), ids.check_country(request["IsoCountryCode"])
    if country in inventory.SENDER_ID_UNSUPPORTED:
        raise invalid(f"Sender ids are not supported in {country}", "SENDER_ID_NOT_SUPPORTED", "IsoCountryCode")
    new_tags, token = tags.tag_map(request.get("Tags")), request.get("ClientToken")
    key, now = ids.sender_id_key(sender_id, country), time.time()
    with ctx.db.write() as conn:
        hold(conn, caller, SENDER_ID)
        existing = resources.get(conn, caller.account_id, caller.region, SENDER_ID, key)
        if existing is not None:
            if token and existing["document"].get("_client_token") == token:
                return information(caller, existing)
            raise Conflict(f"Sender id {sender_id} already exists in {country}", details={
                "Reason": "RESOURCE_ALREADY_EXISTS", "ResourceType": SENDER_ID, "ResourceId": key})
        check_quota(conn, caller, SENDER_ID, "SENDER_IDS", "SENDER_IDS_PER_ACCOUNT")
        document = {"SenderId": sender_id, "IsoCountryCode": country,
                    "MessageTypes": sorted(set(request.get("MessageTypes") or ["TRANSACTIONAL", "PROMOTIONAL"])),
                    "MonthlyLeasingPrice": inventory.SENDER_ID_PRICE,
                    "DeletionProtectionEnabled": bool(request.get("DeletionProtectionEnabled")),
                    "Registered": False, "CreatedTimestamp": now, "_client_token": token}
        resources.insert(conn, caller.account_id, caller.region, SENDER_ID, key, sender_id, document, created_at=now)
        shown = information(caller, {"kind": SENDER_ID, "id": key, "document": document})
        return {**shown, "Tags": tags.attach(conn, arn(caller, SENDER_ID, key), new_tags)}


def describe_sender_ids(ctx: Context, caller: Caller, sender_ids: list[dict] | None = None, filters=None,
                        owner: str | None = None, max_results: int | None = None, token: str | None = None) -> dict:
    named = [{"value": item["SenderId"], "country": item.get("IsoCountryCode")} for item in sender_ids or []]
    return describe(ctx, caller, SENDER_ID, named, filters, SENDER_ID_FILTERS, owner, max_results, token, "SenderIds")


def update_sender_id(ctx: Context, caller: Caller, sender_id: str, country: str,
                     deletion_protection: bool | None) -> dict:
    require_admin(caller, "change sender ids")
    with ctx.db.write() as conn:
        row = find(conn, caller, SENDER_ID, sender_id, country)
        document = dict(row["document"])
        if deletion_protection is not None:
            document["DeletionProtectionEnabled"] = bool(deletion_protection)
            resources.update(conn, caller.account_id, caller.region, SENDER_ID, row["id"], document=document)
        return information(caller, {**row, "document": document})


def release_sender_id(ctx: Context, caller: Caller, sender_id: str, country: str) -> dict:
    """ReleaseSenderId: refused with deletion protection on or while any pool holds it."""
    require_admin(caller, "release sender ids")
    with ctx.db.write() as conn:
        row = find(conn, caller, SENDER_ID, sender_id, country)
        _check_releasable(row, f"Sender id {row['id']}")
        pools = resources.listing(conn, caller.account_id, caller.region, POOL)
        holding = [pool["id"] for pool in pools if row["id"] in pool["document"].get("_sender_ids", [])]
        if holding:
            raise Conflict(f"Sender id {row['id']} is in pool {holding[0]}: take it out of its pools first",
                           details={"Reason": "SENDER_ID_ASSOCIATED_TO_POOL", "ResourceType": SENDER_ID,
                                    "ResourceId": row["id"]})
        resources.delete(conn, caller.account_id, caller.region, SENDER_ID, row["id"])
        tags.detach_all(conn, arn(caller, SENDER_ID, row["id"]))
    return information(caller, row)
