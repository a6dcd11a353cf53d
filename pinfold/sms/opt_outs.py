"""Opt-out lists and the numbers opted out on them (CreateOptOutList ... DeleteOptedOutNumber), and
what an inbound STOP does (`opt_out_by_end_user`).

Every account has a `Default` list, made on first need: phone numbers use it unless told otherwise.
Pinfold refuses to delete `Default` (ConflictException RESOURCE_DELETION_NOT_ALLOWED): numbers
requested later fall back to it, so it must always exist. A list that a phone number or pool uses
cannot be deleted either; deleting a list forgets its entries.

A number removed from a list (DeleteOptedOutNumber) may be removed again only 30 days later, as AWS
documents; the store keeps the time of the last removal for this.
"""

from __future__ import annotations

import re
import time

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.arns import sms_arn
from pinfold.core.errors import Conflict, LimitExceeded, NotFound
from pinfold.db.database import lock_keys
from pinfold.sms import tags
from pinfold.sms.account import local_id, maximum, page, page_after, page_limit, require_admin
from pinfold.sms.rules.ids import invalid
from pinfold.sms.store import opt_outs as entries
from pinfold.sms.store import resources

KIND = "opt-out-list"
DEFAULT_LIST = "Default"
REOPT_IN_SECONDS = 30 * 24 * 3600  # a number may be removed from a list once every 30 days
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_e164(number: str, field: str) -> str:
    if not _E164.fullmatch(number or ""):
        raise invalid(f"{field} must be an E.164 phone number (+ and 1 to 15 digits): {number!r}", field=field)
    return number


def ensure_default(conn, account_id: str, region: str) -> dict:
    """The account's `Default` opt-out list row, made now if it never was."""
    return resources.ensure(conn, account_id, region, KIND, DEFAULT_LIST, DEFAULT_LIST,
                            {"OptOutListName": DEFAULT_LIST, "CreatedTimestamp": time.time()})


def opt_out_by_end_user(conn, account_id: str, region: str, list_name: str, number: str) -> None:
    """Record that the recipient `number` opted out of `list_name` (an inbound STOP), in the caller's
    transaction. A list deleted meanwhile is left alone; `Default` is made if it was never needed."""
    if list_name == DEFAULT_LIST:
        ensure_default(conn, account_id, region)
    elif resources.get(conn, account_id, region, KIND, list_name) is None:
        return
    entries.put(conn, account_id, region, list_name, number, end_user=True, at=time.time())


# --- lists -----------------------------------------------------------------------------------------

def _list_info(row: dict, account_id: str, region: str) -> dict:
    document = row["document"]
    return {"OptOutListArn": sms_arn(region, account_id, KIND, row["id"]),
            "OptOutListName": document["OptOutListName"], "CreatedTimestamp": document["CreatedTimestamp"]}


def _missing(name: str) -> NotFound:
    return NotFound(f"Opt-out list {name} does not exist", details={"ResourceType": KIND, "ResourceId": name})


def _require_list(conn, caller: Caller, name_or_arn: str) -> dict:
    name = local_id(caller, name_or_arn, KIND)
    if name == DEFAULT_LIST:
        return ensure_default(conn, caller.account_id, caller.region)
    found = resources.get(conn, caller.account_id, caller.region, KIND, name)
    if found is None:
        raise _missing(name)
    return found


def create_list(ctx: Context, caller: Caller, name: str, tag_list: list[dict] | None = None) -> dict:
    require_admin(caller, "create opt-out lists")
    if not _NAME.fullmatch(name or ""):
        raise invalid("OptOutListName must be 1 to 64 letters, digits, underscores or hyphens", field="OptOutListName")
    new_tags = tags.tag_map(tag_list)
    account, region = caller.account_id, caller.region
    with ctx.db.write() as conn:
        lock_keys(conn, "sms-opt-out-lists", [f"{account}/{region}"])
        ensure_default(conn, account, region)
        if resources.get(conn, account, region, KIND, name) is not None:
            raise Conflict(f"Opt-out list {name} already exists",
                           details={"Reason": "RESOURCE_ALREADY_EXISTS", "ResourceType": KIND, "ResourceId": name})
        most = maximum(conn, account, region, "OPT_OUT_LISTS")
        if resources.count(conn, account, region, KIND) >= most:
            raise LimitExceeded(f"This account can have at most {most} opt-out lists in a region",
                                details={"Reason": "OPT_OUT_LISTS_PER_ACCOUNT"})
        document = {"OptOutListName": name, "CreatedTimestamp": time.time()}
        resources.insert(conn, account, region, KIND, name, name, document)
        arn = sms_arn(region, account, KIND, name)
        return {**_list_info({"id": name, "document": document}, account, region),
                "Tags": tags.attach(conn, arn, new_tags)}


def describe_lists(ctx: Context, caller: Caller, names: list[str] | None = None, owner: str | None = None,
                   max_results: int | None = None, token: str | None = None) -> dict:
    """The account's lists in name order (`Default` among them), or just the named ones."""
    limit, after = page_limit(max_results), page_after(token, "sms-opt-out-lists")
    account, region = caller.account_id, caller.region
    if owner == "SHARED":  # nothing is shared into a Pinfold account
        return {"OptOutLists": []}
    with ctx.db.write() as conn:
        ensure_default(conn, account, region)
        if names:
            rows = sorted({row["id"]: row for row in (_require_list(conn, caller, name) for name in names)}.values(),
                          key=lambda row: row["id"])
            rows = [row for row in rows if after is None or row["id"] > after][:limit + 1]
        else:
            rows = resources.listing(conn, account, region, KIND, after=after, limit=limit + 1)
    return page(rows, limit, "sms-opt-out-lists", lambda row: row["id"], "OptOutLists",
                lambda row: _list_info(row, account, region))


def _users_of(conn, account_id: str, region: str, name: str) -> list[str]:
    """Phone numbers and pools whose OptOutListName is `name` (bounded by their quotas)."""
    return [row["id"] for kind in ("phone-number", "pool")
            for row in resources.listing(conn, account_id, region, kind)
            if row["document"].get("OptOutListName") == name]


def delete_list(ctx: Context, caller: Caller, name_or_arn: str) -> dict:
    require_admin(caller, "delete opt-out lists")
    account, region = caller.account_id, caller.region
    with ctx.db.write() as conn:
        row = _require_list(conn, caller, name_or_arn)
        name = row["id"]
        if name == DEFAULT_LIST:
            raise Conflict("The Default opt-out list cannot be deleted: phone numbers use it unless told otherwise",
                           details={"Reason": "RESOURCE_DELETION_NOT_ALLOWED", "ResourceType": KIND,
                                    "ResourceId": name})
        users = _users_of(conn, account, region, name)
        if users:
            raise Conflict(f"Opt-out list {name} is used by {', '.join(users[:5])}; give them another list first",
                           details={"Reason": "RESOURCE_DELETION_NOT_ALLOWED", "ResourceType": KIND,
                                    "ResourceId": name})
        resources.delete(conn, account, region, KIND, name)
        entries.drop_list(conn, account, region, name)
        tags.detach_all(conn, sms_arn(region, account, KIND, name))
        return _list_info(row, account, region)


# --- opted-out numbers -----------------------------------------------------------------------------

def _entry(entry: dict) -> dict:
    return {"OptedOutNumber": entry["number"], "OptedOutTimestamp": entry["opted_out_at"],
            "EndUserOptedOut": bool(entry["end_user"])}


def put_number(ctx: Context, caller: Caller, list_name_or_arn: str, number: str) -> dict:
    """Opt a number out through the API (EndUserOptedOut false); again is harmless."""
    require_admin(caller, "change opt-out lists")
    check_e164(number, "OptedOutNumber")
    account, region = caller.account_id, caller.region
    with ctx.db.write() as conn:
        row = _require_list(conn, caller, list_name_or_arn)
        existing = entries.get(conn, account, region, row["id"], number)
        if existing is None or not existing["opted_out"]:
            entries.put(conn, account, region, row["id"], number, end_user=False, at=time.time())
        entry = entries.get(conn, account, region, row["id"], number)
        return {**_list_info(row, account, region), **_entry(entry)}


def describe_numbers(ctx: Context, caller: Caller, list_name_or_arn: str, numbers: list[str] | None = None,
                     filters: list[dict] | None = None, max_results: int | None = None,
                     token: str | None = None) -> dict:
    limit, after = page_limit(max_results), page_after(token, "sms-opted-out-numbers")
    for number in numbers or []:
        check_e164(number, "OptedOutNumbers")
    wanted = _end_user_filter(filters or [])
    account, region = caller.account_id, caller.region
    with ctx.db.write() as conn:
        row = _require_list(conn, caller, list_name_or_arn)
        found = entries.listing(conn, account, region, row["id"], after=after, limit=limit + 1,
                                numbers=numbers or None,
                                end_user=next(iter(wanted)) if len(wanted) == 1 else None) if wanted else []
    info = _list_info(row, account, region)
    del info["CreatedTimestamp"]
    return {**info, **page(found, limit, "sms-opted-out-numbers", lambda entry: entry["number"],
                           "OptedOutNumbers", _entry)}


def _end_user_filter(filters: list[dict]) -> set[bool]:
    """Which EndUserOptedOut values the end-user-opted-out filters keep (each filter narrows)."""
    wanted = {True, False}
    for item in filters:
        if item["Name"] != "end-user-opted-out":
            raise invalid(f"Unknown filter {item['Name']!r}", "INVALID_FILTER_VALUES", "Filters")
        values = {value.lower() for value in item["Values"]}
        if not values <= {"true", "false"}:
            raise invalid("end-user-opted-out takes the values true and false", "INVALID_FILTER_VALUES", "Filters")
        wanted &= {value == "true" for value in values}
    return wanted


def delete_number(ctx: Context, caller: Caller, list_name_or_arn: str, number: str) -> dict:
    """Opt a number back in; refused within 30 days of its last removal from the list."""
    require_admin(caller, "change opt-out lists")
    check_e164(number, "OptedOutNumber")
    account, region, now = caller.account_id, caller.region, time.time()
    with ctx.db.write() as conn:
        row = _require_list(conn, caller, list_name_or_arn)
        entry = entries.get(conn, account, region, row["id"], number)
        if entry is None or not entry["opted_out"]:
            raise NotFound(f"{number} is not opted out on list {row['id']}",
                           details={"ResourceType": "opted-out-number", "ResourceId": number})
        if entry["removed_at"] is not None and now - entry["removed_at"] < REOPT_IN_SECONDS:
            raise invalid(f"{number} was removed from this list less than 30 days ago; a number can be removed "
                          "once every 30 days", "PHONE_NUMBER_CANNOT_BE_OPTED_IN", "OptedOutNumber")
        entries.remove(conn, account, region, row["id"], number, at=now)
        return {**_list_info(row, account, region), **_entry(entry)}
