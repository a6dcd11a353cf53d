"""Email records as SES event publishing writes them, for configuration-set event destinations.

The stream and the lake carry Pinpoint's `_email.*` records; an SES configuration set's event
destinations receive the same events in SES's own shape (`eventType`, `mail`, and one object named
after the event), filtered by the destination's MatchingEventTypes. Pinfold's `pinfold` object
(tenant, account, project) rides along unchanged, so shared destinations can still tell tenants apart.
"""

from __future__ import annotations

from datetime import UTC, datetime

# Pinpoint event type → (SES eventType, MatchingEventTypes value, SES detail key, Pinpoint detail key)
_TYPES = {
    "_email.send": ("Send", "SEND", "send", "send"),
    "_email.delivered": ("Delivery", "DELIVERY", "delivery", "delivery"),
    "_email.hardbounce": ("Bounce", "BOUNCE", "bounce", "bounce"),
    "_email.softbounce": ("Bounce", "BOUNCE", "bounce", "bounce"),
    "_email.complaint": ("Complaint", "COMPLAINT", "complaint", "complaint"),
    "_email.rejected": ("Reject", "REJECT", "reject", "reject"),
    "_email.open": ("Open", "OPEN", "open", "open"),
    "_email.click": ("Click", "CLICK", "click", "click"),
    "_email.rendering_failure": ("Rendering Failure", "RENDERING_FAILURE", "failure", "failure"),
    "_email.unsubscribe": ("Subscription", "SUBSCRIPTION", "subscription", "unsubscribe"),
}


def matching_type(record: dict) -> str | None:
    """The MatchingEventTypes value that selects this record, or None for records SES never publishes."""
    known = _TYPES.get(record.get("event_type"))
    return known[1] if known else None


def destined(record: dict, account_id: str, region: str, configuration_set: str, types: set[str]) -> bool:
    """Whether a configuration set's destination (matching `types`) receives this record."""
    own = record.get("pinfold") or {}
    return (own.get("configuration_set") == configuration_set and own.get("account_id") == account_id
            and own.get("region") == region and matching_type(record) in types)


def ses_event(record: dict) -> dict:
    """The SES-shaped event for one `_email.*` record."""
    event_type, _matching, ses_key, pinpoint_key = _TYPES[record["event_type"]]
    facet = record["facets"]["email_channel"]["mail_event"]
    own = record["pinfold"]
    at = _iso(record["event_timestamp"])
    event = {"eventType": event_type, "mail": _mail(facet["mail"], own), "pinfold": own}
    event[ses_key] = _DETAILS.get(ses_key, _camel)(facet.get(pinpoint_key) or {}, at)
    return event


def _mail(mail: dict, own: dict) -> dict:
    common = mail.get("common_headers") or {}
    tags = {"ses:configuration-set": [own["configuration_set"]]} if own.get("configuration_set") else {}
    tags.update({name: [value] for name, value in (own.get("email_tags") or {}).items()})
    return {
        "timestamp": _iso(mail["message_send_timestamp"]),
        "source": mail["from_address"],
        "sendingAccountId": own["account_id"],
        "messageId": mail["message_id"],
        "destination": mail["destination"],
        "headersTruncated": mail.get("headers_truncated", False),
        "headers": mail.get("headers") or [],
        "commonHeaders": {"from": [common.get("from")], "to": common.get("to") or [],
                          "messageId": mail["message_id"], "subject": common.get("subject")},
        "tags": tags,
    }


def _bounce(bounce: dict, at: str) -> dict:
    shaped = {"bounceType": bounce.get("bounce_type"), "bounceSubType": bounce.get("bounce_sub_type"),
              "bouncedRecipients": [{"emailAddress": r["email_address"], "action": r.get("action"),
                                     "status": r.get("status"), "diagnosticCode": r.get("diagnostic_code")}
                                    for r in bounce.get("bounced_recipients") or []],
              "timestamp": at, "feedbackId": bounce.get("feedback_id")}
    if bounce.get("reporting_mta"):
        shaped["reportingMTA"] = bounce["reporting_mta"]
    return shaped


def _complaint(complaint: dict, at: str) -> dict:
    return {"complainedRecipients": [{"emailAddress": r["email_address"]}
                                     for r in complaint.get("complained_recipients") or []],
            "timestamp": at, "feedbackId": complaint.get("feedback_id"), "userAgent": complaint.get("user_agent"),
            "complaintFeedbackType": complaint.get("complaint_feedback_type"), "arrivalDate": at}


def _delivery(delivery: dict, at: str) -> dict:
    return {"timestamp": at, "processingTimeMillis": delivery.get("processing_time_millis"),
            "recipients": delivery.get("recipients") or [], "smtpResponse": delivery.get("smtp_response"),
            "reportingMTA": delivery.get("reporting_mta")}


def _camel(detail: dict, at: str) -> dict:
    """send, reject, open, click, failure, subscription: the same members, in SES's camelCase."""
    shaped = {_camel_name(key): value for key, value in detail.items()}
    if shaped:  # SES's send object is empty; the others carry when they happened
        shaped.setdefault("timestamp", at)
    return shaped


def _camel_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


_DETAILS = {"bounce": _bounce, "complaint": _complaint, "delivery": _delivery}


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
