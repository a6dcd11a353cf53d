"""What a real gateway tells Pinfold after it took a text: delivery reports for sent messages, and
messages from handsets to Pinfold's numbers (STOP, HELP, other keywords).

Delivery reports come to a URL the gateway was given for each text (adapters/kannel.py), carrying the
message's id and a token only this installation can make. A report moves a `sent` message on:
delivered to the handset, or failed for good; one about a finished message changes nothing (reports
may come twice or out of order). A report can come before the sending pass has written the message
down as sent: it waits for that, a few seconds at most. Reports are written in groups (one
transaction for all that came in meanwhile), each answered once its group has committed.

An inbound message goes to the account that holds the receiving number. If it begins with a keyword
of the number (or of its pool), Pinfold does what the keyword says: an opt-out word puts the sender
on the number's opt-out list (unless the number manages its opt-outs itself), OPT_IN takes it off,
and the keyword's message is sent back from the same number.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from urllib.parse import quote

import phonenumbers

from pinfold.context import Context
from pinfold.core import metrics
from pinfold.db.database import after_commit
from pinfold.events import outbox
from pinfold.sms import access as sms_access
from pinfold.sms import events, keywords, send, two_way
from pinfold.sms import opt_outs as opt_out_lists
from pinfold.sms.store import messages, opt_outs, resources

log = logging.getLogger("pinfold.sms")

REPORT_PATH = "/sms/kannel/report"
INBOUND_PATH = "/sms/kannel/inbound"
WAIT_FOR_SENT_SECONDS = 5.0
REPORT_GROUP = 500  # reports written in one transaction at most
# Kannel's report values: 1 delivered to the phone, 2 not delivered to the phone, 4 queued at the
# SMSC, 8 delivered to the SMSC, 16 refused by the SMSC. As (message state, record status); None:
# still on its way, nothing to write.
_REPORTS = {"1": ("delivered", "DELIVERED"), "2": ("failed", "UNREACHABLE"), "16": ("failed", "CARRIER_BLOCKED"),
            "4": (None, "PENDING"), "8": (None, None)}


def _key(ctx: Context, purpose: str) -> bytes:
    return ctx.secrets.derive_key(f"sms-gateway-{purpose}")


def token(ctx: Context, purpose: str, value: str) -> str:
    return hmac.new(_key(ctx, purpose), value.encode(), hashlib.sha256).hexdigest()[:32]


def report_url(ctx: Context, message_id: str) -> str:
    """The delivery-report URL Kannel fetches for one text (its %-escapes filled in by Kannel)."""
    base = ctx.settings.resolved_public_url
    return (f"{base}{REPORT_PATH}?message={quote(message_id)}&token={token(ctx, 'report', message_id)}"
            "&status=%d&reply=%A")


def inbound_url(ctx: Context) -> str:
    """The `get-url` of the Kannel sms-service that hands inbound messages to Pinfold."""
    return (f"{ctx.settings.resolved_public_url}{INBOUND_PATH}?key={token(ctx, 'inbound', 'kannel')}"
            "&from=%p&to=%P&text=%a")


@dataclass(eq=False)
class _Report:
    message_id: str
    state: str | None
    record_status: str
    reply: str
    deadline: float  # until when it waits for its message to be written down as sent
    done: Future = field(default_factory=Future)


class DeliveryReports:
    """Applies delivery reports in groups: one transaction for every report that came in meanwhile
    (a gateway sends one or two per text, each as its own request), each request answered once its
    group has committed, so none is acknowledged and then lost."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._waiting: queue.SimpleQueue[_Report] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def apply(self, message_id: str, given_token: str, status: str, reply: str = "") -> bool:
        """Apply one report; False when the token is not this installation's or the message is unknown."""
        if not hmac.compare_digest(token(self.ctx, "report", message_id), given_token or ""):
            return False
        state, record_status = _REPORTS.get(status, (None, None))
        if record_status is None:
            return True  # nothing to write (the SMSC took it: the pass recorded that)
        report = _Report(message_id, state, record_status, reply, time.monotonic() + WAIT_FOR_SENT_SECONDS)
        self._waiting.put(report)
        self._start()
        return report.done.result(timeout=WAIT_FOR_SENT_SECONDS + 30)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="pinfold-sms-reports", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            group = [self._waiting.get()]
            while len(group) < REPORT_GROUP:
                try:
                    group.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(group)
            except Exception as error:  # the database failed: these requests fail, the gateway may send again
                log.warning("delivery reports could not be written: %s", type(error).__name__)
                for report in group:
                    if not report.done.done():
                        report.done.set_exception(error)

    def _write(self, group: list[_Report]) -> None:
        answered: list[tuple[_Report, bool]] = []
        later: list[_Report] = []
        with self.ctx.db.write() as conn:
            rows = messages.get_many(conn, sorted({report.message_id for report in group}))
            for report in group:
                row = rows.get(report.message_id)
                if row is not None and row["status"] == "sending" and time.monotonic() < report.deadline:
                    later.append(report)  # its pass has not written it down yet
                    continue
                if row is not None:
                    row = _apply(conn, row, report.state, report.record_status, report.reply)
                    rows[report.message_id] = row
                answered.append((report, row is not None))
        for report, known in answered:
            report.done.set_result(known)
        if later:
            time.sleep(0.05)
            for report in later:
                self._waiting.put(report)


def _apply(conn, row: dict, state: str | None, record_status: str, reply: str) -> dict:
    """Write one report about a message; returns the row as it now is (a later report in the same
    group sees what this one did)."""
    if row["status"] != "sent":
        return row  # finished already (a repeat, or out of order)
    now = time.time()
    detail = (reply or record_status)[:500]
    if state is not None:
        if not messages.report(conn, row["id"], from_status="sent", to_status=state, detail=detail, at=now):
            return row
        after_commit(conn, lambda: metrics.count_messages("sms", row["account_id"], state))
    outbox.append(conn, [events.outbox_row(row, record_status, at=now, detail=detail)])
    return {**row, "status": state or row["status"]}


def inbound(ctx: Context, given_key: str, sender: str, receiver: str, body: str) -> bool:
    """Handle one message from a handset; False when the key is not this installation's."""
    if not hmac.compare_digest(token(ctx, "inbound", "kannel"), given_key or ""):
        return False
    sender, receiver = _e164(sender), _e164(receiver)
    if sender is None or receiver is None:
        log.info("inbound message with an unusable number ignored")
        return True
    with ctx.db.write() as conn:
        number = resources.phone_number_anywhere(conn, receiver)
        if number is None:
            log.info("inbound message to a number no account holds ignored")
            return True
        account_id, region, document = number["account_id"], number["region"], number["document"]
        pool = resources.get(conn, account_id, region, "pool", number["pool_id"]) if number["pool_id"] else None
        answering = keywords.answering_document(document, pool["document"] if pool else None)
        two_way.inbound(conn, number, pool, sender, body)  # to the number's two-way channel, if it has one
        found = keywords.answer(answering, body)
        if found is None:
            return True
        action, message = found
        list_name = answering.get("OptOutListName") or "Default"
        self_managed = bool(answering.get("SelfManagedOptOutsEnabled"))
        if action == keywords.OPT_OUT:  # an opt-out counts in the number's reputation, self-managed or not
            owner = sms_access.owner_of(pool["document"]) if pool else sms_access.owner_of(document)
            outbox.append(conn, [events.opt_out_row(account_id, region, number=receiver, handset=sender,
                                                    pool_id=number["pool_id"], tenant_id=owner)])
        if action == keywords.OPT_OUT and not self_managed:
            opt_out_lists.opt_out_by_end_user(conn, account_id, region, list_name, sender)
        elif action == keywords.OPT_IN and not self_managed:
            opt_outs.remove(conn, account_id, region, list_name, sender, at=time.time())
        if message and not (self_managed and action in (keywords.OPT_OUT, keywords.OPT_IN)):
            send.queue_reply(conn, number, sender, message)
    return True


def _e164(raw: str) -> str | None:
    text = (raw or "").strip()
    try:
        parsed = phonenumbers.parse(text if text.startswith("+") else f"+{text}", None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
