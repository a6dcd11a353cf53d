"""Endpoints: upserts (single, batch, from PutEvents), reads, deletes and attribute removal.

In an sa-sp shared project a tenant's credentials reach only endpoints that carry its tenant
attribute: everything else reads as absent. Ids and channel+address pairs stay unique across the
whole project (Pinpoint's rule), so a collision with another tenant is refused without saying whose.
"""

from __future__ import annotations

import copy

from pinfold.audience.rules import endpoints as rules
from pinfold.audience.store import endpoints as store
from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller, stamp_tenant, tenant_value_of
from pinfold.core.errors import Conflict, InvalidInput, NotFound
from pinfold.projects import projects as project_service


def _visible(caller: Caller, stored: dict | None) -> dict | None:
    """The stored endpoint document if the caller may see it."""
    if stored is None:
        return None
    confined = caller.endpoint_tenant
    if confined is not None and stored["tenant_value"] != confined[1]:
        return None
    return stored["document"]


def _response(project_id: str, doc: dict) -> dict:
    return {**doc, "ApplicationId": project_id}


def upsert_in(conn, caller: Caller, project: dict, items: list[tuple[str, dict]]) -> list[dict]:
    """Merge each (endpoint id, EndpointRequest) into the project inside the caller's transaction.

    Raises before anything is written if any item breaks a limit or collides, so a batch is
    applied whole or not at all.
    """
    project_id, tenant_key = project["id"], project["tenant_attribute_key"]
    endpoint_ids = list({endpoint_id for endpoint_id, _ in items})
    store.lock(conn, project_id, endpoint_ids)  # concurrent updates of one endpoint merge, never overwrite
    stored = store.get_many(conn, project_id, endpoint_ids)
    merged: dict[str, dict] = {}
    now = ids.iso_now()
    for endpoint_id, update in items:
        if endpoint_id in merged:
            base = merged[endpoint_id]
        elif endpoint_id in stored:
            base = _visible(caller, stored[endpoint_id])
            if base is None:
                raise Conflict(f"Endpoint ID {endpoint_id!r} is not available in this shared project; choose another")
        else:
            base = None
        merged[endpoint_id] = rules.merge(
            base, stamp_tenant(update, caller), endpoint_id=endpoint_id, now=now, request_id=caller.request_id
        )
    docs = list(merged.values())
    _check_within(docs)
    previous = {endpoint_id: row["document"] for endpoint_id, row in stored.items()}
    try:
        # The unique index is the check against stored endpoints; only a refusal pays for a lookup
        # that names the holder.
        with conn.begin_nested():
            store.save(conn, project_id, docs, [tenant_value_of(doc, tenant_key) for doc in docs], previous)
    except Conflict:
        _check_addresses(conn, caller, project_id, docs)
        raise
    return docs


def _check_within(docs: list[dict]) -> None:
    """No two endpoints of one request may claim the same channel and address."""
    claimed: dict[tuple[str, str], str] = {}
    for doc in docs:
        if doc.get("Address") is None:
            continue
        pair = (doc["ChannelType"], doc["Address"])
        if pair in claimed:
            raise Conflict(_address_message(pair, f"endpoint {claimed[pair]!r} in the same request"))
        claimed[pair] = doc["Id"]


def _check_addresses(conn, caller: Caller, project_id: str, docs: list[dict]) -> None:
    """Channel + address must be unique within the project; name the holder when the caller may see it."""
    claimed = {(doc["ChannelType"], doc["Address"]): doc["Id"] for doc in docs if doc.get("Address") is not None}
    moving = {doc["Id"] for doc in docs}
    for pair, holder in store.address_holders(conn, project_id, list(claimed)).items():
        if holder == claimed[pair] or holder in moving:
            continue
        seen = _visible(caller, store.get_many(conn, project_id, [holder]).get(holder))
        who = f"endpoint {holder!r}" if seen is not None else "another endpoint in this shared project"
        raise Conflict(_address_message(pair, who))


def _address_message(pair: tuple[str, str], who: str) -> str:
    channel, address = pair
    return (f"Address conflict: {channel} address {address!r} is already held by {who}; "
            "channel and address must be unique within a project")


def update_endpoint(ctx: Context, caller: Caller, project_id: str, endpoint_id: str, request: dict) -> dict:
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        upsert_in(conn, caller, project, [(endpoint_id, request)])
    return _accepted(caller)


def update_batch(ctx: Context, caller: Caller, project_id: str, items: list[dict]) -> dict:
    """UpdateEndpointsBatch: at most 100 items, applied together or not at all."""
    rules.check_batch_size(len(items), what="UpdateEndpointsBatch item", limit=rules.MAX_BATCH_ITEMS)
    for index, item in enumerate(items):
        if not item.get("Id"):
            raise InvalidInput(f"Item[{index}].Id is required", field=f"Item[{index}].Id")
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        upsert_in(conn, caller, project, [(item["Id"], item) for item in items])
    return _accepted(caller)


def _accepted(caller: Caller) -> dict:
    return {"Message": "Accepted", "RequestID": caller.request_id}


def require(conn, caller: Caller, project_id: str, endpoint_id: str) -> dict:
    """One endpoint the caller can see; anything else reads as absent."""
    project_service.require(conn, caller, project_id)
    doc = _visible(caller, store.get_many(conn, project_id, [endpoint_id]).get(endpoint_id))
    if doc is None:
        raise NotFound(f"Resource not found: endpoint {endpoint_id}")
    return doc


def get(ctx: Context, caller: Caller, project_id: str, endpoint_id: str) -> dict:
    with ctx.db.read() as conn:
        return _response(project_id, require(conn, caller, project_id, endpoint_id))


def delete(ctx: Context, caller: Caller, project_id: str, endpoint_id: str) -> dict:
    with ctx.db.write() as conn:
        doc = require(conn, caller, project_id, endpoint_id)
        store.delete(conn, project_id, [doc])
    return _response(project_id, doc)


def _tenant_value(caller: Caller) -> str | None:
    confined = caller.endpoint_tenant
    return confined[1] if confined else None


def _user_endpoints(conn, caller: Caller, project_id: str, user_id: str) -> list[dict]:
    """The user's endpoints that the caller can see; a user with none reads as absent."""
    project_service.require(conn, caller, project_id)
    docs = store.by_user(conn, project_id, user_id, _tenant_value(caller))
    if not docs:
        raise NotFound(f"Resource not found: user {user_id}")
    return docs


def get_user_endpoints(ctx: Context, caller: Caller, project_id: str, user_id: str) -> dict:
    with ctx.db.read() as conn:
        docs = _user_endpoints(conn, caller, project_id, user_id)
    return {"Item": [_response(project_id, doc) for doc in docs]}


def delete_user_endpoints(ctx: Context, caller: Caller, project_id: str, user_id: str) -> dict:
    with ctx.db.write() as conn:
        docs = _user_endpoints(conn, caller, project_id, user_id)
        store.delete(conn, project_id, docs)
    return {"Item": [_response(project_id, doc) for doc in docs]}


def remove_attributes(ctx: Context, caller: Caller, project_id: str, attribute_type: str,
                      names: list[str]) -> dict:
    """RemoveAttributes: drop the named attributes from every endpoint the caller can reach."""
    if attribute_type not in rules.ATTRIBUTE_TYPES:
        raise InvalidInput(
            f"AttributeType must be one of {', '.join(rules.ATTRIBUTE_TYPES)}", field="AttributeType"
        )
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        key = project["tenant_attribute_key"]
        if key and attribute_type == "endpoint-custom-attributes" and key in names:
            raise InvalidInput(
                f"{key} is this shared project's tenant attribute and cannot be removed", field="Blacklist"
            )
        affected = [row.id for row in store.iter_with_attributes(conn, project_id, _tenant_value(caller))
                    if rules.remove_attributes(row.document, attribute_type, names)]
        for start in range(0, len(affected), 500):
            _remove_from(conn, project_id, affected[start:start + 500], attribute_type, names)
    return {"ApplicationId": project_id, "AttributeType": attribute_type, "Attributes": names}


def _remove_from(conn, project_id: str, endpoint_ids: list[str], attribute_type: str, names: list[str]) -> None:
    """Rewrite these endpoints without the attributes, under the same locks as updates take, and from a
    fresh read, so a concurrent update of one of them is kept rather than overwritten."""
    store.lock(conn, project_id, endpoint_ids)
    docs, tenant_values, previous = [], [], {}
    for endpoint_id, stored in store.get_many(conn, project_id, endpoint_ids).items():
        doc = copy.deepcopy(stored["document"])
        if rules.remove_attributes(doc, attribute_type, names):
            docs.append(doc)
            tenant_values.append(stored["tenant_value"])
            previous[endpoint_id] = stored["document"]
    store.save(conn, project_id, docs, tenant_values, previous)


def retire_tokens(conn, project_id: str, retired: dict[str, str]) -> list[str]:
    """Make INACTIVE the endpoints whose push token a provider declared dead (`retired`: endpoint id to
    the token the push went to), unless the endpoint holds another address since. Campaigns then pass
    them over (ENDPOINT_INACTIVE); an update that gives the endpoint a new token makes it ACTIVE again.
    Returns the ids changed."""
    ids = sorted(retired)
    store.lock(conn, project_id, ids)
    rows = store.get_many(conn, project_id, ids)
    changed = {endpoint_id: row for endpoint_id, row in rows.items()
               if row["document"].get("Address") == retired[endpoint_id]
               and row["document"].get("EndpointStatus") != "INACTIVE"}
    if changed:
        store.save(conn, project_id, [{**row["document"], "EndpointStatus": "INACTIVE"} for row in changed.values()],
                   [row["tenant_value"] for row in changed.values()],
                   previous={endpoint_id: row["document"] for endpoint_id, row in changed.items()})
    return sorted(changed)
