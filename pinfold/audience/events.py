"""PutEvents: apply the endpoint updates it carries and store its events in the outbox.

Results are per item, as Pinpoint reports them: an endpoint or event that breaks a rule gets a 400
result and is not written, while the rest of the request is. A request over the 100-event limit is
refused whole.
"""

from __future__ import annotations

import time

from pinfold.audience import endpoints as endpoint_service
from pinfold.audience.rules import endpoints as rules
from pinfold.audience.store import endpoints as endpoint_store
from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller, tenant_value_of
from pinfold.core.errors import PinfoldError
from pinfold.events import outbox
from pinfold.events.records import Origin, app_event
from pinfold.projects import projects as project_service
from pinfold.tenancy.store import tenants as tenant_store

MAX_EVENT_ATTRIBUTE_KEYS = 40  # attributes + metrics per event
MAX_EVENT_ATTRIBUTE_VALUE = 200
MAX_EVENT_TYPE = 64  # the outbox's event_type column
_ACCEPTED = {"Message": "Accepted", "StatusCode": 202}


def put_events(ctx: Context, caller: Caller, project_id: str, batch: dict[str, dict]) -> dict:
    total = sum(len(item.get("Events") or {}) for item in batch.values())
    rules.check_batch_size(total, what="PutEvents event", limit=rules.MAX_EVENTS_PER_REQUEST)
    arrival = int(time.time() * 1000)
    results: dict[str, dict] = {}
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        owner_of = owners(conn, caller, project, list(batch))
        rows = []
        for endpoint_id, item in batch.items():
            endpoint, failure = _apply_endpoint(conn, caller, project, endpoint_id, item.get("Endpoint"))
            if failure is not None:
                results[endpoint_id] = _failed_item(failure, item)
                continue
            tenant_id = owner_of(endpoint_id, endpoint)
            origin = Origin(project["account_id"], project["region"], project_id, tenant_id)
            events = {}
            for event_key, event in (item.get("Events") or {}).items():
                try:
                    rows.append(_outbox_row(origin, endpoint_id, _normalise(event), endpoint, arrival))
                    events[event_key] = _ACCEPTED
                except PinfoldError as error:
                    events[event_key] = {"Message": error.message, "StatusCode": 400}
            results[endpoint_id] = {"EndpointItemResponse": _ACCEPTED, "EventsItemResponse": events}
        outbox.append(conn, rows)
    return {"Results": results}


def owners(conn, caller: Caller, project: dict, endpoint_ids: list[str]):
    """A function giving the tenant an event belongs to, whoever sends it: the caller's own tenant;
    else the project's tenant; else, in a shared project, the tenant whose attribute the endpoint
    carries (None for an endpoint that belongs to no tenant)."""
    if caller.tenant_id is not None:
        return lambda endpoint_id, endpoint: caller.tenant_id
    by_value = tenant_store.owners_in_project(conn, project["id"])
    key = project["tenant_attribute_key"]
    if key is None:
        return lambda endpoint_id, endpoint: by_value.get(None)
    stored = endpoint_store.get_many(conn, project["id"], endpoint_ids)

    def owner(endpoint_id: str, endpoint: dict | None) -> str | None:
        value = tenant_value_of(endpoint, key) if endpoint else (stored.get(endpoint_id) or {}).get("tenant_value")
        return by_value.get(value) if value is not None else None
    return owner


def _apply_endpoint(conn, caller: Caller, project: dict, endpoint_id: str, update: dict | None):
    """Upsert the endpoint the item carries (if any) in a savepoint; return (document, failure)."""
    if not update or not any(value is not None for value in update.values()):
        return None, None
    try:
        with conn.begin_nested():
            (doc,) = endpoint_service.upsert_in(conn, caller, project, [(endpoint_id, update)])
        return doc, None
    except PinfoldError as error:
        return None, error


def _failed_item(error: PinfoldError, item: dict) -> dict:
    skipped = {"Message": f"Not recorded: the endpoint update failed: {error.message}", "StatusCode": 400}
    return {
        "EndpointItemResponse": {"Message": error.message, "StatusCode": 400},
        "EventsItemResponse": {key: skipped for key in (item.get("Events") or {})},
    }


def _normalise(event: dict) -> dict:
    """Check an event against the ingestion limits and parse its timestamps to epoch ms."""
    if not 0 < len(event["EventType"]) <= MAX_EVENT_TYPE:
        raise PinfoldError(f"EventType must be 1 to {MAX_EVENT_TYPE} characters long")
    attributes, metrics = event.get("Attributes") or {}, event.get("Metrics") or {}
    if len(attributes) + len(metrics) > MAX_EVENT_ATTRIBUTE_KEYS:
        raise PinfoldError(f"An event can have at most {MAX_EVENT_ATTRIBUTE_KEYS} attribute and metric keys")
    for key, value in attributes.items():
        if len(key) > rules.MAX_ATTRIBUTE_NAME or len(value) > MAX_EVENT_ATTRIBUTE_VALUE:
            raise PinfoldError(
                f"Event attribute {key[:60]!r} breaks the limits: names up to {rules.MAX_ATTRIBUTE_NAME} "
                f"and values up to {MAX_EVENT_ATTRIBUTE_VALUE} characters"
            )
    normalised = {**event, "_timestamp_ms": _epoch_ms(event["Timestamp"], "Timestamp")}
    session = event.get("Session")
    if session:
        normalised["Session"] = {
            **session,
            "_start_ms": _epoch_ms(session["StartTimestamp"], "Session.StartTimestamp"),
            "_stop_ms": _epoch_ms(session["StopTimestamp"], "Session.StopTimestamp")
            if session.get("StopTimestamp") else None,
        }
    return normalised


def _epoch_ms(text: str, field: str) -> int:
    try:
        return int(ids.parse_iso(text).timestamp() * 1000)
    except (ValueError, TypeError):
        raise PinfoldError(f"{field} must be an ISO 8601 date and time, such as 2026-11-26T10:00:00Z") from None


def _outbox_row(origin: Origin, endpoint_id: str, event: dict, endpoint: dict | None, arrival: int) -> dict:
    event_id = ids.new_event_id()
    record = app_event(origin, event_id=event_id, endpoint_id=endpoint_id, event=event, endpoint=endpoint,
                       arrival_timestamp=arrival)
    return {
        "event_id": event_id, "account_id": origin.account_id, "region": origin.region,
        "project_id": origin.project_id, "tenant_id": origin.tenant_id, "event_type": event["EventType"],
        "arrival_ms": arrival, "record": record,
    }
