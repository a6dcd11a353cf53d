"""Event records of text messages, in two shapes built from the same facts.

Pinpoint's stream (`_SMS.BUFFERED`, `_SMS.SUCCESS`, `_SMS.FAILURE`, the v3.1 envelope of
events/records.py) goes into the outbox, and from there to the lake and the project's event stream.
Each record also carries, in its `pinfold` member, what End User Messaging's own records need (the
configuration set, the encoding, the request time, the send's Context), so `text_events` can turn it
into the event-destination records of the configuration set (`TEXT_SUCCESSFUL`, `TEXT_DELIVERED`,
`TEXT_TTL_EXPIRED`, ...: camelCase, `eventVersion` "1.0") without another lookup.

`record_status` is the word that decides both: the adapters report it (adapters/base.py).
"""

from __future__ import annotations

import time

import orjson

from pinfold.core import ids
from pinfold.events.records import Origin, envelope

MILLICENTS_PER_DOLLAR = 100_000
# Pinpoint's event type for each record status: still on its way, delivered, or failed for good.
_BUFFERED = frozenset({"PENDING", "SUCCESSFUL", "CARRIER_UNREACHABLE"})
_SUCCESS = frozenset({"DELIVERED"})
# The End User Messaging records each status becomes: (eventType, messageStatus, isFinal, description).
_TEXT = {
    "PENDING": [("TEXT_PENDING", "PENDING", False, "The message is waiting to be taken by the carrier")],
    "SUCCESSFUL": [("TEXT_SUCCESSFUL", "SUCCESSFUL", False, "The carrier accepted the message")],
    "DELIVERED": [("TEXT_SUCCESSFUL", "SUCCESSFUL", False, "The carrier accepted the message"),
                  ("TEXT_DELIVERED", "DELIVERED", True, "The message reached the handset")],
    "CARRIER_UNREACHABLE": [("TEXT_CARRIER_UNREACHABLE", "CARRIER_UNREACHABLE", False,
                             "The carrier could not be reached; the message will be tried again")],
    "UNREACHABLE": [("TEXT_UNREACHABLE", "UNREACHABLE", True, "The handset could not be reached")],
    "INVALID": [("TEXT_INVALID", "INVALID", True, "The destination number is not valid")],
    "INVALID_MESSAGE": [("TEXT_INVALID_MESSAGE", "INVALID_MESSAGE", True, "The carrier refused the message body")],
    "BLOCKED": [("TEXT_BLOCKED", "BLOCKED", True, "The handset or its carrier blocks the message")],
    "OPTED_OUT": [("TEXT_BLOCKED", "OPTED_OUT", True, "The destination number opted out before it was sent")],
    "CARRIER_BLOCKED": [("TEXT_CARRIER_BLOCKED", "CARRIER_BLOCKED", True, "The carrier blocked the message")],
    "SPAM": [("TEXT_SPAM", "SPAM", True, "The carrier took the message for spam")],
    "TTL_EXPIRED": [("TEXT_TTL_EXPIRED", "TTL_EXPIRED", True, "The message was not sent within its TimeToLive")],
    "UNKNOWN": [("TEXT_UNKNOWN", "UNKNOWN", True, "The carrier did not say what became of the message")],
}
_FILTERS = {"ALL", "TEXT_ALL"}


def pinpoint_type(record_status: str) -> str:
    """`_SMS.BUFFERED`, `_SMS.SUCCESS` or `_SMS.FAILURE` for a record status."""
    if record_status in _BUFFERED:
        return "_SMS.BUFFERED"
    return "_SMS.SUCCESS" if record_status in _SUCCESS else "_SMS.FAILURE"


def outbox_row(row: dict, record_status: str, *, at: float, detail: str = "") -> dict:
    """An outbox row holding the `_SMS.*` record of one message (a `sms_messages` row) reaching
    `record_status` at `at`."""
    message = row["message"]
    event_type = pinpoint_type(record_status)
    origin = Origin(row["account_id"], row["region"], row.get("project_id") or "", row.get("tenant_id"))
    event_id = ids.new_event_id()
    now_ms = int(time.time() * 1000)
    attributes = {
        "sender_request_id": message.get("request_id") or "",
        "origination_phone_number": message["origination"],
        "destination_phone_number": message["destination"],
        "record_status": record_status,
        "iso_country_code": message["country"],
        "number_of_message_parts": str(message["parts"]),
        "message_id": row["id"],
        "message_type": message["message_type"].capitalize(),
    }
    if message.get("context"):
        attributes["customer_context"] = _json(message["context"])
    attributes.update(message.get("attributes") or {})  # a campaign's ids, when a campaign sent it
    metrics = {} if event_type == "_SMS.BUFFERED" else {
        "price_in_millicents_usd": round(message["price"] * MILLICENTS_PER_DOLLAR, 3)}
    record = envelope(origin, event_id=event_id, event_type=event_type, event_timestamp=int(at * 1000),
                      arrival_timestamp=now_ms, client_id=message.get("endpoint_id") or row["id"],
                      attributes=attributes, metrics=metrics)
    record["pinfold"].update(configuration_set=message.get("configuration_set"), sms={
        "encoding": message["encoding"], "request_ms": int(row["created_at"] * 1000),
        "international": message.get("international", False), "context": message.get("context") or {},
        "price": message["price"], "detail": detail, "pool_id": message.get("pool_id")})
    return {"event_id": event_id, "account_id": origin.account_id, "region": origin.region,
            "project_id": origin.project_id, "tenant_id": origin.tenant_id, "event_type": event_type,
            "arrival_ms": now_ms, "record": record}


OPT_OUT_TYPE = "_SMS.OPTOUT"


def opt_out_row(account_id: str, region: str, *, number: str, handset: str, pool_id: str | None,
                tenant_id: str | None) -> dict:
    """The `_SMS.OPTOUT` record of a handset that answered a number with an opt-out keyword (STOP):
    what the number's and its tenant's opt-out rates count."""
    origin = Origin(account_id, region, "", tenant_id)
    event_id, now_ms = ids.new_event_id(), int(time.time() * 1000)
    record = envelope(origin, event_id=event_id, event_type=OPT_OUT_TYPE, event_timestamp=now_ms,
                      arrival_timestamp=now_ms, client_id=event_id,
                      attributes={"origination_phone_number": number, "destination_phone_number": handset})
    record["pinfold"]["sms"] = {"pool_id": pool_id}
    return {"event_id": event_id, "account_id": account_id, "region": region, "project_id": "",
            "tenant_id": tenant_id, "event_type": OPT_OUT_TYPE, "arrival_ms": now_ms, "record": record}


def text_events(record: dict) -> list[dict]:
    """End User Messaging's event-destination records for one `_SMS.*` record (none for a status it
    has no event for)."""
    attributes, extra = record["attributes"], record["pinfold"].get("sms") or {}
    status = attributes["record_status"]
    return [{
        "eventType": event_type,
        "eventVersion": "1.0",
        "eventTimestamp": record["event_timestamp"],
        "isFinal": final,
        "originationPhoneNumber": attributes["origination_phone_number"],
        "destinationPhoneNumber": attributes["destination_phone_number"],
        "isoCountryCode": attributes["iso_country_code"],
        "isInternationalSend": bool(extra.get("international")),
        "messageId": attributes["message_id"],
        "messageRequestTimestamp": extra.get("request_ms"),
        "messageEncoding": extra.get("encoding"),
        "messageType": attributes["message_type"].upper(),
        "messageStatus": message_status,
        "messageStatusDescription": description,
        "context": extra.get("context") or {},
        "totalMessageParts": int(attributes["number_of_message_parts"]),
        "totalMessagePrice": extra.get("price") or 0.0,
        "totalCarrierFee": 0.0,
    } for event_type, message_status, final, description in _TEXT.get(status, [])]


def destined(record: dict, account_id: str, region: str, configuration_set: str, types: set[str]) -> bool:
    """Whether a record belongs to this configuration set's event destination matching `types`."""
    own = record.get("pinfold") or {}
    if not record.get("event_type", "").startswith("_SMS.") or own.get("configuration_set") != configuration_set:
        return False
    if (own.get("account_id"), own.get("region")) != (account_id, region):
        return False
    if types & _FILTERS:
        return True
    return any(event["eventType"] in types for event in text_events(record))


def _json(value) -> str:
    return orjson.dumps(value).decode()
