"""The sending pipeline end to end on the mailbox simulator: SES v2 sends are checked, queued,
delivered, and produce their `_email.*` records; bounces and complaints land in the right list."""

from __future__ import annotations

import email
import functools
import json
import threading
import time
from contextlib import contextmanager

import pytest

from pinfold.core.errors import LimitExceeded, MessageRejected, NotFound, Throttled
from pinfold.email import account as email_account
from pinfold.email import identities as email_identities
from pinfold.email import send as ses_send
from pinfold.email import suppression
from pinfold.email.delivery import EmailDelivery
from pinfold.email.store import messages as email_messages
from pinfold.events import outbox as outbox_store
from tests.service.helpers import account_caller, onboard, operator

SIMULATOR = "simulator.amazonses.com"


def _simple(to: list[str], subject: str = "Hello", sender: str = "news@example.com", **extra) -> dict:
    return {"FromEmailAddress": sender, "Destination": {"ToAddresses": to},
            "Content": {"Simple": {"Subject": {"Data": subject},
                                   "Body": {"Text": {"Data": "Hi {{name}}"}, "Html": {"Data": "<p>Hi</p>"}}}},
            **extra}


def _verified_sender(ctx, admin, caller, identity: str = "example.com") -> None:
    email_identities.create(ctx, caller, {"EmailIdentity": identity})
    email_identities.confirm(ctx, admin, identity, account_id=caller.account_id, region=caller.region)


def _events(ctx) -> list[dict]:
    with ctx.db.read() as conn:
        return [row["record"] for row in outbox_store.read_after(conn, 0, 10_000)]


def _types(ctx) -> list[str]:
    return [record["event_type"] for record in _events(ctx)]


@contextmanager
def _sender_with(tmp_path, database_url, **settings):
    """A context of its own (for email settings of its own) with an ma-mp tenant's account in
    production and a verified sender; yields (ctx, account caller)."""
    from pinfold.config import Settings
    from pinfold.context import Context

    ctx = Context.open(Settings(data_dir=tmp_path / "own", database_url=database_url, **settings))
    try:
        admin = operator(ctx)
        tenant, _ = onboard(ctx, admin, "acme", "ma-mp")
        caller = account_caller(ctx, admin, tenant["account_id"])
        _verified_sender(ctx, admin, caller)
        email_account.set_production(ctx, admin, caller.account_id, max_rate=1000)
        yield ctx, caller
    finally:
        ctx.close()


def _email_project(ctx, admin) -> tuple[str, object]:
    """An sa-mp tenant's project whose account is in production with a verified sender and whose
    email channel is set up; returns (project id, the account's caller)."""
    from pinfold.messaging import channels

    project = onboard(ctx, admin, "shop", "sa-mp")[0]["project_id"]
    owner = account_caller(ctx, admin, onboard_account(ctx, project))
    _verified_sender(ctx, admin, owner)
    email_account.set_production(ctx, admin, owner.account_id)
    identity = f"arn:aws:ses:{owner.region}:{owner.account_id}:identity/example.com"
    channels.update_email(ctx, owner, project, {"FromAddress": "shop@example.com", "Identity": identity,
                                                "Enabled": True})
    return project, owner


@pytest.fixture
def sending(ctx):
    admin = operator(ctx)
    tenant, _tenant_caller = onboard(ctx, admin, "acme", "ma-mp")
    caller = account_caller(ctx, admin, tenant["account_id"])
    _verified_sender(ctx, admin, caller)
    delivery = EmailDelivery(ctx)
    yield admin, caller, delivery
    delivery.stop()


def test_a_sandboxed_account_sends_only_to_verified_or_simulator_addresses(ctx, sending):
    _admin, caller, delivery = sending
    with pytest.raises(MessageRejected, match="not verified.*someone@else.org"):
        ses_send.send_email(ctx, caller, _simple(["someone@else.org"]))
    with pytest.raises(MessageRejected, match="not verified.*news@unverified.org"):
        ses_send.send_email(ctx, caller, _simple([f"success@{SIMULATOR}"], sender="news@unverified.org"))
    result = ses_send.send_email(ctx, caller, _simple([f"success@{SIMULATOR}", "team@example.com"]))
    assert delivery.run_once() == 1
    with ctx.db.read() as conn:
        assert email_messages.counts(conn) == {"delivered": 1}
    records = _events(ctx)
    assert [r["event_type"] for r in records] == ["_email.send", "_email.delivered"]
    mail = records[1]["facets"]["email_channel"]["mail_event"]["mail"]
    assert mail["message_id"] == result["MessageId"]
    assert mail["destination"] == [f"success@{SIMULATOR}", "team@example.com"]
    assert records[1]["pinfold"]["tenant_id"] is None  # an account caller, no tenant named
    stored = list((ctx.settings.data_dir / "mailbox").rglob("*.eml"))
    assert len(stored) == 1
    parsed = email.message_from_bytes(stored[0].read_bytes())
    assert parsed["X-Pinfold-Message-Id"] == result["MessageId"]
    assert parsed["Subject"] == "Hello"


def test_simulator_outcomes_each_produce_their_events_and_only_real_addresses_are_suppressed(ctx, sending):
    admin, caller, delivery = sending
    email_account.set_production(ctx, admin, caller.account_id)
    for local in ("bounce", "complaint", "ooto", "suppressionlist"):
        ses_send.send_email(ctx, caller, _simple([f"{local}@{SIMULATOR}"]))
    assert delivery.run_once() == 4
    types = _types(ctx)
    assert types.count("_email.send") == 4
    assert types.count("_email.hardbounce") == 2  # bounce@ and suppressionlist@
    assert types.count("_email.delivered") == 2  # complaint@ and ooto@ are delivered first
    assert types.count("_email.complaint") == 1
    assert suppression.list_page(ctx, caller)["SuppressedDestinationSummaries"] == []


def test_a_template_that_cannot_render_is_a_rendering_failure_not_a_crash(ctx, sending):
    _admin, caller, delivery = sending
    request = _simple([f"success@{SIMULATOR}"])
    request["Content"] = {"Template": {"TemplateContent": {"Subject": "Hi {{#each}}", "Text": "x"},
                                       "TemplateData": "{}"}}
    ses_send.send_email(ctx, caller, request)
    delivery.run_once()
    assert _types(ctx) == ["_email.rendering_failure"]
    with ctx.db.read() as conn:
        assert email_messages.counts(conn) == {"failed": 1}


def test_quota_is_taken_per_recipient_and_refusals_queue_nothing(ctx, sending):
    admin, caller, delivery = sending
    email_account.set_production(ctx, admin, caller.account_id, max_24h=3, max_rate=1000)
    ses_send.send_email(ctx, caller, _simple([f"success+{n}@{SIMULATOR}" for n in range(2)]))
    with pytest.raises(LimitExceeded, match="Daily message quota exceeded"):
        ses_send.send_email(ctx, caller, _simple([f"success+{n}@{SIMULATOR}" for n in range(2)]))
    with pytest.raises(NotFound):
        ses_send.send_email(ctx, caller, _simple(["a@b.org"], ConfigurationSetName="missing"))
    with ctx.db.read() as conn:
        assert email_messages.counts(conn) == {"queued": 1}


def test_concurrent_sends_never_exceed_the_rate(ctx, sending):
    admin, caller, _delivery = sending
    email_account.set_production(ctx, admin, caller.account_id, max_24h=1000, max_rate=5)
    outcomes: list[str] = []

    def send(n: int) -> None:
        try:
            ses_send.send_email(ctx, caller, _simple([f"success+{n}@{SIMULATOR}"]))
            outcomes.append("sent")
        except Throttled:
            outcomes.append("throttled")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The threads start within a second or two: at 5 a second with no burst allowance, most are refused.
    assert outcomes.count("sent") <= 5 * 3
    assert outcomes.count("throttled") >= 5
    with ctx.db.read() as conn:
        assert email_messages.counts(conn).get("queued", 0) == outcomes.count("sent")


class _Relay:
    """A real SMTP server (aiosmtpd) on a fixed port that can be stopped and started again."""

    def __init__(self, port: int) -> None:
        self.port, self.received, self.controller = port, [], None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.received.append(email.message_from_bytes(envelope.original_content)["X-Pinfold-Message-Id"])
        return "250 2.0.0 Ok"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                     server_kwargs={"decode_data": False})
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def test_a_relay_that_goes_down_mid_send_loses_nothing_and_sends_nothing_twice(tmp_path, database_url):
    from tests.conftest import free_port

    relay = _Relay(free_port())
    relay.start()
    try:
        with _sender_with(tmp_path, database_url, email_batch=10,
                          email_relay=f"smtp://127.0.0.1:{relay.port}?starttls=off&connections=2") as (ctx, caller):
            ids = [ses_send.send_email(ctx, caller, _simple([f"r{n}@example.org"]))["MessageId"] for n in range(30)]
            delivery = EmailDelivery(ctx)
            assert delivery.run_once() == 10  # the first ten get through
            relay.stop()  # the relay goes down
            assert delivery.run_once() == 10  # ten are refused for now: tried again later
            with ctx.db.read() as conn:
                assert email_messages.counts(conn) == {"delivered": 10, "queued": 20}
            relay.start()
            # Pass after pass, as if each retry wait had passed; the adapter itself waits a few real
            # seconds before trying a relay that refused a connection again.
            later, deadline = time.time(), time.monotonic() + 20
            while _pending(ctx) and time.monotonic() < deadline:
                later += 300
                if not delivery.worker.run_once(now=later):
                    time.sleep(0.2)
            with ctx.db.read() as conn:
                assert email_messages.counts(conn) == {"delivered": 30}
            assert sorted(relay.received) == sorted(ids)  # every message once, none twice
            assert _types(ctx).count("_email.send") == 30 and _types(ctx).count("_email.delivered") == 30
            delivery.stop()
    finally:
        relay.stop()


def _pending(ctx) -> int:
    with ctx.db.read() as conn:
        counts = email_messages.counts(conn)
    return counts.get("queued", 0) + counts.get("sending", 0)


def test_bounce_reports_and_complaints_by_smtp_reach_the_suppression_list(ctx, sending):
    import smtplib

    from pinfold.email import feedback
    from pinfold.email.adapters.inbound import FeedbackListener

    admin, caller, delivery = sending
    email_account.set_production(ctx, admin, caller.account_id)
    message_id = ses_send.send_email(ctx, caller, _simple(["gone@example.org"]))["MessageId"]
    delivery.run_once()
    dsn = (f"From: MAILER-DAEMON@mx.example.org\r\nTo: news@example.com\r\nSubject: Undelivered\r\n"
           "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
           "--b\r\nContent-Type: text/plain\r\n\r\nNo such user.\r\n"
           "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
           "Final-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
           "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
           f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nX-Pinfold-Message-Id: {message_id}\r\n\r\n--b--\r\n")
    with FeedbackListener("127.0.0.1", 0, lambda report: feedback.record_report(ctx, report)) as listener:
        with smtplib.SMTP("127.0.0.1", listener.port) as client:
            client.sendmail("MAILER-DAEMON@mx.example.org", ["bounces@pinfold.localhost"], dsn.encode())
            client.sendmail("MAILER-DAEMON@mx.example.org", ["bounces@pinfold.localhost"], dsn.encode())  # again
    assert _types(ctx) == ["_email.send", "_email.delivered", "_email.hardbounce"]  # the repeat changed nothing
    entry = suppression.get(ctx, caller, "gone@example.org")
    assert entry["Reason"] == "BOUNCE"

    complained = ses_send.send_email(ctx, caller, _simple(["angry@example.org"]))["MessageId"]
    delivery.run_once()
    arf = ("From: fbl@isp.example\r\nTo: fbl@pinfold.localhost\r\nSubject: Complaint\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=feedback-report; boundary=f\r\n\r\n"
           "--f\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n"
           "--f\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: ISP-FBL/1.0\r\n"
           "Version: 1\r\nOriginal-Rcpt-To: angry@example.org\r\n"
           f"--f\r\nContent-Type: text/rfc822-headers\r\n\r\nX-Pinfold-Message-Id: {complained}\r\n\r\n--f--\r\n")
    with FeedbackListener("127.0.0.1", 0, lambda report: feedback.record_report(ctx, report)) as listener:
        with smtplib.SMTP("127.0.0.1", listener.port) as client:
            client.sendmail("fbl@isp.example", ["fbl@pinfold.localhost"], arf.encode())
    complaint = _events(ctx)[-1]
    assert complaint["event_type"] == "_email.complaint"
    assert complaint["facets"]["email_channel"]["mail_event"]["complaint"]["complaint_feedback_type"] == "abuse"
    assert suppression.get(ctx, caller, "angry@example.org")["Reason"] == "COMPLAINT"


def _bounce_for(ctx, message_id: str, address: str) -> None:
    from pinfold.email import feedback
    from pinfold.email.adapters.base import Feedback

    assert feedback.record_report(ctx, Feedback("bounce", (address,), message_id, "Permanent", "5.1.1", "550"))


@pytest.mark.parametrize("model, shared", [("sa-sp", True), ("sa-mp", True), ("ma-mp", False)])
def test_one_tenants_bounce_suppresses_for_everyone_in_its_account_and_no_further(ctx, model, shared):
    from pinfold.audience import endpoints

    admin = operator(ctx)
    first, first_caller = onboard(ctx, admin, "first", model)
    second, second_caller = onboard(ctx, admin, "second", model)
    for account_id in {first["account_id"], second["account_id"]}:
        _verified_sender(ctx, admin, account_caller(ctx, admin, account_id))
        email_account.set_production(ctx, admin, account_id)
    x = {"ChannelType": "EMAIL", "Address": "x@example.org"}
    endpoints.update_endpoint(ctx, first_caller, first["project_id"], "first-x", x)
    sent = ses_send.send_email(ctx, first_caller, _simple(["x@example.org"]))
    delivery = EmailDelivery(ctx)
    delivery.run_once()
    _bounce_for(ctx, sent["MessageId"], "x@example.org")
    # The address moves to the second tenant (in a shared project it must leave the first tenant first).
    endpoints.delete(ctx, first_caller, first["project_id"], "first-x")
    endpoints.update_endpoint(ctx, second_caller, second["project_id"], "second-x", x)
    ses_send.send_email(ctx, second_caller, _simple(["x@example.org"]))
    delivery.run_once()
    with ctx.db.read() as conn:
        statuses = email_messages.counts(conn)
    assert statuses == ({"bounced": 1, "suppressed": 1} if shared else {"bounced": 1, "delivered": 1})
    delivery.stop()


def test_a_shared_project_tenant_sends_only_to_its_own_endpoints(ctx):
    from pinfold.audience import endpoints

    admin = operator(ctx)
    acme, acme_caller = onboard(ctx, admin, "acme", "sa-sp")
    globex, globex_caller = onboard(ctx, admin, "globex", "sa-sp")
    owner = account_caller(ctx, admin, acme["account_id"])
    _verified_sender(ctx, admin, owner)
    email_account.set_production(ctx, admin, acme["account_id"])
    endpoints.update_endpoint(ctx, acme_caller, acme["project_id"], "a1", {"ChannelType": "EMAIL",
                                                                           "Address": "ann@acme.org"})
    endpoints.update_endpoint(ctx, globex_caller, globex["project_id"], "g1", {"ChannelType": "EMAIL",
                                                                              "Address": "gus@globex.org"})
    assert ses_send.send_email(ctx, acme_caller, _simple(["ann@acme.org"]))["MessageId"]
    for stranger in ("gus@globex.org", "nobody@nowhere.org"):
        with pytest.raises(MessageRejected, match="Not an address of this tenant's endpoints"):
            ses_send.send_email(ctx, acme_caller, _simple([stranger]))
    EmailDelivery(ctx).run_once()
    assert {record["pinfold"]["tenant_id"] for record in _events(ctx)} == {"acme"}


def test_an_ses_tenant_sends_only_through_resources_associated_with_it(ctx):
    from pinfold.email import configuration_sets
    from pinfold.email import tenants as ses_tenants

    admin = operator(ctx)
    acme, acme_caller = onboard(ctx, admin, "acme", "sa-mp")
    owner = account_caller(ctx, admin, acme["account_id"])
    _verified_sender(ctx, admin, owner)
    email_account.set_production(ctx, admin, acme["account_id"])
    for name in ("acme-set", "other-set"):
        configuration_sets.create(ctx, owner, {"ConfigurationSetName": name})
    ses_tenants.create(ctx, owner, {"TenantName": "acme"})  # linked to the registry tenant of that name
    arn = f"arn:aws:ses:{owner.region}:{owner.account_id}"
    ses_tenants.associate(ctx, owner, "acme", f"{arn}:identity/example.com")
    with pytest.raises(MessageRejected, match="configuration set associated"):
        ses_send.send_email(ctx, acme_caller, _simple(["ann@acme.org"]))
    ses_tenants.associate(ctx, owner, "acme", f"{arn}:configuration-set/acme-set")
    with pytest.raises(MessageRejected, match="other-set is not associated"):
        ses_send.send_email(ctx, acme_caller, _simple(["ann@acme.org"], ConfigurationSetName="other-set"))
    sent = ses_send.send_email(ctx, acme_caller, _simple(["ann@acme.org"], ConfigurationSetName="acme-set"))
    with ctx.db.read() as conn:
        assert email_messages.get(conn, sent["MessageId"])["ses_tenant"] == "acme"
    with pytest.raises(Exception, match="cannot send as tenant"):
        ses_send.send_email(ctx, acme_caller, _simple(["ann@acme.org"], ConfigurationSetName="acme-set",
                                                      TenantName="someone-else"))


def test_opens_clicks_and_one_click_unsubscribe_become_events_and_opt_the_endpoint_out(ctx, sending):
    import re

    from starlette.testclient import TestClient

    from pinfold.audience import endpoints
    from pinfold.bootstrap import create_app
    from pinfold.messaging import messages

    admin, _caller, delivery = sending
    project, project_owner = _email_project(ctx, admin)
    endpoints.update_endpoint(ctx, project_owner, project, "ann", {"ChannelType": "EMAIL",
                                                                   "Address": "ann@example.org"})
    html = '<html><body><a href="https://example.com/sale">Sale</a></body></html>'
    result = messages.send_messages(ctx, project_owner, project, {
        "Endpoints": {"ann": {}},
        "MessageConfiguration": {"EmailMessage": {"SimpleEmail": {"Subject": {"Data": "Sale"},
                                                                  "HtmlPart": {"Data": html}}}}})
    assert result["MessageResponse"]["EndpointResult"]["ann"]["DeliveryStatus"] == "SUCCESSFUL"
    delivery.run_once()
    [stored] = list((ctx.settings.data_dir / "mailbox").rglob("*.eml"))
    raw = email.message_from_bytes(stored.read_bytes())
    body = raw.get_payload(decode=True).decode() if not raw.is_multipart() else raw.get_payload()[0].get_payload(
        decode=True).decode()
    base = ctx.settings.resolved_public_url
    pixel = re.search(re.escape(base) + r"(/t/o/[^\"']+)", body)[1]
    click = re.search(re.escape(base) + r"(/t/c/[^\"']+)", body)[1]
    unsubscribe = re.search(r"<" + re.escape(base) + r"(/t/u/[^>]+)>", raw["List-Unsubscribe"])[1]
    client = TestClient(create_app(ctx))
    assert client.get(pixel).headers["content-type"] == "image/gif"
    followed = client.get(click, follow_redirects=False)
    assert followed.status_code == 302 and followed.headers["location"] == "https://example.com/sale"
    assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert client.get("/t/o/forged.token").status_code == 404
    types = _types(ctx)
    assert [t for t in types if t in ("_email.open", "_email.click", "_email.unsubscribe")] == [
        "_email.open", "_email.click", "_email.unsubscribe"]
    click_record = next(r for r in _events(ctx) if r["event_type"] == "_email.click")
    assert click_record["attributes"]["feedback"] == "https://example.com/sale"
    assert click_record["pinfold"]["tenant_id"] == "shop"
    assert endpoints.get(ctx, project_owner, project, "ann")["OptOut"] == "ALL"


def onboard_account(ctx, project_id: str) -> str:
    from pinfold.projects import store as projects

    with ctx.db.read() as conn:
        return projects.get_project_by_id(conn, project_id)["account_id"]


def test_a_configuration_sets_sending_pool_chooses_the_relay(tmp_path, database_url):
    from pinfold.email import configuration_sets
    from tests.conftest import free_port

    default, marketing = _Relay(free_port()), _Relay(free_port())
    for relay in (default, marketing):
        relay.start()
    try:
        with _sender_with(tmp_path, database_url, email_relay=f"smtp://127.0.0.1:{default.port}?starttls=off",
                          email_pools=f"marketing=smtp://127.0.0.1:{marketing.port}?starttls=off") as (ctx, caller):
            configuration_sets.create(ctx, caller, {"ConfigurationSetName": "promotions",
                                                    "DeliveryOptions": {"SendingPoolName": "marketing"}})
            configuration_sets.create(ctx, caller, {"ConfigurationSetName": "elsewhere",
                                                    "DeliveryOptions": {"SendingPoolName": "no-such-pool"}})
            promo = ses_send.send_email(ctx, caller, _simple(["a@example.org"], ConfigurationSetName="promotions"))
            receipt = ses_send.send_email(ctx, caller, _simple(["b@example.org"]))
            fallback = ses_send.send_email(ctx, caller, _simple(["c@example.org"], ConfigurationSetName="elsewhere"))
            delivery = EmailDelivery(ctx)
            delivery.run_once()
            delivery.stop()
        assert marketing.received == [promo["MessageId"]]
        assert sorted(default.received) == sorted([receipt["MessageId"], fallback["MessageId"]])
    finally:
        default.stop()
        marketing.stop()


def test_raw_and_bulk_sends(ctx, sending):
    import base64

    from pinfold.email import templates as ses_templates

    admin, caller, delivery = sending
    email_account.set_production(ctx, admin, caller.account_id)
    raw = (b"From: News <news@example.com>\r\nTo: success@simulator.amazonses.com\r\n"
           b"Bcc: hidden@simulator.amazonses.com\r\nSubject: Raw hello\r\n\r\nBody\r\n")
    raw_id = ses_send.send_email(ctx, caller, {"Content": {"Raw": {"Data": base64.b64encode(raw).decode()}}})
    ses_templates.create(ctx, caller, "receipt", {"Subject": "Receipt for {{name}}", "Text": "Thanks {{name}}"})
    bulk = ses_send.send_bulk_email(ctx, caller, {
        "FromEmailAddress": "news@example.com",
        "DefaultContent": {"Template": {"TemplateName": "receipt", "TemplateData": json.dumps({"name": "you"})}},
        "BulkEmailEntries": [
            {"Destination": {"ToAddresses": [f"success+1@{SIMULATOR}"]},
             "ReplacementEmailContent": {"ReplacementTemplate": {"ReplacementTemplateData": '{"name": "Ann"}'}}},
            {"Destination": {"ToAddresses": ["stranger@nowhere.org"]}},  # fine: production access
            {"Destination": {"ToAddresses": ["not an address"]}},
            {"Destination": {"ToAddresses": [f"success+2@{SIMULATOR}"]}},
        ]})["BulkEmailEntryResults"]
    assert [entry["Status"] for entry in bulk] == ["SUCCESS", "SUCCESS", "INVALID_PARAMETER", "SUCCESS"]
    assert delivery.run_once() == 4
    stored = {email.message_from_bytes(p.read_bytes())["X-Pinfold-Message-Id"]: email.message_from_bytes(
        p.read_bytes()) for p in (ctx.settings.data_dir / "mailbox").rglob("*.eml")}
    assert stored[raw_id["MessageId"]]["Bcc"] is None and stored[raw_id["MessageId"]]["Subject"] == "Raw hello"
    assert stored[bulk[0]["MessageId"]]["Subject"] == "Receipt for Ann"
    assert stored[bulk[3]["MessageId"]]["Subject"] == "Receipt for you"
    raw_delivery = next(r for r in _events(ctx) if r["event_type"] == "_email.delivered"
                        and r["facets"]["email_channel"]["mail_event"]["mail"]["message_id"] == raw_id["MessageId"])
    assert sorted(raw_delivery["facets"]["email_channel"]["mail_event"]["delivery"]["recipients"]) == [
        "hidden@simulator.amazonses.com", "success@simulator.amazonses.com"]


def test_a_relay_that_keeps_deferring_ends_in_a_soft_bounce(tmp_path, database_url):
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    class Deferring:
        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            return "451 4.3.0 Try again later"

    relay = Controller(Deferring(), hostname="127.0.0.1", port=free_port())
    relay.start()
    try:
        with _sender_with(tmp_path, database_url, email_retry_seconds=10, email_max_delivery_seconds=60,
                          email_relay=f"smtp://127.0.0.1:{relay.port}?starttls=off") as (ctx, caller):
            ses_send.send_email(ctx, caller, _simple(["later@example.org"]))
            delivery = EmailDelivery(ctx)
            start, waits = time.time(), []
            for _ in range(10):
                handled = delivery.worker.run_once(now=start + sum(waits))
                with ctx.db.read() as conn:
                    due = email_messages.next_due(conn)
                if due is None:
                    break
                waits.append(due - (start + sum(waits)))
                assert handled == 1
            assert [round(w) for w in waits[:3]] == [10, 20, 40]  # doubling waits
            assert _types(ctx) == ["_email.send", "_email.softbounce"]
            bounce = _events(ctx)[-1]["facets"]["email_channel"]["mail_event"]["bounce"]
            assert bounce["bounce_type"] == "Transient" and "451" in bounce["bounced_recipients"][0]["diagnostic_code"]
            assert suppression.list_page(ctx, caller)["SuppressedDestinationSummaries"] == []  # soft: no entry
            delivery.stop()
    finally:
        relay.stop()


def test_send_users_messages_reaches_each_email_endpoint_of_a_user(ctx, sending):
    from pinfold.audience import endpoints
    from pinfold.messaging import messages

    admin, _caller, delivery = sending
    project, owner = _email_project(ctx, admin)
    for endpoint_id, address, opt_out in (("a", f"success+a@{SIMULATOR}", "NONE"),
                                          ("b", f"success+b@{SIMULATOR}", "ALL")):
        endpoints.update_endpoint(ctx, owner, project, endpoint_id, {
            "ChannelType": "EMAIL", "Address": address, "OptOut": opt_out, "User": {"UserId": "u1"}})
    result = messages.send_users_messages(ctx, owner, project, {
        "Users": {"u1": {}, "nobody": {}},
        "MessageConfiguration": {"EmailMessage": {"SimpleEmail": {"Subject": {"Data": "Hi"},
                                                                  "TextPart": {"Data": "Hello"}}}}})
    by_user = result["SendUsersMessageResponse"]["Result"]
    assert by_user["u1"]["a"]["DeliveryStatus"] == "SUCCESSFUL"
    assert by_user["u1"]["b"]["DeliveryStatus"] == "OPT_OUT"
    assert by_user["nobody"] == {}
    assert delivery.run_once() == 1


def test_a_configuration_set_with_open_and_click_destinations_turns_tracking_on(ctx, sending):
    from pinfold.email import configuration_sets

    admin, caller, delivery = sending
    email_account.set_production(ctx, admin, caller.account_id)
    configuration_sets.create(ctx, caller, {"ConfigurationSetName": "tracked"})
    configuration_sets.create_destination(ctx, caller, "tracked", "clicks", {
        "Enabled": True, "MatchingEventTypes": ["CLICK"],
        "SnsDestination": {"TopicArn": f"arn:aws:sns:{caller.region}:{caller.account_id}:clicks"}})
    html = '<p><a href="https://example.com/a">A</a></p>'
    for set_name in ("tracked", None):
        request = _simple([f"success@{SIMULATOR}"], **({"ConfigurationSetName": set_name} if set_name else {}))
        request["Content"]["Simple"]["Body"] = {"Html": {"Data": html}}
        ses_send.send_email(ctx, caller, request)
    delivery.run_once()
    bodies = [p.read_text() for p in (ctx.settings.data_dir / "mailbox").rglob("*.eml")]
    tracked = [body for body in bodies if "/t/c/" in body]
    assert len(tracked) == 1 and "/t/o/" not in tracked[0]  # clicks only: no destination wants opens


def test_a_tenant_scoped_suppression_list_keeps_one_tenants_bounces_to_itself(ctx):
    from pinfold.audience import endpoints
    from pinfold.email import configuration_sets
    from pinfold.email import tenants as ses_tenants

    admin = operator(ctx)
    (acme, acme_caller), (globex, globex_caller) = (onboard(ctx, admin, name, "sa-mp") for name in ("acme", "globex"))
    owner = account_caller(ctx, admin, acme["account_id"])
    _verified_sender(ctx, admin, owner)
    email_account.set_production(ctx, admin, owner.account_id)
    arn = f"arn:aws:ses:{owner.region}:{owner.account_id}"
    for name in ("acme", "globex"):
        configuration_sets.create(ctx, owner, {"ConfigurationSetName": f"{name}-set"})
        ses_tenants.create(ctx, owner, {"TenantName": name})
        for resource in (f"{arn}:identity/example.com", f"{arn}:configuration-set/{name}-set"):
            ses_tenants.associate(ctx, owner, name, resource)
    ses_tenants.put_suppression_attributes(ctx, owner, "acme", ["BOUNCE", "COMPLAINT"], "TENANT")
    for caller, tenant in ((acme_caller, acme), (globex_caller, globex)):
        endpoints.update_endpoint(ctx, caller, tenant["project_id"], "x", {"ChannelType": "EMAIL",
                                                                        "Address": "x@example.org"})
    delivery = EmailDelivery(ctx)
    first = ses_send.send_email(ctx, acme_caller, _simple(["x@example.org"], ConfigurationSetName="acme-set"))
    delivery.run_once()
    _bounce_for(ctx, first["MessageId"], "x@example.org")
    later = [ses_send.send_email(ctx, caller, _simple(["x@example.org"], ConfigurationSetName=f"{name}-set"))
             for caller, name in ((globex_caller, "globex"), (acme_caller, "acme"))]
    delivery.run_once()
    with ctx.db.read() as conn:
        found = [email_messages.get(conn, sent["MessageId"]) for sent in later]
    by_tenant = {message["tenant_id"]: message["status"] for message in found}
    assert by_tenant == {"acme": "suppressed", "globex": "delivered"}
    assert suppression.get(ctx, owner, "x@example.org", tenant_name="acme")["Reason"] == "BOUNCE"
    with pytest.raises(NotFound):  # the account's own list never heard of it
        suppression.get(ctx, owner, "x@example.org")
    delivery.stop()


def test_a_paused_configuration_set_or_account_refuses_sends_until_resumed(ctx, sending):
    from pinfold.core.errors import SendingPaused
    from pinfold.email import configuration_sets

    admin, caller, _delivery = sending
    email_account.set_production(ctx, admin, caller.account_id)
    configuration_sets.create(ctx, caller, {"ConfigurationSetName": "news"})
    configuration_sets.put_sending(ctx, caller, "news", {"SendingEnabled": False})
    with pytest.raises(SendingPaused, match="news"):
        ses_send.send_email(ctx, caller, _simple([f"success@{SIMULATOR}"], ConfigurationSetName="news"))
    configuration_sets.put_sending(ctx, caller, "news", {"SendingEnabled": True})
    assert ses_send.send_email(ctx, caller, _simple([f"success@{SIMULATOR}"], ConfigurationSetName="news"))
    email_account.put_sending(ctx, caller, False)
    with pytest.raises(SendingPaused):
        ses_send.send_email(ctx, caller, _simple([f"success@{SIMULATOR}"]))
    with ctx.db.read() as conn:
        assert email_messages.counts(conn) == {"queued": 1}


def test_direct_messages_go_to_at_most_100_recipients_or_users(ctx, sending):
    from pinfold.core.errors import InvalidInput
    from pinfold.messaging import messages

    admin, _caller, _delivery = sending
    project = onboard(ctx, admin, "shop", "sa-mp")[0]["project_id"]
    owner = account_caller(ctx, admin, onboard_account(ctx, project))
    content = {"EmailMessage": {"SimpleEmail": {"Subject": {"Data": "Hi"}, "TextPart": {"Data": "Hello"}}}}
    too_many = {f"a{n}@example.org": {"ChannelType": "EMAIL"} for n in range(60)}
    with pytest.raises(InvalidInput, match="at most 100 recipients"):
        messages.send_messages(ctx, owner, project, {"Addresses": too_many, "MessageConfiguration": content,
                                                     "Endpoints": {f"e{n}": {} for n in range(41)}})
    with pytest.raises(InvalidInput, match="at most 100 users"):
        messages.send_users_messages(ctx, owner, project, {"Users": {f"u{n}": {} for n in range(101)},
                                                           "MessageConfiguration": content})
    with ctx.db.read() as conn:
        assert email_messages.counts(conn) == {}


def test_reports_count_only_for_the_messages_own_recipients_each_once(ctx, sending):
    from pinfold.email import feedback
    from pinfold.email.adapters.base import Feedback

    admin, caller, delivery = sending
    email_account.set_production(ctx, admin, caller.account_id)
    message_id = ses_send.send_email(ctx, caller, _simple(["a@dest.org", "B@dest.org"]))["MessageId"]
    delivery.run_once()
    report = functools.partial(Feedback, "bounce", message_id=message_id, bounce_type="Permanent", status="5.1.1")
    feedback.record_report(ctx, report(recipients=("ceo@bigcustomer.com",)))  # forged: not a recipient
    feedback.record_report(ctx, report(recipients=()))  # names nobody, and the message had two recipients
    feedback.record_report(ctx, report(recipients=("a@dest.org",)))
    feedback.record_report(ctx, report(recipients=("b@dest.org",)))  # the same DSN's second recipient
    feedback.record_report(ctx, report(recipients=("a@dest.org",)))  # a repeat
    listed = {entry["EmailAddress"] for entry in suppression.list_page(ctx, caller)["SuppressedDestinationSummaries"]}
    assert listed == {"a@dest.org", "b@dest.org"}
    assert _types(ctx).count("_email.hardbounce") == 2


def test_a_message_that_cannot_be_built_fails_alone(ctx, sending):
    admin, caller, delivery = sending
    email_account.set_production(ctx, admin, caller.account_id)
    bad = _simple([f"success@{SIMULATOR}"])
    bad["Content"]["Simple"]["Headers"] = [{"Name": "Message-ID", "Value": "<mine@example.com>"}]
    ses_send.send_email(ctx, caller, bad)
    good = ses_send.send_email(ctx, caller, _simple([f"success@{SIMULATOR}"]))["MessageId"]
    assert delivery.run_once() == 2
    with ctx.db.read() as conn:
        assert email_messages.counts(conn) == {"delivered": 1, "failed": 1}
        assert email_messages.get(conn, good)["status"] == "delivered"


def test_a_pass_that_outlived_its_lease_records_nothing(ctx, sending):
    admin, caller, delivery = sending
    email_account.set_production(ctx, admin, caller.account_id)
    ses_send.send_email(ctx, caller, _simple([f"success@{SIMULATOR}"]))
    slow = delivery.worker
    claimed = slow._prepare()  # this worker claims, then stalls past its lease
    later = time.time() + ctx.settings.sending_lease_seconds + 1
    other = EmailDelivery(ctx)
    assert other.worker.run_once(now=later) == 1  # another worker takes the message over and sends it
    slow._send(claimed)
    slow._finish(claimed)  # the stalled pass wakes up: it must not overwrite the other's outcome
    with ctx.db.read() as conn:
        assert email_messages.counts(conn) == {"delivered": 1}
    assert _types(ctx) == ["_email.send", "_email.delivered"]  # recorded once, by the worker holding it
    other.stop()


def test_an_address_named_twice_in_one_request_gets_one_message(ctx, sending):
    from pinfold.audience import endpoints
    from pinfold.messaging import messages

    admin, _caller, delivery = sending
    project, owner = _email_project(ctx, admin)
    address = f"success@{SIMULATOR}"
    endpoints.update_endpoint(ctx, owner, project, "e1", {"ChannelType": "EMAIL", "Address": address})
    content = {"EmailMessage": {"SimpleEmail": {"Subject": {"Data": "Hi"}, "TextPart": {"Data": "Hello"}}}}
    response = messages.send_messages(ctx, owner, project, {"Addresses": {address: {"ChannelType": "EMAIL"}},
                                                            "Endpoints": {"e1": {}},
                                                            "MessageConfiguration": content})["MessageResponse"]
    assert response["Result"][address]["DeliveryStatus"] == "SUCCESSFUL"
    assert response["EndpointResult"]["e1"]["DeliveryStatus"] == "DUPLICATE"
    assert delivery.run_once() == 1
