"""The SMTP relay adapter against real SMTP servers (aiosmtpd in-process, Postfix's smtp-sink), and
the built-in mailbox simulator."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import itertools
import logging
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dkim as dkimpy
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

from pinfold.email.adapters.base import Feedback, OutgoingEmail
from pinfold.email.adapters.mailbox import Mailbox, simulator_role
from pinfold.email.adapters.smtp import SmtpRelay
from pinfold.email.mime import build_message
from pinfold.email.rules import dkim
from tests.conftest import free_port, unavailable

SMTP_SINK = "/usr/sbin/smtp-sink"
_ids = itertools.count(1)


def email(*recipients: str, sender: str = "sender@pinfold.test", body: str = "Hello.\n") -> OutgoingEmail:
    message_id = f"m{next(_ids)}"
    data = build_message(message_id=message_id, mail_domain="pinfold.test", from_addr=sender, to=list(recipients),
                         cc=[], reply_to=[], subject="Test", html=None, text=body)
    return OutgoingEmail(message_id, sender, tuple(recipients), data)


class Recorder:
    """An aiosmtpd handler that records what it accepts and misbehaves on request (by address)."""

    def __init__(self, *, pipelining: bool = False) -> None:
        self.pipelining = pipelining
        self.received: list[tuple[str, list[str], bytes, bool]] = []
        self.opened = self.current = self.peak = 0
        self.sessions: list[SMTP] = []
        self.data_delay = 0.0
        self.queue_ids = itertools.count(1)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("unknown"):
            return "550 5.1.1 No such user here"
        if local.startswith("full"):
            return "452 4.2.2 Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if envelope.mail_from.startswith("tempfail"):
            return "451 4.3.0 Try again later"
        if envelope.mail_from.startswith("reject"):
            return "554 5.6.0 Message content rejected"
        if envelope.mail_from.startswith("vanish"):
            server.transport.abort()  # the data arrived; the reply never will
            return "250 OK"
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                              session.ssl is not None))
        return f"250 2.0.0 Ok: queued as Q{next(self.queue_ids)}"


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        handler = self.event_handler
        handler.opened += 1
        handler.current += 1
        handler.peak = max(handler.peak, handler.current)
        handler.sessions.append(self)
        super().connection_made(transport)

    def connection_lost(self, error):
        self.event_handler.current -= 1
        super().connection_lost(error)


class CountingController(Controller):
    def factory(self):
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


@pytest.fixture
def aiosmtpd_server():
    """Start aiosmtpd servers: `start(handler, **smtp_options) -> port`; all stop at teardown."""
    controllers = []

    def start(handler: Recorder, **options) -> int:
        port = free_port()
        controller = CountingController(handler, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        deadline = time.monotonic() + 5
        while handler.current and time.monotonic() < deadline:  # start()'s readiness probe is closing
            time.sleep(0.005)
        handler.opened = handler.current = handler.peak = 0
        handler.sessions.clear()
        return port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def tls_server_context(certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def relays():
    """Build SmtpRelay objects that are all closed at teardown."""
    made: list[SmtpRelay] = []

    def make(port: int, **options) -> SmtpRelay:
        options.setdefault("timeout", 5)
        relay = SmtpRelay("test", "127.0.0.1", port, **options)
        made.append(relay)
        return relay

    yield make
    for relay in made:
        relay.close()


# -- outcomes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pipelining", [False, True], ids=["lockstep", "pipelined"])
def test_replies_become_outcomes(aiosmtpd_server, relays, pipelining):
    handler = Recorder(pipelining=pipelining)
    relay = relays(aiosmtpd_server(handler), max_connections=1)
    messages = [
        email("ok@example.test"),
        email("unknown@example.test"),
        email("full@example.test"),
        email("ok2@example.test", "unknown3@example.test", "full2@example.test"),
        email("unknown4@example.test", "full4@example.test"),
        email("unknown5@example.test", "unknown6@example.test"),
        email("ok3@example.test", sender="tempfail@pinfold.test"),
        email("ok4@example.test", sender="reject@pinfold.test"),
        email("ok5@example.test"),
    ]
    ok, unknown, full, partial, mixed, all_unknown, tempfail, rejected, after = relay.deliver(messages)

    assert (ok.status, ok.code, ok.enhanced, ok.remote_id) == ("delivered", 250, "2.0.0", "Q1")
    assert (unknown.status, unknown.code, unknown.enhanced) == ("permanent", 550, "5.1.1")
    assert "No such user" in unknown.detail
    assert (full.status, full.code, full.enhanced) == ("transient", 452, "4.2.2")
    assert partial.status == "delivered" and partial.remote_id == "Q2"
    assert {address: o.status for address, o in partial.refused.items()} == {
        "unknown3@example.test": "permanent", "full2@example.test": "transient"}
    assert mixed.status == "transient" and set(mixed.refused) == {"unknown4@example.test", "full4@example.test"}
    assert all_unknown.status == "permanent" and len(all_unknown.refused) == 2
    assert (tempfail.status, tempfail.code) == ("transient", 451)
    assert (rejected.status, rejected.code, rejected.enhanced) == ("permanent", 554, "5.6.0")
    assert after.status == "delivered"  # the session survived every failed transaction (RSET)
    assert [rcpts for _, rcpts, _, _ in handler.received] == [
        ["ok@example.test"], ["ok2@example.test"], ["ok5@example.test"]]
    assert handler.opened == 1


def test_server_down_is_transient_for_every_message(relays):
    relay = relays(free_port())  # nothing listens there
    started = time.monotonic()
    outcomes = relay.deliver([email("a@example.test"), email("b@example.test"), email("c@example.test")])
    assert [o.status for o in outcomes] == ["transient"] * 3
    assert "cannot connect" in outcomes[0].detail
    assert time.monotonic() - started < 3


def test_a_silent_relay_is_not_waited_for_by_every_call(relays):
    listener = socket.create_server(("127.0.0.1", 0))  # accepts connections (backlog), never greets
    try:
        relay = relays(listener.getsockname()[1], max_connections=1, timeout=0.5)
        started = time.monotonic()
        outcomes = [o for _ in range(5) for o in relay.deliver([email("a@example.test"), email("b@example.test")])]
        assert [o.status for o in outcomes] == ["transient"] * 10
        assert relay.connections_opened == 1  # the others failed fast on the first attempt's outcome
        assert time.monotonic() - started < 2
    finally:
        listener.close()


def test_connection_lost_after_data_is_transient_and_says_it_may_have_been_queued(aiosmtpd_server, relays):
    handler = Recorder()
    relay = relays(aiosmtpd_server(handler), max_connections=1)
    lost, next_one = relay.deliver([email("a@example.test", sender="vanish@pinfold.test"), email("b@example.test")])
    assert lost.status == "transient" and "may have queued" in lost.detail
    assert next_one.status == "delivered"  # a new session took over
    assert handler.opened == 2


def test_server_that_drops_mid_data_is_transient(relays):
    port, stop = scripted_server(drop_after_bytes=200)
    try:
        relay = relays(port, max_connections=1)
        outcome, = relay.deliver([email("a@example.test", body="x" * 5000)])
        assert outcome.status == "transient" and "connection lost" in outcome.detail
    finally:
        stop()


def scripted_server(*, drop_after_bytes: int) -> tuple[int, callable]:
    """A bare TCP SMTP peer that accepts the envelope, says 354, reads some data and hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with listener:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as reader:
                conn.sendall(b"220 scripted ESMTP\r\n")
                while line := reader.readline():
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        conn.sendall(b"250-scripted\r\n250 8BITMIME\r\n")
                    elif verb == b"DATA":
                        conn.sendall(b"354 go ahead\r\n")
                        reader.read(drop_after_bytes)
                        return
                    else:
                        conn.sendall(b"250 OK\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def stop() -> None:
        listener.close()
        thread.join(5)

    return port, stop


# -- pooling and concurrency ------------------------------------------------------------------------------


def test_pool_reuses_connections_across_calls(aiosmtpd_server, relays):
    handler = Recorder(pipelining=True)
    relay = relays(aiosmtpd_server(handler), max_connections=1, messages_per_connection=4)
    for index in range(10):
        outcome, = relay.deliver([email(f"r{index}@example.test")])
        assert outcome.status == "delivered"
    assert len(handler.received) == 10
    assert handler.opened == relay.connections_opened == 3  # 4 + 4 + 2 messages


def test_each_outcome_is_acknowledged_as_the_relay_answers_once_and_in_its_place(aiosmtpd_server, relays):
    handler = Recorder(pipelining=True)
    relay = relays(aiosmtpd_server(handler), max_connections=3)
    heard: list[tuple[int, object, int]] = []
    messages = [email(f"{'unknown' if n % 7 == 0 else 'ok'}{n}@example.test") for n in range(200)]
    outcomes = relay.deliver(messages, lambda index, outcome: heard.append((index, outcome, len(handler.received))))
    assert sorted(index for index, _, _ in heard) == list(range(200))
    assert all(outcomes[index] == outcome for index, outcome, _ in heard)
    # heard as the relay answered, not when the whole batch was done
    assert min(received for _, _, received in heard) < 10
    down = relays(free_port())  # nothing listens: every message is acknowledged with the refusal
    heard.clear()
    outcomes = down.deliver(messages[:5], lambda index, outcome: heard.append((index, outcome, 0)))
    assert [(index, outcome) for index, outcome, _ in sorted(heard, key=lambda h: h[0])] == list(enumerate(outcomes))
    assert {outcome.status for outcome in outcomes} == {"transient"}


def test_dropped_pooled_connection_is_replaced_without_losing_the_message(aiosmtpd_server, relays):
    handler = Recorder()
    port = aiosmtpd_server(handler)
    relay = relays(port, max_connections=1)
    assert relay.deliver([email("first@example.test")])[0].status == "delivered"
    session = handler.sessions[0]
    session.loop.call_soon_threadsafe(session.transport.close)  # the relay hangs up on the idle session
    deadline = time.monotonic() + 5
    while handler.current and time.monotonic() < deadline:
        time.sleep(0.01)
    outcome, = relay.deliver([email("second@example.test")])
    assert outcome.status == "delivered"
    assert [rcpts for _, rcpts, _, _ in handler.received] == [["first@example.test"], ["second@example.test"]]
    assert handler.opened == 2


def test_concurrency_limit_holds_across_calling_threads(aiosmtpd_server, relays):
    handler = Recorder(pipelining=True)
    handler.data_delay = 0.02
    relay = relays(aiosmtpd_server(handler), max_connections=3)
    batches = [[email(f"t{thread}-{index}@example.test") for index in range(8)] for thread in range(5)]
    with ThreadPoolExecutor(5) as callers:
        results = list(callers.map(relay.deliver, batches))
    assert [o.status for outcomes in results for o in outcomes] == ["delivered"] * 40
    assert len(handler.received) == 40
    assert handler.peak == 3  # used in parallel, never beyond the limit
    for batch, outcomes in zip(batches, results, strict=True):  # outcomes come back in message order
        received = {rcpts[0]: content for _, rcpts, content, _ in handler.received}
        for message, outcome in zip(batch, outcomes, strict=True):
            assert f"X-Pinfold-Message-Id: {message.message_id}".encode() in received[message.recipients[0]]
            assert outcome.remote_id


# -- TLS and authentication ---------------------------------------------------------------------------------


def test_starttls_required_and_verified(aiosmtpd_server, relays, certificate):
    handler = Recorder()
    port = aiosmtpd_server(handler, tls_context=tls_server_context(certificate), require_starttls=True)
    client = ssl.create_default_context(cafile=str(certificate[0]))
    relay = relays(port, starttls="require", tls_context=client)
    assert relay.deliver([email("a@example.test")])[0].status == "delivered"
    assert handler.received[0][3] is True  # the server saw the message over TLS


def test_opportunistic_tls_encrypts_without_verifying(aiosmtpd_server, relays, certificate):
    handler = Recorder()
    port = aiosmtpd_server(handler, tls_context=tls_server_context(certificate))
    relay = relays(port)
    assert relay.deliver([email("a@example.test")])[0].status == "delivered"
    assert handler.received[0][3] is True


def test_tls_failures_are_transient(aiosmtpd_server, relays, certificate):
    plain = aiosmtpd_server(Recorder())
    outcome, = relays(plain, starttls="require").deliver([email("a@example.test")])
    assert outcome.status == "transient" and "does not offer STARTTLS" in outcome.detail

    tls_only = aiosmtpd_server(Recorder(), tls_context=tls_server_context(certificate), require_starttls=True)
    outcome, = relays(tls_only, starttls="require").deliver([email("a@example.test")])  # system CAs
    assert outcome.status == "transient" and "TLS handshake" in outcome.detail
    outcome, = relays(tls_only, starttls="off").deliver([email("a@example.test")])
    assert outcome.status == "transient" and outcome.code == 530  # not a bounce: the relay wants TLS


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_with_good_and_bad_credentials(aiosmtpd_server, relays, caplog, mechanism):
    def authenticator(server, session, envelope, used, data):
        # handled=False: aiosmtpd itself answers 535 to a failure
        return AuthResult(success=(data.login, data.password) == (b"ses-user", b"s3cret-pass"), handled=False)

    handler = Recorder()
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[mechanism]
    port = aiosmtpd_server(handler, auth_required=True, auth_require_tls=False, authenticator=authenticator,
                           auth_exclude_mechanism=[other])
    caplog.set_level(logging.DEBUG)
    good = relays(port, username="ses-user", password="s3cret-pass")
    assert good.deliver([email("a@example.test")])[0].status == "delivered"
    bad = relays(port, username="ses-user", password="wrong-pass")
    outcome, = bad.deliver([email("b@example.test")])
    assert outcome.status == "transient" and "authentication failed" in outcome.detail
    anonymous = relays(port)
    assert anonymous.deliver([email("c@example.test")])[0].status == "transient"  # 530, not a bounce
    assert len(handler.received) == 1
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("pinfold"))
    assert "ses-user" in ours  # the refusal was logged, with the user name only
    for secret in ("s3cret-pass", "wrong-pass"):
        assert secret not in ours and secret not in outcome.detail and secret not in repr(bad)


# -- DKIM end to end ----------------------------------------------------------------------------------------


def test_dkim_signature_verifies_on_the_received_message(aiosmtpd_server, relays):
    private_pem, public_b64 = dkim.generate_key()
    record = dkim.dns_records("pinfold.test", "pf2026", public_b64)[0]
    # A body line starting with a dot and trailing spaces exercise dot-stuffing and canonicalization.
    data = build_message(message_id="dk1", mail_domain="pinfold.test", from_addr="News <news@pinfold.test>",
                         to=["a@example.test"], cc=[], reply_to=[], subject="Grüße", text=".hidden?\nend  \n",
                         html="<p>Grüße</p>", list_unsubscribe=("https://pinfold.test/u/1", "u@pinfold.test"))
    signed = dkim.sign(data, domain="pinfold.test", selector="pf2026", private_pem=private_pem)
    handler = Recorder(pipelining=True)
    relay = relays(aiosmtpd_server(handler))
    assert relay.deliver([OutgoingEmail("dk1", "bounce@pinfold.test", ("a@example.test",), signed)])[0].status \
        == "delivered"
    received = handler.received[0][2]
    assert b"\r\n.hidden?\r\n" in received

    def dns(name, timeout=5):
        return record["value"].encode() if name == f"{record['name']}.".encode() else None

    assert dkimpy.verify(received, dnsfunc=dns)
    assert not dkimpy.verify(received.replace(b"Subject:", b"Subject: Re:"), dnsfunc=dns)


# -- Postfix smtp-sink --------------------------------------------------------------------------------------


@pytest.fixture
def smtp_sink():
    """Start smtp-sink with extra options: `start(*options, dump=False) -> (port, dump folder)`."""
    if not os.path.exists(SMTP_SINK):
        unavailable("Postfix smtp-sink is not installed")
    processes = []
    # Run as root, smtp-sink drops to `nobody`, which cannot enter pytest's private tmp_path.
    dumps = Path(tempfile.mkdtemp(prefix="pinfold-sink-"))
    dumps.chmod(0o777)

    def start(*options: str, dump: bool = False) -> tuple[int, Path]:
        port = free_port()
        folder = dumps / str(port)
        folder.mkdir()
        folder.chmod(0o777)
        args = [SMTP_SINK, *options]
        if dump:
            args += ["-d", f"{folder}/msg."]
        if os.geteuid() == 0:
            args += ["-u", "nobody"]
        process = subprocess.Popen([*args, f"127.0.0.1:{port}", "64"], stderr=subprocess.PIPE)
        processes.append(process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port, folder
            except OSError:
                if process.poll() is not None:
                    unavailable(f"smtp-sink exited: {process.stderr.read().decode()}")
                time.sleep(0.05)
        unavailable("smtp-sink did not start")

    yield start
    for process in processes:
        process.terminate()
        process.wait(5)
    shutil.rmtree(dumps, ignore_errors=True)


def test_bulk_through_smtp_sink(smtp_sink, relays):
    port, folder = smtp_sink(dump=True)
    relay = relays(port, max_connections=4, messages_per_connection=50)
    batches = [[email(f"r{part}-{index}@example.test") for index in range(100)] for part in range(3)]
    with ThreadPoolExecutor(3) as callers:
        outcomes = [o for result in callers.map(relay.deliver, batches) for o in result]
    assert [o.status for o in outcomes] == ["delivered"] * 300
    # 50 messages per connection: six full sessions, plus at most one part-used per pool worker
    assert 6 <= relay.connections_opened <= 6 + 4
    dumped = [path.read_bytes() for path in folder.iterdir()]
    assert len(dumped) == 300
    assert all(b"X-Pinfold-Message-Id: m" in dump for dump in dumped)


def test_smtp_sink_refusals_and_hangups(smtp_sink, relays):
    hard, _ = smtp_sink("-f", "rcpt", "-B", "550 5.1.1 unknown user")
    outcome, = relays(hard).deliver([email("a@example.test")])
    assert (outcome.status, outcome.code, outcome.enhanced) == ("permanent", 550, "5.1.1")

    soft, _ = smtp_sink("-r", "data")
    outcome, = relays(soft).deliver([email("a@example.test")])
    assert outcome.status == "transient" and 400 <= outcome.code < 500

    hangup, _ = smtp_sink("-q", ".")  # hangs up after the end of data: did it queue? unknown
    first, second = relays(hangup, max_connections=1).deliver([email("a@example.test"), email("b@example.test")])
    assert first.status == second.status == "transient" and "may have queued" in first.detail


# -- the mailbox simulator ----------------------------------------------------------------------------------


def test_the_mailbox_keeps_every_delivery_of_a_message(tmp_path):
    mailbox = Mailbox(tmp_path / "mail")
    message = email("b@example.test")
    first, second, third = (mailbox.deliver([message])[0] for _ in range(3))  # as after two crashes
    stored = sorted(path.relative_to(tmp_path / "mail").as_posix() for path in (tmp_path / "mail").rglob("*.eml"))
    assert stored == sorted([first.remote_id, second.remote_id, third.remote_id])
    copies = [f"{message.message_id}.eml", f"{message.message_id}.2.eml", f"{message.message_id}.3.eml"]
    assert sorted(name.split("/")[1] for name in stored) == sorted(copies)
    assert all(path.read_bytes().endswith(message.data) for path in (tmp_path / "mail").rglob("*.eml"))
    assert not list((tmp_path / "mail").rglob("*.tmp"))


def test_mailbox_stores_mail_and_simulates_ses_addresses(tmp_path):
    feedback: list[Feedback] = []
    mailbox = Mailbox(tmp_path / "mail", on_feedback=feedback.append)
    sim = "simulator.amazonses.com"
    plain, bounce, suppressed, complaint, ooto, mixed, success = mailbox.deliver([
        email("someone@example.test"), email(f"bounce@{sim}"), email(f"suppressionlist+t1@{sim}"),
        email(f"complaint+abc@{sim}"), email(f"ooto@{sim}"), email(f"success@{sim}", f"bounce+x@{sim}"),
        email(f"SUCCESS@{sim.upper()}"),
    ])
    assert (bounce.status, bounce.code, bounce.enhanced) == ("permanent", 550, "5.1.1")
    assert suppressed.status == "permanent" and "suppression list" in suppressed.detail
    for delivered in (plain, complaint, ooto, mixed, success):
        assert delivered.status == "delivered"
        stored = tmp_path / "mail" / delivered.remote_id
        assert stored.parent.name == datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
        assert b"X-Pinfold-Message-Id: m" in stored.read_bytes()
    assert set(mixed.refused) == {f"bounce+x@{sim}"} and mixed.refused[f"bounce+x@{sim}"].status == "permanent"
    assert b"X-Pinfold-Envelope-To: success@" in (tmp_path / "mail" / mixed.remote_id).read_bytes()
    assert len(list((tmp_path / "mail").rglob("*.eml"))) == 5
    assert len(feedback) == 1
    assert feedback[0].kind == "complaint" and feedback[0].recipients == (f"complaint+abc@{sim}",)
    assert feedback[0].message_id == complaint.remote_id.split("/")[1].removesuffix(".eml")
    assert feedback[0].feedback_type == "abuse"


def test_simulator_roles():
    assert simulator_role("bounce+label@simulator.amazonses.com") == "bounce"
    assert simulator_role("Complaint@Simulator.AmazonSES.com") == "complaint"
    assert simulator_role("bounce@example.com") is None
    assert simulator_role("@simulator.amazonses.com") is None


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_credentials_never_cross_the_network_in_clear(aiosmtpd_server, relays, monkeypatch):
    from pinfold.email.adapters import smtp

    handler = Recorder()
    port = aiosmtpd_server(handler, auth_required=True, auth_require_tls=False,
                           authenticator=lambda *args: AuthResult(success=True, handled=False))
    monkeypatch.setattr(smtp, "_LOOPBACK", frozenset())  # as if the relay were another host
    outcome, = relays(port, username="ses-user", password="s3cret-pass").deliver([email("a@example.test")])
    assert outcome.status == "transient" and "without TLS" in outcome.detail
    assert handler.received == []


def test_adapters_try_no_more_of_a_batch_once_the_pipeline_says_stop(tmp_path, relays, smtp_sink):
    """An acknowledgement answering False (the pass lost its lease or its database) ends the batch:
    what was not tried is not sent, and is sent once by whoever takes it over."""
    heard = []

    def stop_after_two(index, outcome):
        heard.append(index)
        return len(heard) < 2

    mailbox = Mailbox(tmp_path / "mail")
    outcomes = mailbox.deliver([email(f"m{n}@example.test") for n in range(5)], stop_after_two)
    assert len(outcomes) == 2 and heard == [0, 1]
    assert len(list((tmp_path / "mail").rglob("*.eml"))) == 2

    heard.clear()
    sink, _ = smtp_sink()
    outcomes = relays(sink, max_connections=1).deliver([email(f"r{n}@example.test") for n in range(5)],
                                                       stop_after_two)
    assert [outcome.status for outcome in outcomes] == ["delivered", "delivered"] and heard == [0, 1]


def test_a_failing_session_waits_for_the_others_before_the_batch_fails():
    relay = SmtpRelay("test", "127.0.0.1", 9, max_connections=2)
    heard = []

    def chunk(messages, offset=0, acknowledged=None):
        if offset == 0:
            raise RuntimeError("this session broke")
        time.sleep(0.3)
        for index in range(len(messages)):
            acknowledged(offset + index, None)
        return [None] * len(messages)

    relay._deliver_chunk = chunk
    with pytest.raises(RuntimeError, match="this session broke"):
        relay.deliver([email(f"r{n}@example.test") for n in range(4)], lambda index, outcome: heard.append(index))
    assert heard == [2, 3]  # the other session's outcomes were all heard before the failure was raised
    relay.close()


def test_the_mailbox_works_where_the_filesystem_has_no_hard_links(tmp_path, monkeypatch):
    import errno

    def refuse(*_args, **_kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr("pinfold.email.adapters.mailbox.os.link", refuse)
    mailbox = Mailbox(tmp_path / "mail")
    message = email("b@example.test")
    outcomes = [mailbox.deliver([message])[0] for _ in range(3)]
    assert [outcome.status for outcome in outcomes] == ["delivered"] * 3
    stored = sorted(path.name for path in (tmp_path / "mail").rglob("*.eml"))
    assert stored == sorted([f"{message.message_id}.eml", f"{message.message_id}.2.eml",
                             f"{message.message_id}.3.eml"])
    assert all(path.read_bytes().endswith(message.data) for path in (tmp_path / "mail").rglob("*.eml"))
    assert not list((tmp_path / "mail").rglob("*.tmp"))
