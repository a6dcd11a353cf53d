"""Pools of origination identities (CreatePool, DescribePools, UpdatePool, DeletePool,
AssociateOriginationIdentity, DisassociateOriginationIdentity, ListPoolOriginationIdentities) and
the keywords of numbers and pools (PutKeyword, DescribeKeywords, DeleteKeyword).

A pool is made from its first identity and takes that identity's message type (which must be the
one asked for), opt-out list, two-way and self-managed opt-out settings and keywords; a pool made
from a sender id starts with the Default list, no two-way and HELP/STOP. Deletion protection is
not inherited. A phone number is in one pool at most; a sender id may be in several. Identities
joining later must match the pool's configuration as it is then (the *_MISMATCH reasons, see
`identities.join`). UpdatePool changes the pool only: sends through a pool, and the answers to
messages its numbers receive, follow the pool's settings and keywords, not the members' own.

A pool keeps at least one identity: taking out the last one is refused (ConflictException
LAST_PHONE_NUMBER, for sender ids too); DeletePool takes everything out and removes the pool.
Keywords of a number that is in a pool cannot be changed (its pool's keywords answer for it).
Another tenant's pool, and the numbers in it, are absent to a confined caller (`access.Hidden`,
applied by `identities.find`).

Quotas per account and region: 100 pools (POOLS_PER_ACCOUNT, Pinfold's default, one per project at
the default project cap), 30 keywords a number or pool (`keywords.MAX_KEYWORDS`).
"""

from __future__ import annotations

import time

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import Conflict, NotFound
from pinfold.db.database import lock_keys
from pinfold.sms import access, identities, keywords, tags
from pinfold.sms.account import page, page_after, page_limit, require_admin
from pinfold.sms.identities import arn, find, find_identity, information
from pinfold.sms.rules import ids
from pinfold.sms.rules.ids import PHONE_NUMBER, POOL, SENDER_ID, invalid
from pinfold.sms.store import resources

MAX_POOLS = 100  # POOLS_PER_ACCOUNT
POOL_FILTERS = {"status": "Status", "message-type": "MessageType", "two-way-enabled": "TwoWayEnabled",
                "self-managed-opt-outs-enabled": "SelfManagedOptOutsEnabled", "opt-out-list-name": "OptOutListName",
                "shared-routes-enabled": "SharedRoutesEnabled",
                "deletion-protection-enabled": "DeletionProtectionEnabled", "two-way-channel-arn": "TwoWayChannelArn"}
MEMBER_FILTERS = {"iso-country-code": "IsoCountryCode", "number-capability": "NumberCapabilities"}
KEYWORD_FILTERS = {"keyword-action": "KeywordAction"}
_INHERITED = ("TwoWayEnabled", "TwoWayChannelArn", "TwoWayChannelRole", "SelfManagedOptOutsEnabled",
              "OptOutListName")


def _hold_membership(conn, caller: Caller) -> None:
    """One membership change at a time in an account, so a number never lands in two pools."""
    lock_keys(conn, "sms-pool-membership", [f"{caller.account_id}:{caller.region}"])


def _identity(conn, caller: Caller, value: str, country: str | None) -> dict:
    row = find_identity(conn, caller, value, (PHONE_NUMBER, SENDER_ID), country)
    if row["kind"] == PHONE_NUMBER and country and row["document"]["IsoCountryCode"] != country:
        raise invalid(f"Phone number {row['id']} is in {row['document']['IsoCountryCode']}, not {country}",
                      "COUNTRY_CODE_MISMATCH", "IsoCountryCode")
    return row


def _inherited(conn, caller: Caller, identity: dict, message_type: str) -> dict:
    """What a new pool takes from its first identity."""
    document = identity["document"]
    if identity["kind"] == SENDER_ID:
        if message_type not in document.get("MessageTypes", []):
            raise Conflict(f"Sender id {identity['id']} is not for {message_type} messages", details={
                "Reason": "MESSAGE_TYPE_MISMATCH", "ResourceType": SENDER_ID, "ResourceId": identity["id"]})
        return {"TwoWayEnabled": False, "SelfManagedOptOutsEnabled": False,
                "OptOutListName": identities.opt_out_list(conn, caller, None), "_keywords": keywords.default_keywords()}
    if document["MessageType"] != message_type:
        raise Conflict(f"Phone number {identity['id']} is for {document['MessageType']} messages, not {message_type}",
                       details={"Reason": "MESSAGE_TYPE_MISMATCH", "ResourceType": PHONE_NUMBER,
                                "ResourceId": identity["id"]})
    inherited = {member: document[member] for member in _INHERITED if member in document}
    return {**inherited, "_keywords": keywords.keywords_of(document)}


def create(ctx: Context, caller: Caller, request: dict) -> dict:
    """CreatePool from its first origination identity; the same ClientToken gives back the same pool."""
    require_admin(caller, "create pools")
    new_tags = tags.tag_map(request.get("Tags"))
    account, region = caller.account_id, caller.region
    pool_id = ids.new_pool_id(request.get("ClientToken"), scope=f"{account}:{region}")
    with ctx.db.write() as conn:
        identities.hold(conn, caller, POOL)
        _hold_membership(conn, caller)
        existing = resources.get(conn, account, region, POOL, pool_id)
        if existing is not None:
            return information(caller, existing)
        identities.check_quota(conn, caller, POOL, "POOLS", "POOLS_PER_ACCOUNT")
        identity = _identity(conn, caller, request["OriginationIdentity"], request.get("IsoCountryCode"))
        if identity["kind"] == PHONE_NUMBER and identity["pool_id"]:
            raise Conflict(f"Phone number {identity['id']} is already in pool {identity['pool_id']}", details={
                "Reason": "PHONE_NUMBER_ASSOCIATED_TO_POOL", "ResourceType": PHONE_NUMBER,
                "ResourceId": identity["id"]})
        now = time.time()
        document = {"PoolId": pool_id, "Status": "ACTIVE", "MessageType": request["MessageType"],
                    **_inherited(conn, caller, identity, request["MessageType"]), "SharedRoutesEnabled": False,
                    "DeletionProtectionEnabled": bool(request.get("DeletionProtectionEnabled")),
                    "CreatedTimestamp": now, "_sender_ids": []}
        resources.insert(conn, account, region, POOL, pool_id, pool_id, document, created_at=now)
        identities.join(conn, caller, resources.get(conn, account, region, POOL, pool_id), identity)
        row = resources.get(conn, account, region, POOL, pool_id)
        return {**information(caller, row), "Tags": tags.attach(conn, arn(caller, POOL, pool_id), new_tags)}


def describe(ctx: Context, caller: Caller, pool_ids: list[str] | None = None, filters=None, owner: str | None = None,
             max_results: int | None = None, token: str | None = None) -> dict:
    named = [{"value": value} for value in pool_ids or []]
    return identities.describe(ctx, caller, POOL, named, filters, POOL_FILTERS, owner, max_results, token, "Pools")


def update(ctx: Context, caller: Caller, request: dict) -> dict:
    """UpdatePool: two-way, self-managed opt-outs, opt-out list, shared routes, deletion protection."""
    require_admin(caller, "change pools")
    with ctx.db.write() as conn:
        row = find(conn, caller, POOL, request["PoolId"])
        document = identities.updated(conn, caller, row["document"], request, "SharedRoutesEnabled")
        resources.update(conn, caller.account_id, caller.region, POOL, row["id"], document=document)
        return information(caller, {**row, "document": document})


def delete(ctx: Context, caller: Caller, pool_id: str) -> dict:
    """DeletePool: refused with deletion protection on; its identities are taken out first."""
    require_admin(caller, "delete pools")
    with ctx.db.write() as conn:
        _hold_membership(conn, caller)
        row = find(conn, caller, POOL, pool_id)
        if row["document"].get("DeletionProtectionEnabled"):
            raise Conflict(f"Pool {row['id']} has deletion protection on; turn it off first", details={
                "Reason": "DELETION_PROTECTION_ENABLED", "ResourceType": POOL, "ResourceId": row["id"]})
        for number in resources.listing(conn, caller.account_id, caller.region, PHONE_NUMBER, pool_id=row["id"]):
            identities.leave(conn, caller, row, number, keep_one=False)
        resources.delete(conn, caller.account_id, caller.region, POOL, row["id"])
        tags.detach_all(conn, arn(caller, POOL, row["id"]))
    return {**information(caller, row), "Status": "DELETING"}


def _membership(caller: Caller, pool: dict, row: dict) -> dict:
    document = row["document"]
    return {"PoolArn": arn(caller, POOL, pool["id"]), "PoolId": pool["id"],
            "OriginationIdentityArn": arn(caller, row["kind"], row["id"]),
            "OriginationIdentity": document.get("PhoneNumberId") or document["SenderId"],
            "IsoCountryCode": document["IsoCountryCode"]}


def associate(ctx: Context, caller: Caller, pool_id: str, identity: str, country: str | None = None) -> dict:
    """AssociateOriginationIdentity; associating an identity already in the pool changes nothing."""
    require_admin(caller, "change pools")
    with ctx.db.write() as conn:
        _hold_membership(conn, caller)
        pool = find(conn, caller, POOL, pool_id)
        row = identities.join(conn, caller, pool, _identity(conn, caller, identity, country))
        return _membership(caller, pool, row)


def disassociate(ctx: Context, caller: Caller, pool_id: str, identity: str, country: str | None = None) -> dict:
    """DisassociateOriginationIdentity; never the pool's last identity."""
    require_admin(caller, "change pools")
    with ctx.db.write() as conn:
        _hold_membership(conn, caller)
        pool = find(conn, caller, POOL, pool_id)
        row = _identity(conn, caller, identity, country)
        identities.leave(conn, caller, pool, row)
        return _membership(caller, pool, row)


def _member_metadata(caller: Caller, row: dict) -> dict:
    document = row["document"]
    metadata = {"OriginationIdentityArn": arn(caller, row["kind"], row["id"]),
                "OriginationIdentity": document.get("PhoneNumberId") or document["SenderId"],
                "IsoCountryCode": document["IsoCountryCode"],
                "NumberCapabilities": document.get("NumberCapabilities") or ["SMS"]}
    if row["kind"] == PHONE_NUMBER:
        metadata["PhoneNumber"] = document["PhoneNumber"]
    return metadata


def list_identities(ctx: Context, caller: Caller, pool_id: str, filters=None, max_results: int | None = None,
                    token: str | None = None) -> dict:
    """ListPoolOriginationIdentities, in ARN order (bounded by the per-pool quota)."""
    keep = ids.filter_predicate(filters, MEMBER_FILTERS)
    limit, listing = page_limit(max_results), "sms:pool-members"
    after = page_after(token, listing) or ""
    with ctx.db.read() as conn:
        hidden = access.hidden_from(conn, caller)
        pool = find(conn, caller, POOL, pool_id, hidden=hidden)
        shown = sorted((_member_metadata(caller, row) for row in identities.members(conn, caller, pool)
                        if hidden.shows(row)), key=lambda item: item["OriginationIdentityArn"])
    rows = [item for item in shown if item["OriginationIdentityArn"] > after and keep(item)][:limit + 1]
    answer = page(rows, limit, listing, lambda item: item["OriginationIdentityArn"], "OriginationIdentities",
                  lambda item: item)
    return {"PoolArn": arn(caller, POOL, pool["id"]), "PoolId": pool["id"], **answer}


# --- keywords of a phone number or pool -------------------------------------------------------------

def _keyword_owner(conn, caller: Caller, identity: str, *, changing: bool) -> dict:
    row = find_identity(conn, caller, identity, (PHONE_NUMBER, POOL))
    if changing and row["kind"] == PHONE_NUMBER and row["pool_id"]:
        raise Conflict(f"Phone number {row['id']} is in pool {row['pool_id']}, whose keywords answer for it: change "
                       "the pool's keywords", details={"Reason": "PHONE_NUMBER_ASSOCIATED_TO_POOL",
                                                       "ResourceType": PHONE_NUMBER, "ResourceId": row["id"]})
    return row


def _owner_members(caller: Caller, row: dict) -> dict:
    return {"OriginationIdentityArn": arn(caller, row["kind"], row["id"]), "OriginationIdentity": row["id"]}


def _change_keywords(ctx: Context, caller: Caller, identity: str, change) -> dict:
    require_admin(caller, "change keywords")
    with ctx.db.write() as conn:
        row = _keyword_owner(conn, caller, identity, changing=True)
        document = dict(row["document"])
        document["_keywords"], shown = change(keywords.keywords_of(document), row["kind"])
        resources.update(conn, caller.account_id, caller.region, row["kind"], row["id"], document=document)
    return {**_owner_members(caller, row), **shown}


def put_keyword(ctx: Context, caller: Caller, identity: str, keyword: str, message: str,
                action: str | None = None) -> dict:
    """PutKeyword: create or change a keyword (HELP and STOP: their message only)."""
    def change(current: dict, kind: str):
        reason = "KEYWORDS_PER_POOL" if kind == POOL else "KEYWORDS_PER_PHONE_NUMBER"
        return keywords.put(current, keyword, message, action, quota_reason=reason)
    return _change_keywords(ctx, caller, identity, change)


def delete_keyword(ctx: Context, caller: Caller, identity: str, keyword: str) -> dict:
    """DeleteKeyword: any keyword but HELP and STOP."""
    return _change_keywords(ctx, caller, identity, lambda current, _kind: keywords.delete(current, keyword))


def describe_keywords(ctx: Context, caller: Caller, identity: str, names: list[str] | None = None, filters=None,
                      max_results: int | None = None, token: str | None = None) -> dict:
    """DescribeKeywords: the identity's keywords in keyword order, or the named ones."""
    keep = ids.filter_predicate(filters, KEYWORD_FILTERS)
    limit, listing = page_limit(max_results), "sms:keywords"
    after = page_after(token, listing) or ""
    with ctx.db.read() as conn:
        row = _keyword_owner(conn, caller, identity, changing=False)
    current = keywords.keywords_of(row["document"])
    if names:
        wanted = [keywords.normalise(name) for name in names]
        for word in wanted:
            if word not in current:
                raise NotFound(f"Keyword {word} does not exist",
                               details={"ResourceType": "keyword", "ResourceId": word})
        current = {word: current[word] for word in wanted}
    rows = [item for item in keywords.information(current) if item["Keyword"] > after and keep(item)][:limit + 1]
    return {**_owner_members(caller, row),
            **page(rows, limit, listing, lambda item: item["Keyword"], "Keywords", lambda item: item)}
