"""What an email sending pass decided: message states, suppression entries and event records, for
the pipeline to write in the group's transaction (sending/outcomes.py).

A 2xx is delivered; a 5xx a hard bounce (the address joins the suppression list when the account's,
tenant's or configuration set's reasons say so); a 4xx or an unreachable relay is tried again later
with doubling waits until the delivery budget is spent (then a soft bounce).

One record per event, built by events/records.py. The first attempt at a message emits
`_email.send`; then exactly one of `_email.delivered`, `_email.hardbounce` (a 5xx, or a recipient on
the suppression list), `_email.softbounce` (the delivery budget ran out on 4xx replies or an
unreachable relay), `_email.rejected` (the adapter refused to try) or, instead of the send,
`_email.rendering_failure`. Later feedback (DSNs, complaints, opens, clicks) goes through
email/feedback.py with the same builder.
"""

from __future__ import annotations

import logging
import time

from pinfold.core import ids
from pinfold.email.store import account as email_account
from pinfold.email.store import configuration_sets, messages, suppression
from pinfold.email.store import tenants as ses_tenants
from pinfold.events.records import Origin, email_event, mail_facet
from pinfold.sending.outcomes import retry_at

log = logging.getLogger("pinfold.sending")

SIMULATOR_DOMAIN = "simulator.amazonses.com"  # its mail never touches the suppression list, as in SES


def origin_of(batch: dict, recipient: dict) -> Origin:
    return Origin(batch["account_id"], batch["region"], batch["project_id"],
                  recipient.get("tenant_id") or batch["tenant_id"])


def event_row(origin: Origin, event_type: str, *, client_id: str, mail: dict, detail: dict | None,
              event_ms: int, attributes: dict | None = None, batch: dict | None = None) -> dict:
    """An outbox row holding one `_email.*` record (`batch` gives its configuration set, tags and the
    attributes every record of its messages carries, such as a campaign's ids)."""
    event_id = ids.new_event_id()
    now_ms = int(time.time() * 1000)
    batch = batch or {}
    definition = batch.get("definition") or {}
    merged = {**(definition.get("attributes") or {}), **(attributes or {})}
    record = email_event(origin, event_id=event_id, event_type=event_type, client_id=client_id, mail=mail,
                         detail=detail, event_timestamp=event_ms, arrival_timestamp=now_ms, attributes=merged,
                         configuration_set=batch.get("configuration_set"), tags=definition.get("tags"),
                         ses_tenant=batch.get("ses_tenant"))
    return {"event_id": event_id, "account_id": origin.account_id, "region": origin.region,
            "project_id": origin.project_id, "tenant_id": origin.tenant_id, "event_type": event_type,
            "arrival_ms": now_ms, "record": record}


def facet(message_id: str, mail: dict, sent_at: float, destination: list[str]) -> dict:
    """The records' `mail` object from what the message row keeps."""
    return mail_facet(message_id=message_id, sent_ms=int(sent_at * 1000), from_address=mail["from"],
                      destination=destination, headers=[tuple(pair) for pair in mail["headers"]],
                      subject=mail["subject"], to=mail["to"])


def decide(ctx, conn, group: list, *, now: float) -> tuple[list[dict], list[dict]]:
    """Each message's result (for store.finish_held) and the group's event records; suppression
    entries the outcomes cause are written into `conn`."""
    results, events = [], []
    for item in group:
        result, item_events = _decide(ctx, conn, item, now)
        results.append(result)
        events.extend(item_events)
    return results, events


def _decide(ctx, conn, item, now: float) -> tuple[dict, list[dict]]:
    row, batch, recipient = item.row, item.batch, item.row["recipient"]
    envelope = messages.envelope(recipient)
    first = row["sent_at"] is None
    sent_at = row["sent_at"] or now
    mail = item.composed.mail if item.composed else _plain_mail(batch["definition"], recipient)
    origin = origin_of(batch, recipient)
    client_id = recipient.get("endpoint_id") or row["id"]
    shaped = facet(row["id"], mail, sent_at, envelope)
    events: list[dict] = []

    def emit(event_type: str, detail: dict | None) -> None:
        events.append(event_row(origin, event_type, client_id=client_id, mail=shaped, detail=detail,
                                event_ms=int(now * 1000), batch=batch))

    result = {"id": row["id"], "account": batch["account_id"], "attempts": row["attempts"] + 1, "sent_at": sent_at,
              "due_at": now, "mail": mail}
    if item.failure is not None:
        emit("_email.rendering_failure", {"failure": {"error_message": item.failure,
                                                      "template_name": batch["definition"].get("template_name")}})
        return {**result, "status": "failed", "sent_at": None, "detail": item.failure}, events
    if first:
        emit("_email.send", {"send": {}})
    if item.suppressed is not None:
        emit("_email.hardbounce", bounce_detail("Permanent", "OnSuppressionList", envelope, "5.1.1",
                                          f"Recipient is on the suppression list ({item.suppressed})"))
        return {**result, "status": "suppressed", "detail": f"suppressed: {item.suppressed}"}, events
    outcome = item.outcome
    reporting_mta = getattr(ctx, "reporting_mta", None) or ctx.settings.mail_domain
    if outcome.status == "delivered":
        accepted = [address for address in envelope if address not in outcome.refused]
        emit("_email.delivered", {"delivery": {"smtp_response": _reply(outcome), "reporting_mta": reporting_mta,
                                               "recipients": accepted,
                                               "processing_time_millis": int((now - row["created_at"]) * 1000)}})
        for address, refusal in outcome.refused.items():
            if refusal.status == "permanent":
                emit("_email.hardbounce",
                     bounce_detail("Permanent", "General", [address], refusal.enhanced, _reply(refusal)))
                suppress(conn, batch, row["id"], [address], "BOUNCE")
            else:  # refused for now (greylisting): the others got it; this one is a soft bounce, not retried
                emit("_email.softbounce",
                     bounce_detail("Transient", "General", [address], refusal.enhanced, _reply(refusal)))
        return {**result, "status": "delivered", "detail": _reply(outcome)}, events
    if outcome.status == "permanent":
        emit("_email.hardbounce", bounce_detail("Permanent", "General", envelope, outcome.enhanced, _reply(outcome)))
        suppress(conn, batch, row["id"], envelope, "BOUNCE")
        return {**result, "status": "bounced", "detail": _reply(outcome)}, events
    if outcome.status == "skipped":
        emit("_email.rejected", {"reject": {"reason": outcome.detail}})
        return {**result, "status": "rejected", "detail": outcome.detail}, events
    due = retry_at(now=now, created_at=row["created_at"], attempts=row["attempts"],
                   budget=batch["settings"]["max_delivery_seconds"] or ctx.settings.email_max_delivery_seconds,
                   first_wait=ctx.settings.email_retry_seconds)
    if due is None:
        emit("_email.softbounce", bounce_detail("Transient", "General", envelope, outcome.enhanced, _reply(outcome)))
        return {**result, "status": "soft_bounced", "detail": _reply(outcome)}, events
    return {**result, "status": "queued", "due_at": due, "detail": _reply(outcome)}, events


def batch_settings(conn, batch: dict) -> dict:
    """What the account (or a TENANT-scoped SES tenant) and the batch's configuration set say about
    suppression and retries: the set's reasons win over the tenant's or account's."""
    account = email_account.settings(conn, batch["account_id"], batch["region"])
    reasons = list(account["suppressed_reasons"])
    if batch["ses_tenant"]:
        tenant = ses_tenants.get(conn, batch["account_id"], batch["region"], batch["ses_tenant"])
        if tenant is not None and tenant["suppression_scope"] == "TENANT":
            reasons = list(tenant["suppressed_reasons"])
    delivery = {}
    if batch["configuration_set"]:
        found = configuration_sets.get(conn, batch["account_id"], batch["region"], batch["configuration_set"])
        if found is not None:
            if found["suppression"] is not None:
                reasons = found["suppression"]
            delivery = found["delivery"] or {}
    return {"suppressed_reasons": reasons, "max_delivery_seconds": delivery.get("MaxDeliverySeconds"),
            "sending_pool": delivery.get("SendingPoolName"), "require_tls": delivery.get("TlsPolicy") == "REQUIRE"}


def bounce_detail(bounce_type: str, sub_type: str, recipients: list[str], status: str | None, diagnostic: str,
                  *, reporting_mta: str | None = None) -> dict:
    """The `bounce` object of a hard or soft bounce record."""
    bounce = {
        "bounce_type": bounce_type,
        "bounce_sub_type": sub_type,
        "bounced_recipients": [{"email_address": address, "action": "failed", "status": status or "",
                                "diagnostic_code": diagnostic} for address in recipients],
        "feedback_id": ids.new_event_id(),
    }
    if reporting_mta:
        bounce["reporting_mta"] = reporting_mta
    return {"bounce": bounce}


def _reply(outcome) -> str:
    return " ".join(part for part in (str(outcome.code or ""), outcome.detail) if part).strip()


def suppress(conn, batch: dict, message_id: str, addresses: list[str], reason: str) -> None:
    """Add bounced or complaining addresses to the list, when the batch honours that reason."""
    if reason not in batch["settings"]["suppressed_reasons"]:
        return
    for address in addresses:
        if address.lower().rpartition("@")[2] != SIMULATOR_DOMAIN:
            suppression.add(conn, batch["account_id"], batch["region"], address, reason,
                            tenant_name=batch["ses_tenant"], message_id=message_id)


def _plain_mail(definition: dict, recipient: dict) -> dict:
    """The mail facts of a message that was never composed (suppressed, or its content failed)."""
    subject = definition.get("subject") or ""
    return {"from": definition["from_address"], "to": recipient.get("to") or [], "subject": subject,
            "headers": [["From", definition["from"]], ["To", ", ".join(recipient.get("to") or [])],
                        ["Subject", subject]], "links": []}
