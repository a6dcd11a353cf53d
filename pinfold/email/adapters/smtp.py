"""The SMTP relay adapter: pooled, pipelined connections to one relay (Postfix, KumoMTA, SES SMTP, ...).

smtplib was measured against this client (see benchmarks/smtp_adapter.py): it costs about twice the
CPU per message and needs four round trips per message where PIPELINING (RFC 2920) needs two.
"""

from __future__ import annotations

import base64
import logging
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Literal

from pinfold.email.adapters.base import OutgoingEmail
from pinfold.email.adapters.smtp_session import Broken, Reply, Session, Unavailable, broken_detail, transient
from pinfold.sending.channel import Acknowledged, Outcome

log = logging.getLogger(__name__)

TlsMode = Literal["require", "opportunistic", "off"]

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})  # credentials may go in clear only to this host
_CHUNK_LIMIT = 64  # messages one pooled connection takes from a batch before others get a turn
# After a failed connection attempt, callers fail fast for this long instead of each waiting out
# its own connect timeout against a relay that is down.
_DOWN_FOR = 5.0



class SmtpRelay:
    """An EmailAdapter for one relay: up to `max_connections` pooled sessions, shared by all callers."""

    def __init__(self, name: str, host: str, port: int, *, username: str | None = None,
                 password: str | None = None, starttls: TlsMode = "opportunistic", max_connections: int = 4,
                 messages_per_connection: int = 100, timeout: float = 30, tls_context: ssl.SSLContext | None = None,
                 helo_name: str | None = None, idle_timeout: float = 60) -> None:
        if starttls not in ("require", "opportunistic", "off"):
            raise ValueError(f"starttls must be require, opportunistic or off, not {starttls!r}")
        self.name, self.host, self.port = name, host, port
        self.username, self._password = username, password
        self.starttls, self.timeout, self.idle_timeout = starttls, timeout, idle_timeout
        self.messages_per_connection = max(1, messages_per_connection)
        self.max_connections = max(1, max_connections)
        self.helo_name = helo_name or socket.gethostname()
        self._tls_context = tls_context or _default_tls_context(starttls)
        self._idle: list[Session] = []
        self._lock = threading.Lock()
        # The executor's worker count is the concurrency limit: only its threads hold sessions.
        self._workers = ThreadPoolExecutor(self.max_connections, thread_name_prefix=f"smtp-{name}")
        self._closed = False
        self._down: tuple[float, Outcome] | None = None  # (until, the outcome of the failed attempt)
        self.connections_opened = 0  # for operators and tests: how well the pool reuses sessions

    def __repr__(self) -> str:  # never show the password
        return f"SmtpRelay({self.name!r}, {self.host!r}, {self.port}, username={self.username!r})"

    def deliver(self, messages: list[OutgoingEmail], acknowledged: Acknowledged | None = None) -> list[Outcome]:
        """Deliver in order of the returned outcomes; batches are spread over the pool's sessions, and
        `acknowledged` hears of each outcome on the session's thread as soon as the relay answers."""
        if self._closed:
            raise RuntimeError(f"SMTP relay {self.name} is closed")
        if not messages:
            return []
        size = min(_CHUNK_LIMIT, -(-len(messages) // self.max_connections))
        futures = [self._workers.submit(self._deliver_chunk, messages[first:first + size], first, acknowledged)
                   for first in range(0, len(messages), size)]
        # Every session finishes before a failure is raised: an acknowledgement arriving after the
        # pass has given up could not be recorded, and its message would be sent again.
        wait(futures)
        return [outcome for future in futures for outcome in future.result()]

    def close(self) -> None:
        """Finish work in progress, then QUIT every pooled session."""
        self._closed = True
        self._workers.shutdown(wait=True)
        with self._lock:
            idle, self._idle = self._idle, []
        for session in idle:
            session.close()

    def _deliver_chunk(self, messages: list[OutgoingEmail], offset: int = 0,
                       acknowledged: Acknowledged | None = None) -> list[Outcome]:
        outcomes: list[Outcome] = []

        def known(outcome: Outcome) -> bool:
            """Note the outcome; False when the pipeline wants no more of this batch tried."""
            go_on = acknowledged is None or acknowledged(offset + len(outcomes), outcome) is not False
            outcomes.append(outcome)
            return go_on

        session: Session | None = None
        try:
            for message in messages:
                if session is None:
                    try:
                        session = self._checkout()
                    except Unavailable as down:
                        for _ in messages[len(outcomes):]:
                            if not known(down.outcome):
                                break
                        break
                outcome, session = self._send(session, message)
                if not known(outcome):
                    break
                if session is not None and session.transactions >= self.messages_per_connection:
                    session.close()
                    session = None
        finally:
            if session is not None:
                self._checkin(session)
        return outcomes

    def _send(self, session: Session, message: OutgoingEmail) -> tuple[Outcome, Session | None]:
        """One message; a pooled session found dead before the server answered is replaced once."""
        reused = session.transactions > 0 or session.last_used < time.monotonic() - 1
        try:
            return self._transact(session, message)
        except Broken as broken:
            session.close(polite=False)
            if broken.answered or not reused:
                return transient(broken_detail(broken)), None
        try:
            session = self._open()
        except Unavailable as down:
            return down.outcome, None
        try:
            return self._transact(session, message)
        except Broken as broken:
            session.close(polite=False)
            return transient(broken_detail(broken)), None

    @staticmethod
    def _transact(session: Session, message: OutgoingEmail) -> tuple[Outcome, Session | None]:
        outcome = session.transact(message)
        if session.dead:
            session.close(polite=False)
            return outcome, None
        return outcome, session

    def _checkout(self) -> Session:
        now = time.monotonic()
        stale = []
        with self._lock:
            while self._idle and now - self._idle[0].last_used >= self.idle_timeout:  # oldest first
                stale.append(self._idle.pop(0))
            session = self._idle.pop() if self._idle else None
        for old in stale:
            old.close()
        if session is not None:
            return session
        down = self._down
        if down is not None and now < down[0]:
            raise Unavailable(down[1])
        return self._open()

    def _checkin(self, session: Session) -> None:
        if session.transactions >= self.messages_per_connection or self._closed:
            session.close()
            return
        session.last_used = time.monotonic()
        with self._lock:
            self._idle.append(session)

    def _open(self) -> Session:
        """Connect, read the greeting, EHLO, STARTTLS and AUTH as configured."""
        with self._lock:
            self.connections_opened += 1
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as error:
            raise self._failed(transient(f"cannot connect to {self.host}:{self.port}: {error}")) from error
        session = Session(sock, self.timeout)
        try:
            self._greet(session)
        except Broken as broken:
            session.close(polite=False)
            raise self._failed(transient(broken.detail)) from broken
        except Unavailable as refused:
            session.close()
            raise self._failed(refused.outcome) from refused
        self._down = None
        return session

    def _failed(self, outcome: Outcome) -> Unavailable:
        self._down = (time.monotonic() + _DOWN_FOR, outcome)
        return Unavailable(outcome)

    def _greet(self, session: Session) -> None:
        greeting = session.read()
        if greeting.code != 220:
            raise Unavailable(transient(f"relay greeting: {greeting}"))
        self._expect(session.ehlo(self.helo_name), "EHLO")
        encrypted = False
        if self.starttls != "off" and "STARTTLS" in session.features:
            self._expect(session.command("STARTTLS"), "STARTTLS")
            self._wrap_tls(session)
            self._expect(session.ehlo(self.helo_name), "EHLO after STARTTLS")
            encrypted = True
        elif self.starttls == "require":
            # A relay that cannot encrypt is a configuration fault: retry later rather than bounce.
            raise Unavailable(transient("the relay does not offer STARTTLS and TLS is required"))
        if self.username is not None:
            if not encrypted and self.host not in _LOOPBACK:
                # Someone between here and the relay could have stripped STARTTLS to read the password.
                raise Unavailable(transient("refusing to send relay credentials without TLS"))
            self._authenticate(session)

    def _wrap_tls(self, session: Session) -> None:
        try:
            session.reader.close()
            session.sock = self._tls_context.wrap_socket(session.sock, server_hostname=self.host)
        except (OSError, ssl.SSLError) as error:
            raise Unavailable(transient(f"TLS handshake with the relay failed: {error}")) from error
        session.reader = session.sock.makefile("rb")

    def _authenticate(self, session: Session) -> None:
        mechanisms = session.features.get("AUTH", "").upper().split()
        secret = self._password or ""
        if "PLAIN" in mechanisms:
            token = base64.b64encode(f"\0{self.username}\0{secret}".encode()).decode()
            reply = session.command(f"AUTH PLAIN {token}")
        elif "LOGIN" in mechanisms:
            reply = session.command("AUTH LOGIN")
            if reply.code == 334:
                reply = session.command(base64.b64encode(self.username.encode()).decode())
            if reply.code == 334:
                reply = session.command(base64.b64encode(secret.encode()).decode())
        else:
            raise Unavailable(transient(f"the relay offers no AUTH mechanism Pinfold speaks ({mechanisms})"))
        if reply.code != 235:
            log.warning("SMTP relay %s refused the credentials of user %s: %s", self.name, self.username, reply)
            raise Unavailable(transient(f"relay authentication failed: {reply}"))

    @staticmethod
    def _expect(reply: Reply, step: str) -> None:
        if reply.code >= 300:
            raise Unavailable(transient(f"relay refused {step}: {reply}"))


def _default_tls_context(mode: TlsMode) -> ssl.SSLContext:
    """Required TLS verifies the relay's certificate; opportunistic TLS encrypts without verifying."""
    context = ssl.create_default_context()
    if mode != "require":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
