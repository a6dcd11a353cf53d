"""What comes back about sent mail: bounces and complaints (DSN and ARF reports, the simulator),
and opens, clicks and one-click unsubscribes (tracking links). Each becomes its `_email.*` record,
with the original message's tenant, and bounces and complaints update the suppression list as the
account's, tenant's or configuration set's reasons say.

Reports are matched to messages by Pinfold's message id, and count only for recipients that message
went to. A report about a message Pinfold no longer knows (purged, or never sent by it) is logged and
dropped. A repeated report (a sender retrying after a temporary failure) changes nothing the second
time; each recipient of a message can bounce or complain once.
"""

from __future__ import annotations

import logging
import time

from pinfold.audience import endpoints as endpoint_service
from pinfold.audience.store import endpoints as endpoint_store
from pinfold.context import Context
from pinfold.core import ids, metrics
from pinfold.core.access import Caller
from pinfold.db.database import after_commit
from pinfold.email import contact_lists, outcomes
from pinfold.email.adapters.base import Feedback
from pinfold.email.store import messages as store
from pinfold.projects import store as project_store

log = logging.getLogger("pinfold.feedback")

# The state a message moves to on a report (a bounced message stays bounced). Repeats are told by
# the (kind, recipient) pairs the message's `mail` keeps under "reported".
_AFTER = {"Permanent": "bounced", "Transient": "soft_bounced", "complaint": "complained"}


def record_report(ctx: Context, feedback: Feedback) -> bool:
    """Record one bounce or complaint; False when it names no message Pinfold knows."""
    if not feedback.message_id:
        log.info("feedback without a Pinfold message id ignored (%s)", feedback.kind)
        return False
    with ctx.db.write() as conn:
        message = store.get(conn, feedback.message_id)
        if message is None or message["mail"] is None:
            log.info("feedback for unknown message %s ignored", feedback.message_id)
            return False
        kind = "complaint" if feedback.kind == "complaint" else feedback.bounce_type or "Permanent"
        recipients = _named_recipients(feedback, message)
        reported = set(message["mail"].get("reported") or [])
        fresh = [address for address in recipients if f"{kind}:{address}" not in reported]
        if not fresh:  # nobody it names received this message, or each was reported already
            return True
        now = time.time()
        event_type, detail, reason = _shape(feedback, fresh)
        batch = _batch_of(message)
        _emit(conn, message, event_type, detail, now)
        if reason is not None:
            batch["settings"] = outcomes.batch_settings(conn, batch)
            outcomes.suppress(conn, batch, message["id"], fresh, reason)
        mail = {**message["mail"], "reported": sorted(reported | {f"{kind}:{address}" for address in fresh})}
        status = message["status"] if message["status"] == "bounced" else _AFTER[kind]
        store.finish(conn, [{"id": message["id"], "status": status, "due_at": message["due_at"],
                             "attempts": message["attempts"], "sent_at": message["sent_at"],
                             "detail": feedback.detail[:500], "mail": mail}])
        outcome = "complained" if kind == "complaint" else "bounced"  # a report after delivery, per recipient
        after_commit(conn, lambda: metrics.count_messages("email", batch["account_id"], outcome, len(fresh)))
    return True


def record_engagement(ctx: Context, kind: str, message_id: str, link: str | None, user_agent: str,
                      ip: str) -> None:
    """An open, click or unsubscribe through a tracking link."""
    with ctx.db.write() as conn:
        message = store.get(conn, message_id)
        if message is None or message["mail"] is None:
            return
        seen = {"ip_address": ip, "user_agent": user_agent[:512]}
        if kind == "open":
            _emit(conn, message, "_email.open", {"open": seen}, time.time())
        elif kind == "click":
            _emit(conn, message, "_email.click", {"click": {**seen, "link": link}}, time.time(),
                  attributes={"feedback": link})
        else:
            _emit(conn, message, "_email.unsubscribe", {"unsubscribe": seen}, time.time())
            _opt_out(conn, message)
            contact_lists.opt_out(conn, message)


def _opt_out(conn, message: dict) -> None:
    """A one-click unsubscribe from mail sent to an endpoint opts that endpoint out of everything."""
    endpoint_id = message["recipient"].get("endpoint_id")
    project = project_store.get_project_by_id(conn, message["project_id"]) if endpoint_id else None
    if project is None or not endpoint_store.get_many(conn, project["id"], [endpoint_id]):
        return
    acting = Caller(principal_id="pinfold-unsubscribe", account_id=project["account_id"],
                    region=project["region"], scope="account", request_id=ids.new_request_id())
    endpoint_service.upsert_in(conn, acting, project, [(endpoint_id, {"OptOut": "ALL"})])


def link_of(ctx: Context, message_id: str, index: int) -> str | None:
    """The original address of a message's tracked link number `index`."""
    with ctx.db.read() as conn:
        message = store.get(conn, message_id)
    links = ((message or {}).get("mail") or {}).get("links") or []
    return links[index] if 0 <= index < len(links) else None


def _named_recipients(feedback: Feedback, message: dict) -> list[str]:
    """The recipients a report names that this message went to. A report names nobody else: anyone
    who saw a message id could otherwise suppress any address. A report that names no one counts for
    the message's only recipient, never for several."""
    envelope = {address.lower() for address in store.envelope(message["recipient"])}
    if not feedback.recipients:
        return sorted(envelope) if len(envelope) == 1 else []
    return sorted({address.lower() for address in feedback.recipients} & envelope)


def _shape(feedback: Feedback, recipients: list[str]) -> tuple[str, dict, str | None]:
    if feedback.kind == "complaint":
        return "_email.complaint", {"complaint": {
            "complained_recipients": [{"email_address": address} for address in recipients],
            "feedback_id": feedback.message_id, "user_agent": feedback.reporting_mta or "",
            "complaint_feedback_type": feedback.feedback_type or "abuse"}}, "COMPLAINT"
    permanent = (feedback.bounce_type or "Permanent") == "Permanent"
    detail = outcomes.bounce_detail("Permanent" if permanent else "Transient", "General", recipients,
                                    feedback.status, feedback.detail, reporting_mta=feedback.reporting_mta)
    return ("_email.hardbounce" if permanent else "_email.softbounce"), detail, ("BOUNCE" if permanent else None)


def _emit(conn, message: dict, event_type: str, detail: dict, now: float, attributes: dict | None = None) -> None:
    from pinfold.events import outbox

    recipient = message["recipient"]
    origin = outcomes.origin_of(_batch_of(message), recipient)
    shaped = outcomes.facet(message["id"], message["mail"], message["sent_at"] or now, store.envelope(recipient))
    row = outcomes.event_row(origin, event_type, client_id=recipient.get("endpoint_id") or message["id"],
                             mail=shaped, detail=detail, event_ms=int(now * 1000), attributes=attributes,
                             batch=message)
    outbox.append(conn, [row])


def _batch_of(message: dict) -> dict:
    return {key: message[key] for key in ("account_id", "region", "project_id", "tenant_id", "ses_tenant",
                                          "configuration_set")}
