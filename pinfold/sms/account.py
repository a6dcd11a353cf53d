"""An account's SMS settings: who may change account-wide SMS resources, how a name-or-ARN names
one of them, the sandbox and spend limits, resource quotas, and verified destination numbers.

Callers confined to one project (project-scoped keys, sa-sp and sa-mp tenants) share their
account's numbers, pools, opt-out lists and configuration sets: they may read and send, and change
none of them (AccessDeniedException).
"""

from __future__ import annotations

import hmac
import secrets
import time
import uuid

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.arns import parse_arn, sms_arn
from pinfold.core.errors import Conflict, Forbidden, InvalidInput, LimitExceeded, NotFound, PinfoldError
from pinfold.core.paging import after_key, page_of
from pinfold.db.database import lock_keys
from pinfold.sms import tags
from pinfold.sms.rules import limits, routing
from pinfold.sms.rules.ids import invalid, new_verified_destination_id, parse_e164
from pinfold.sms.store import resources
from pinfold.tenancy.organization import require_account

MAX_RESULTS = 100  # the model's MaxResults bound
MAX_MONTHLY_LIMIT = 1_000_000_000  # USD, the model's MonthlyLimit bound
MAX_OPT_OUT_LISTS = 25  # per account and region, the Default list included (AWS's default quota)
MAX_CONFIGURATION_SETS = 25  # per account and region (AWS's default quota)
# DescribeAccountLimits: each quota's name and the sms_resources kind it counts, in the order listed.
ACCOUNT_LIMITS = {"PHONE_NUMBERS": "phone-number", "POOLS": "pool", "CONFIGURATION_SETS": "configuration-set",
                  "OPT_OUT_LISTS": "opt-out-list", "SENDER_IDS": "sender-id",
                  "VERIFIED_DESTINATION_NUMBERS": "verified-destination-number"}


def maximum(conn, account_id: str, region: str, quota: str) -> int:
    """The account's maximum for a resource quota ("POOLS", "CONFIGURATION_SETS", ...): AWS's default,
    or what the operator raised it to (`pinfold accounts sms-production --max-pools N`)."""
    return limits.quota(_settings_document(conn, account_id, region), quota, _maxima()[quota])


def _maxima() -> dict[str, int]:
    """Each quota's default maximum, from the module that enforces it."""
    # Imported here: identities and pools import this module for its shared helpers.
    from pinfold.sms import identities, pools
    return {"PHONE_NUMBERS": identities.MAX_PHONE_NUMBERS, "POOLS": pools.MAX_POOLS,
            "CONFIGURATION_SETS": MAX_CONFIGURATION_SETS, "OPT_OUT_LISTS": MAX_OPT_OUT_LISTS,
            "SENDER_IDS": identities.MAX_SENDER_IDS, "VERIFIED_DESTINATION_NUMBERS": limits.MAX_VERIFIED_DESTINATIONS}


def require_admin(caller: Caller, action: str) -> None:
    """Forbidden unless the caller reaches its whole account; `action` completes "they cannot ..."."""
    if caller.pinned_project() is not None:
        raise Forbidden(f"These credentials are confined to one project and share the account's SMS resources "
                        f"with other tenants: they cannot {action}; an account administrator can")


def local_id(caller: Caller, value: str, kind: str) -> str:
    """The id or name that a `...NameOrArn` member gives: the value itself, or the resource part of an
    ARN of the caller's account and region (any other ARN names something absent)."""
    if not value.startswith("arn:"):
        return value
    parsed = parse_arn(value, field=kind)
    resource_id = parsed.resource.partition("/")[2]
    if (parsed.service, parsed.region, parsed.account_id, parsed.resource_type) != (
            "sms-voice", caller.region, caller.account_id, kind) or not resource_id:
        raise NotFound(f"Resource {value} does not exist", details={"ResourceType": kind, "ResourceId": value})
    return resource_id


def page_limit(max_results: int | None) -> int:
    """MaxResults: 1 to 100, 100 when absent (the model's bounds)."""
    if max_results is None:
        return MAX_RESULTS
    if not 1 <= max_results <= MAX_RESULTS:
        raise invalid(f"MaxResults must be between 1 and {MAX_RESULTS}", field="MaxResults")
    return max_results


def page_after(token: str | None, listing: str) -> str | None:
    """The last key the previous page showed, from a NextToken that this `listing` issued."""
    try:
        return after_key(token, listing)
    except InvalidInput:
        raise invalid("NextToken is not a token this operation issued", "INVALID_NEXT_TOKEN", "NextToken") from None


def page(rows: list, limit: int, listing: str, key, member: str, shape) -> dict:
    """The response members for up to `limit` + 1 rows read: `member` (each shown row through `shape`)
    and a NextToken when more remain."""
    shown, token = page_of(rows, limit, listing, key)
    return {member: [shape(row) for row in shown], **({"NextToken": token} if token else {})}


# --- settings, attributes, limits ------------------------------------------------------------------

def _settings_document(conn, account_id: str, region: str) -> dict | None:
    found = resources.get(conn, account_id, region, limits.SETTINGS_KIND, limits.SETTINGS_ID)
    return found["document"] if found else None


def _save_settings(conn, account_id: str, region: str, document: dict) -> None:
    resources.ensure(conn, account_id, region, limits.SETTINGS_KIND, limits.SETTINGS_ID, limits.SETTINGS_ID, {})
    resources.update(conn, account_id, region, limits.SETTINGS_KIND, limits.SETTINGS_ID, document=document)


def _listed(items: list[dict], max_results: int | None, token: str | None, listing: str, member: str) -> dict:
    """A page of a short fixed list of named items (attributes, limits), keyed by Name."""
    limit, after = page_limit(max_results), page_after(token, listing)
    names = [item["Name"] for item in items]
    start = names.index(after) + 1 if after in names else 0
    return page(items[start:start + limit + 1], limit, listing, lambda item: item["Name"], member, dict)


def describe_attributes(ctx: Context, caller: Caller, max_results: int | None = None,
                        token: str | None = None) -> dict:
    """ACCOUNT_TIER is SANDBOX or PRODUCTION (AWS does not document its values; these are Pinfold's)."""
    with ctx.db.read() as conn:
        current = limits.settings(_settings_document(conn, caller.account_id, caller.region))
    tier = [{"Name": "ACCOUNT_TIER", "Value": "SANDBOX" if current["Sandbox"] else "PRODUCTION"}]
    return _listed(tier, max_results, token, "sms-account-attributes", "AccountAttributes")


def describe_limits(ctx: Context, caller: Caller, max_results: int | None = None, token: str | None = None) -> dict:
    """Used and Max of each resource quota Pinfold keeps (registrations are not implemented, so not listed)."""
    with ctx.db.read() as conn:
        used = {name: resources.count(conn, caller.account_id, caller.region, kind)
                for name, kind in ACCOUNT_LIMITS.items()}
        if not used["OPT_OUT_LISTS"]:
            used["OPT_OUT_LISTS"] = 1  # the Default list counts from the start, made or not
        maxima = {name: maximum(conn, caller.account_id, caller.region, name) for name in ACCOUNT_LIMITS}
    items = [{"Name": name, "Used": used[name], "Max": maxima[name]} for name in ACCOUNT_LIMITS]
    return _listed(items, max_results, token, "sms-account-limits", "AccountLimits")


def _text_spend_limit(document: dict | None) -> dict:
    current = limits.settings(document)
    return {"Name": "TEXT_MESSAGE_MONTHLY_SPEND_LIMIT", "EnforcedLimit": int(limits.enforced_spend_limit(document)),
            "MaxLimit": int(limits.max_spend_limit(document)), "Overridden": current["SpendLimitOverride"] is not None}


def describe_spend_limits(ctx: Context, caller: Caller, max_results: int | None = None,
                          token: str | None = None) -> dict:
    """The text limit only: Pinfold sends no voice, media, Notify or RCS messages."""
    with ctx.db.read() as conn:
        document = _settings_document(conn, caller.account_id, caller.region)
    return _listed([_text_spend_limit(document)], max_results, token, "sms-spend-limits", "SpendLimits")


def set_spend_override(ctx: Context, caller: Caller, monthly_limit: int) -> dict:
    """SetTextMessageSpendLimitOverride: at most the account's maximum (AWS's service limit)."""
    require_admin(caller, "change the account's spend limit")
    if not 0 <= monthly_limit <= MAX_MONTHLY_LIMIT:
        raise invalid(f"MonthlyLimit must be between 0 and {MAX_MONTHLY_LIMIT}", field="MonthlyLimit")
    with ctx.db.write() as conn:
        lock_keys(conn, "sms-account", [f"{caller.account_id}/{caller.region}"])
        document = _settings_document(conn, caller.account_id, caller.region) or {}
        ceiling = limits.max_spend_limit(document)
        if monthly_limit > ceiling:
            raise invalid(f"MonthlyLimit {monthly_limit} is higher than this account's maximum of {ceiling:g} USD a "
                          "month", "REQUESTED_SPEND_LIMIT_HIGHER_THAN_SERVICE_LIMIT", "MonthlyLimit")
        _save_settings(conn, caller.account_id, caller.region, {**document, "SpendLimitOverride": monthly_limit})
    return {"MonthlyLimit": monthly_limit}


def delete_spend_override(ctx: Context, caller: Caller) -> dict:
    """Drop the override; answers the monthly limit now enforced (the maximum)."""
    require_admin(caller, "change the account's spend limit")
    with ctx.db.write() as conn:
        lock_keys(conn, "sms-account", [f"{caller.account_id}/{caller.region}"])
        document = {**(_settings_document(conn, caller.account_id, caller.region) or {}), "SpendLimitOverride": None}
        _save_settings(conn, caller.account_id, caller.region, document)
    return {"MonthlyLimit": int(limits.enforced_spend_limit(document))}


def set_sms_production(ctx: Context, caller: Caller, account_id: str, *, sandbox: bool | None,
                       max_spend: float | None,
                       region: str | None = None, quotas: dict[str, int] | None = None) -> dict:
    """The operator's `pinfold accounts sms-production`: take the account's SMS out of the sandbox (or put
    it back) in `region` (the caller's by default), and set its maximum monthly spend and resource
    quotas when given (an account shared by many tenants, each with a pool and a configuration set,
    needs more than AWS's defaults). Organization administrators only. Answers the settings and the
    text spend limit now in force."""
    caller.require_organization_admin()
    if max_spend is not None and not 0 <= max_spend <= MAX_MONTHLY_LIMIT:
        raise invalid(f"The maximum spend must be between 0 and {MAX_MONTHLY_LIMIT} USD a month", field="max_spend")
    quotas = {name: value for name, value in (quotas or {}).items() if value is not None}
    for name, value in quotas.items():
        if name not in _maxima() or not 1 <= value <= limits.MAX_QUOTA:
            raise invalid(f"The {name} quota must be between 1 and {limits.MAX_QUOTA}", field=name)
    region = region or caller.region
    with ctx.db.write() as conn:
        require_account(conn, account_id)
        lock_keys(conn, "sms-account", [f"{account_id}/{region}"])
        document = {**(_settings_document(conn, account_id, region) or {})}
        if sandbox is not None:  # None: as it was
            document["Sandbox"] = sandbox
        if max_spend is not None:
            document["MaxSpendLimit"] = float(max_spend)
        if quotas:
            document["Quotas"] = {**document.get("Quotas", {}), **quotas}
        _save_settings(conn, account_id, region, document)
    return {"AccountId": account_id, "Region": region, **limits.settings(document),
            "SpendLimit": _text_spend_limit(document), "Quotas": document.get("Quotas", {})}


# --- verified destination numbers (the sandbox's) --------------------------------------------------
# A code is six digits, good for CODE_SECONDS and for MAX_GUESSES wrong tries; at most
# MAX_CODES_A_DAY codes are sent for one number in 24 hours. The carrier simulator delivers it: the
# sending side reads the latest code from the document's "_code" (nothing here logs it).

VERIFIED = "verified-destination-number"
CODE_SECONDS = 24 * 3600
MAX_GUESSES = 5
MAX_CODES_A_DAY = 5


def _verified_info(caller: Caller, document: dict) -> dict:
    return {"VerifiedDestinationNumberArn": sms_arn(caller.region, caller.account_id, VERIFIED,
                                                    document["VerifiedDestinationNumberId"]),
            **{key: value for key, value in document.items() if not key.startswith("_")}}


def _require_verified(conn, caller: Caller, id_or_arn: str) -> dict:
    resource_id = local_id(caller, id_or_arn, VERIFIED)
    found = resources.get(conn, caller.account_id, caller.region, VERIFIED, resource_id)
    if found is None:
        raise NotFound(f"Verified destination number {resource_id} does not exist",
                       details={"ResourceType": VERIFIED, "ResourceId": resource_id})
    return found


def create_verified_number(ctx: Context, caller: Caller, number: str, tag_list: list[dict] | None = None) -> dict:
    require_admin(caller, "add verified destination numbers")
    number = parse_e164(number, "DestinationPhoneNumber")
    new_tags = tags.tag_map(tag_list)
    account, region = caller.account_id, caller.region
    with ctx.db.write() as conn:
        lock_keys(conn, "sms-verified-destinations", [f"{account}/{region}"])
        if resources.by_name(conn, account, region, VERIFIED, number) is not None:
            raise Conflict(f"{number} is already a verified destination number",
                           details={"Reason": "RESOURCE_ALREADY_EXISTS", "ResourceType": VERIFIED,
                                    "ResourceId": number})
        maximum = limits.MAX_VERIFIED_DESTINATIONS
        if resources.count(conn, account, region, VERIFIED) >= maximum:
            raise LimitExceeded(f"An account can have at most {maximum} verified destination numbers",
                                details={"Reason": "VERIFIED_DESTINATION_NUMBERS_PER_ACCOUNT"})
        resource_id = new_verified_destination_id()
        document = {"VerifiedDestinationNumberId": resource_id, "DestinationPhoneNumber": number,
                    "Status": "PENDING", "CreatedTimestamp": time.time()}
        resources.insert(conn, account, region, VERIFIED, resource_id, number, document)
        arn = sms_arn(region, account, VERIFIED, resource_id)
        return {**_verified_info(caller, document), "Tags": tags.attach(conn, arn, new_tags)}


def send_verification_code(ctx: Context, caller: Caller, id_or_arn: str, channel: str,
                           origination: str | None = None) -> dict:
    """Make a new code (replacing any earlier one) and send it as a text; the text's MessageId. It
    leaves from `origination` when given, else from an identity of the account that can reach the
    number, else from Pinfold's own sender id `Verify`; it is free, and goes out from the sandbox."""
    require_admin(caller, "verify destination numbers")
    if channel != "TEXT":
        raise invalid("Pinfold sends verification codes by text only", "VOICE_CAPABILITY_NOT_AVAILABLE",
                      "VerificationChannel")
    now, message_id = time.time(), str(uuid.uuid4())
    with ctx.db.write() as conn:
        row = _require_verified(conn, caller, id_or_arn)
        document = row["document"]
        if document["Status"] == "VERIFIED":
            raise Conflict(f"{document['DestinationPhoneNumber']} is already verified",
                           details={"Reason": "VERIFICATION_ALREADY_COMPLETE", "ResourceType": VERIFIED,
                                    "ResourceId": row["id"]})
        sent = [at for at in document.get("_codes_sent", []) if now - at < 24 * 3600]
        if len(sent) >= MAX_CODES_A_DAY:
            raise LimitExceeded(f"At most {MAX_CODES_A_DAY} verification codes a day go to one number",
                                details={"Reason": "VERIFICATION_ATTEMPTS_PER_DAY"})
        code = f"{secrets.randbelow(10 ** 6):06d}"
        document = {**document, "_code": code, "_code_sent_at": now, "_code_message_id": message_id,
                    "_guesses": 0, "_codes_sent": [*sent, now]}
        resources.update(conn, caller.account_id, caller.region, VERIFIED, row["id"], document=document)
        _send_code(conn, caller, document["DestinationPhoneNumber"], code, origination, message_id, now)
    return {"MessageId": message_id}


def _send_code(conn, caller: Caller, number: str, code: str, origination: str | None, message_id: str,
               now: float) -> None:
    from pinfold.sms import send  # send reads the account through checks, which imports this module

    destination = send.destination_of(number)
    try:
        route = send.choose_route(conn, caller, origination, destination, message_type="TRANSACTIONAL")
    except PinfoldError:
        if origination:
            raise
        route = send.Route(routing.Identity(routing.SENDER_ID, "Verify", "Verify", {}), "Default")
    row = send.text_row(caller.account_id, caller.region, route, destination,
                        f"Your verification code is {code}. It expires in 24 hours.", now=now,
                        extra={"message_type": "TRANSACTIONAL", "expires_at": now + CODE_SECONDS,
                               "verification": True})
    send.queue_rows(conn, caller.account_id, caller.region,
                    [{**row, "id": message_id, "message": {**row["message"], "price": 0.0}}], now=now)


def verify_number(ctx: Context, caller: Caller, id_or_arn: str, code: str) -> dict:
    require_admin(caller, "verify destination numbers")
    with ctx.db.write() as conn:
        row = _require_verified(conn, caller, id_or_arn)
        document, conflict = row["document"], {"ResourceType": VERIFIED, "ResourceId": row["id"]}
        if document["Status"] == "VERIFIED":
            raise Conflict("This number is already verified",
                           details={"Reason": "VERIFICATION_ALREADY_COMPLETE", **conflict})
        expected = document.get("_code")
        if expected is None or time.time() - document["_code_sent_at"] > CODE_SECONDS:
            raise Conflict("No verification code is current for this number; send a new one",
                           details={"Reason": "VERIFICATION_CODE_EXPIRED", **conflict})
        if not hmac.compare_digest(expected.encode(), code.encode()):
            guesses = document.get("_guesses", 0) + 1
            spent = {"_code": None} if guesses >= MAX_GUESSES else {}
            resources.update(conn, caller.account_id, caller.region, VERIFIED, row["id"],
                             document={**document, "_guesses": guesses, **spent})
            failed = invalid("The verification code does not match", "VERIFICATION_CODE_MISMATCH", "VerificationCode")
        else:
            failed = None
            document = {key: value for key, value in document.items() if key not in ("_code", "_guesses")}
            document["Status"] = "VERIFIED"
            resources.update(conn, caller.account_id, caller.region, VERIFIED, row["id"], document=document)
    if failed is not None:  # raised after the block so the count of wrong guesses is committed
        raise failed
    return _verified_info(caller, document)


def describe_verified_numbers(ctx: Context, caller: Caller, ids: list[str] | None = None,
                              numbers: list[str] | None = None, filters: list[dict] | None = None,
                              max_results: int | None = None, token: str | None = None) -> dict:
    limit, after = page_limit(max_results), page_after(token, "sms-verified-destinations")
    statuses = None
    for item in filters or []:
        if item["Name"] != "status":
            raise invalid(f"Unknown filter {item['Name']!r}", "INVALID_FILTER_VALUES", "Filters")
        statuses = set(item["Values"]) if statuses is None else statuses & set(item["Values"])
    wanted = {parse_e164(number, "DestinationPhoneNumbers") for number in numbers or []}
    with ctx.db.read() as conn:
        if ids:
            rows = [_require_verified(conn, caller, value) for value in ids]
            rows = sorted({row["id"]: row for row in rows}.values(), key=lambda row: row["id"])
            rows = [row for row in rows if after is None or row["id"] > after]
        else:  # bounded by the quota of verified numbers
            rows = resources.listing(conn, caller.account_id, caller.region, VERIFIED, after=after)
    rows = [row for row in rows if (not wanted or row["name"] in wanted)
            and (statuses is None or row["document"]["Status"] in statuses)][:limit + 1]
    return page(rows, limit, "sms-verified-destinations", lambda row: row["id"], "VerifiedDestinationNumbers",
                lambda row: _verified_info(caller, row["document"]))


def delete_verified_number(ctx: Context, caller: Caller, id_or_arn: str) -> dict:
    require_admin(caller, "remove verified destination numbers")
    with ctx.db.write() as conn:
        row = _require_verified(conn, caller, id_or_arn)
        resources.delete(conn, caller.account_id, caller.region, VERIFIED, row["id"])
        tags.detach_all(conn, sms_arn(caller.region, caller.account_id, VERIFIED, row["id"]))
    info = _verified_info(caller, row["document"])
    del info["Status"]
    return info


def is_verified(conn, account_id: str, region: str, number: str) -> bool:
    """Whether a sandboxed account may send to `number` (the sending side asks this)."""
    found = resources.by_name(conn, account_id, region, VERIFIED, number)
    return found is not None and found["document"]["Status"] == "VERIFIED"
