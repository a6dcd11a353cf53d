"""The one builder for event records in Pinpoint's stream format (the v3.1 envelope).

Pinpoint's own fields keep their exact names and places. Pinfold adds one top-level object,
`pinfold`, with the tenant, account, project, region and the record's unique event id, so
consumers that know only Pinpoint's format read the records unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

EVENT_VERSION = "3.1"


@dataclass(frozen=True)
class Origin:
    """Where a record comes from: the project it belongs to and (when there is one) the tenant."""

    account_id: str
    region: str
    project_id: str
    tenant_id: str | None


def envelope(origin: Origin, *, event_id: str, event_type: str, event_timestamp: int, arrival_timestamp: int,
             client_id: str, attributes: dict | None = None, metrics: dict | None = None,
             application: dict | None = None, device: dict | None = None, session: dict | None = None,
             **extra) -> dict:
    """A record with Pinpoint's common envelope; `extra` adds type-specific members (facets, ...)."""
    record = {
        "event_type": event_type,
        "event_timestamp": event_timestamp,
        "arrival_timestamp": arrival_timestamp,
        "event_version": EVENT_VERSION,
        "application": {"app_id": origin.project_id, "sdk": {}, **(application or {})},
        "client": {"client_id": client_id},
        "device": device or {"platform": {}},
        "session": session or {},
        "attributes": attributes or {},
        "metrics": metrics or {},
        "awsAccountId": origin.account_id,
        **extra,
        "pinfold": {
            "event_id": event_id,
            "tenant_id": origin.tenant_id,
            "account_id": origin.account_id,
            "project_id": origin.project_id,
            "region": origin.region,
        },
    }
    return record


def app_event(origin: Origin, *, event_id: str, endpoint_id: str, event: dict, endpoint: dict | None,
              arrival_timestamp: int) -> dict:
    """A PutEvents event (custom or `_session.*`) as the stream carries it."""
    return envelope(
        origin,
        event_id=event_id,
        event_type=event["EventType"],
        event_timestamp=event["_timestamp_ms"],
        arrival_timestamp=arrival_timestamp,
        client_id=endpoint_id,
        attributes=event.get("Attributes") or {},
        metrics=event.get("Metrics") or {},
        application=_application(event),
        device=_device(endpoint or {}),
        session=_session(event.get("Session")),
    )


def _application(event: dict) -> dict:
    fields = {
        "package_name": event.get("AppPackageName"),
        "title": event.get("AppTitle"),
        "version_code": event.get("AppVersionCode"),
    }
    application = {k: v for k, v in fields.items() if v is not None}
    sdk = {k: v for k, v in (("name", event.get("SdkName")), ("version", event.get("ClientSdkVersion"))) if v}
    application["sdk"] = sdk
    return application


def _device(endpoint: dict) -> dict:
    demographic = endpoint.get("Demographic") or {}
    platform = {k: v for k, v in (("name", demographic.get("Platform")),
                                  ("version", demographic.get("PlatformVersion"))) if v}
    device = {"platform": platform}
    for key, member in (("make", "Make"), ("model", "Model")):
        if demographic.get(member):
            device[key] = demographic[member]
    if demographic.get("Locale"):
        locale = demographic["Locale"]
        language, _, country = locale.partition("_")
        device["locale"] = {"code": locale, "language": language, **({"country": country} if country else {})}
    return device


def _session(session: dict | None) -> dict:
    if not session:
        return {}
    shaped = {"session_id": session.get("Id"), "start_timestamp": session.get("_start_ms"),
              "stop_timestamp": session.get("_stop_ms")}
    if session.get("Duration") is not None:
        shaped["duration"] = session["Duration"]
    return {k: v for k, v in shaped.items() if v is not None}


# --- email ---------------------------------------------------------------------------------------

# What each email event says in `attributes.feedback`, as Pinpoint's samples do (a click names its link).
_EMAIL_FEEDBACK = {"_email.send": "received", "_email.delivered": "delivered"}


def mail_facet(*, message_id: str, sent_ms: int, from_address: str, destination: list[str],
               headers: list[tuple[str, str]], subject: str, to: list[str]) -> dict:
    """The `mail` object every email event carries: the message as it left Pinfold."""
    return {
        "message_id": message_id,
        "message_send_timestamp": sent_ms,
        "from_address": from_address,
        "destination": destination,
        "headers_truncated": False,
        "headers": [{"name": name, "value": value} for name, value in headers],
        "common_headers": {"from": from_address, "to": to, "subject": subject},
    }


def email_event(origin: Origin, *, event_id: str, event_type: str, client_id: str, mail: dict,
                detail: dict | None = None, event_timestamp: int, arrival_timestamp: int,
                attributes: dict | None = None, configuration_set: str | None = None,
                tags: dict | None = None, ses_tenant: str | None = None) -> dict:
    """An `_email.*` record; `detail` is the event's own object (send, delivery, bounce, complaint,
    open, click, reject, ...), keyed by its Pinpoint name. The configuration set and the message's
    tags ride in `pinfold` (configuration_set, email_tags): they choose SES event destinations; so
    does the SES tenant it was sent for (ses_tenant), whose reputation it counts in."""
    feedback = _EMAIL_FEEDBACK.get(event_type)
    merged = {**({"feedback": feedback} if feedback else {}), **(attributes or {})}
    record = envelope(origin, event_id=event_id, event_type=event_type, event_timestamp=event_timestamp,
                      arrival_timestamp=arrival_timestamp, client_id=client_id, attributes=merged,
                      facets={"email_channel": {"mail_event": {"mail": mail, **(detail or {})}}})
    record["pinfold"].update(configuration_set=configuration_set, email_tags=tags or {})
    if ses_tenant:
        record["pinfold"]["ses_tenant"] = ses_tenant
    return record
