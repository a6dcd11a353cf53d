"""The SMTP relay adapter: pooled, pipelined connections to one relay (Postfix, KumoMTA, SES SMTP, ...).

smtplib was measured against this client (see benchmarks/smtp_adapter.py): it costs about twice the
CPU per message and needs four round trips per message where PIPELINING (RFC 2920) needs two.
"""

from __future__ import annotations

import base64
import logging
import re
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Literal, NamedTuple

from pinfold.email.adapters.base import OutgoingEmail
from pinfold.sending.channel import Acknowledged, Outcome

log = logging.getLogger(__name__)

TlsMode = Literal["require", "opportunistic", "off"]

_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")
_QUEUED_AS = re.compile(r"queued as\s+<?([^\s>]+)", re.IGNORECASE)
_OK_ID = re.compile(r"^(?:2\.\d{1,3}\.\d{1,3}\s+)?ok\s+<?([^\s>]+)>?$", re.IGNORECASE)  # SES SMTP: "250 Ok <id>"
_BARE_EOL = re.compile(rb"\r\n|\r|\n")
# Replies to MAIL FROM that say the relay wants (other) credentials: the relay's configuration is at
# fault, not the recipient, so they must not become hard bounces that suppress the address.
_AUTH_CODES = frozenset({530, 535, 538})
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})  # credentials may go in clear only to this host
_CHUNK_LIMIT = 64  # messages one pooled connection takes from a batch before others get a turn
# After a failed connection attempt, callers fail fast for this long instead of each waiting out
# its own connect timeout against a relay that is down.
_DOWN_FOR = 5.0


class Reply(NamedTuple):
    """One SMTP reply: its code and its lines of text (several for a multi-line reply)."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    def __str__(self) -> str:
        return f"{self.code} {self.text}"

    def outcome(self, *, refused: dict[str, Outcome] | None = None) -> Outcome:
        """Map the reply to an outcome: 2xx delivered, 5xx permanent, anything else transient."""
        match = _ENHANCED.match(self.text)
        if self.code < 300:
            return Outcome("delivered", str(self), self.code, match and match[1], _remote_id(self.text),
                           refused or {})
        status = "permanent" if self.code >= 500 and self.code not in _AUTH_CODES else "transient"
        return Outcome(status, str(self), self.code, match and match[1], refused=refused or {})


def _remote_id(text: str) -> str | None:
    match = _QUEUED_AS.search(text) or _OK_ID.match(text)
    return match[1] if match else None


def _transient(detail: str) -> Outcome:
    return Outcome("transient", detail)


class _Broken(Exception):
    """The connection failed. `answered`: the server had replied within this message's transaction
    (so resending elsewhere is not a blind retry); `ambiguous`: the data was sent but not acknowledged."""

    def __init__(self, detail: str, *, answered: bool, ambiguous: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.answered = answered
        self.ambiguous = ambiguous


class _Unavailable(Exception):
    """No usable session could be opened; every message waiting for one gets `outcome`."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


def wire_data(data: bytes) -> bytes:
    """The DATA payload: CRLF line endings, dot-stuffed (RFC 5321 4.5.2), ending in CRLF.CRLF."""
    if data.count(b"\n") != data.count(b"\r\n") or data.count(b"\r") != data.count(b"\r\n"):
        data = _BARE_EOL.sub(b"\r\n", data)
    if data.startswith(b"."):
        data = b"." + data
    data = data.replace(b"\n.", b"\n..")
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class _Session:
    """One open, greeted (and perhaps encrypted and authenticated) SMTP connection."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")
        self.timeout = timeout
        self.features: dict[str, str] = {}
        self.transactions = 0
        self.dead = False  # the server closed (421) or a clean-up step failed: do not reuse
        self.last_used = time.monotonic()

    def read(self, *, answered: bool = False, ambiguous: bool = False) -> Reply:
        """Read one (possibly multi-line) reply; a closed or silent connection raises _Broken."""
        lines = []
        try:
            while True:
                line = self.reader.readline(4096)
                if len(line) < 4 or not line[:3].isdigit():
                    raise _Broken(f"connection lost (read {line[:80]!r})", answered=answered, ambiguous=ambiguous)
                lines.append(line[4:].strip().decode("utf-8", "replace"))
                if line[3:4] != b"-":
                    return Reply(int(line[:3]), tuple(lines))
        except (OSError, ValueError) as error:  # ValueError: reading a file closed under us
            raise _Broken(f"connection lost: {error}", answered=answered, ambiguous=ambiguous) from error

    def write(self, payload: bytes, *, answered: bool = False) -> None:
        try:
            self.sock.sendall(payload)
        except OSError as error:
            raise _Broken(f"connection lost: {error}", answered=answered) from error

    def command(self, line: str) -> Reply:
        self.write(line.encode() + b"\r\n")
        return self.read()

    def ehlo(self, name: str) -> Reply:
        reply = self.command(f"EHLO {name}")
        self.features = {}
        if reply.code >= 500:  # a server without ESMTP: plain SMTP, no extensions
            return self.command(f"HELO {name}")
        for line in reply.lines[1:]:
            keyword, _, value = line.partition(" ")
            self.features[keyword.upper()] = value
        return reply

    def close(self, *, polite: bool = True) -> None:
        if polite:
            try:
                self.sock.settimeout(min(self.timeout, 2.0))
                self.sock.sendall(b"QUIT\r\n")
                self.reader.readline(512)
            except OSError:
                pass
        try:
            self.reader.close()
            self.sock.close()
        except OSError:
            pass

    def transact(self, message: OutgoingEmail) -> Outcome:
        """Send one message (MAIL, RCPT..., DATA, payload); the connection stays ready for the next."""
        problem = self._refuse_early(message)
        if problem is not None:
            return problem
        self.transactions += 1
        commands = [f"MAIL FROM:<{message.sender}>{self._mail_params(message)}"]
        commands += [f"RCPT TO:<{recipient}>" for recipient in message.recipients]
        if "PIPELINING" in self.features:
            self.write(("\r\n".join(commands) + "\r\nDATA\r\n").encode())
            replies = [self._first_reply()] + [self.read(answered=True) for _ in commands]
        else:
            replies = self._lockstep(commands)
        mail, rcpts, data = replies[0], replies[1:len(commands)], (replies[len(commands):] or [None])[0]
        refused = {recipient: reply.outcome() for recipient, reply in zip(message.recipients, rcpts, strict=False)
                   if reply.code >= 300}
        if mail.code >= 300:
            return self._abort(data, mail.outcome())
        if len(refused) == len(message.recipients):
            return self._abort(data, _all_refused(refused))
        if data is None or data.code != 354:
            failed = data.outcome() if data and data.code >= 400 else _transient(f"unexpected reply to DATA: {data}")
            return self._abort(data, failed)
        self.write(wire_data(message.data), answered=True)
        final = self.read(answered=True, ambiguous=True)
        if final.code >= 300:
            self._reset(final)
        return final.outcome(refused=refused if len(message.recipients) > 1 else None)

    def _first_reply(self) -> Reply:
        """The reply to MAIL; a 421 there means the server is closing this (pooled) connection."""
        reply = self.read()
        if reply.code == 421:
            raise _Broken(str(reply), answered=False)
        return reply

    def _lockstep(self, commands: list[str]) -> list[Reply]:
        """Without PIPELINING: one command at a time, stopping where the transaction cannot go on."""
        self.write(commands[0].encode() + b"\r\n")
        replies = [self._first_reply()]
        if replies[0].code >= 300:
            return replies
        for line in commands[1:]:
            self.write(line.encode() + b"\r\n", answered=True)
            replies.append(self.read(answered=True))
        if all(reply.code >= 300 for reply in replies[1:]):
            return replies
        self.write(b"DATA\r\n", answered=True)
        replies.append(self.read(answered=True))
        return replies

    def _abort(self, data: Reply | None, outcome: Outcome) -> Outcome:
        """End a failed transaction: an accepted DATA still needs its terminating dot, then RSET."""
        try:
            if data is not None and data.code == 354:
                self.write(b".\r\n", answered=True)
                self.read(answered=True)
        except _Broken:
            self.dead = True
            return outcome
        self._reset(Reply(outcome.code or 0, ()))
        return outcome

    def _reset(self, last: Reply) -> None:
        """RSET after a failed transaction; the outcome is already decided, so a failure only retires us."""
        if last.code == 421:
            self.dead = True
            return
        try:
            self.dead = self.command("RSET").code != 250
        except _Broken:
            self.dead = True

    def _refuse_early(self, message: OutgoingEmail) -> Outcome | None:
        """Outcomes decided without asking the server: unsafe addresses, needed extensions, size.
        These are "skipped", not bounces: no recipient said no, so nobody should be suppressed."""
        addresses = (message.sender, *message.recipients)
        if not message.recipients or any("\r" in a or "\n" in a or "<" in a or ">" in a for a in addresses):
            return Outcome("skipped", "invalid envelope address", enhanced="5.1.3")
        if not all(a.isascii() for a in addresses) and "SMTPUTF8" not in self.features:
            return Outcome("skipped", "the address needs SMTPUTF8, which the relay does not offer",
                           enhanced="5.6.7")
        limit = self.features.get("SIZE", "")
        if limit.isdigit() and 0 < int(limit) < len(message.data):
            return Outcome("skipped", f"message of {len(message.data)} bytes exceeds the relay's "
                           f"SIZE limit of {limit}", enhanced="5.3.4")
        return None

    def _mail_params(self, message: OutgoingEmail) -> str:
        params = ""
        if "SIZE" in self.features:
            params += f" SIZE={len(message.data)}"
        if "8BITMIME" in self.features and not message.data.isascii():
            params += " BODY=8BITMIME"
        if "SMTPUTF8" in self.features and not all(a.isascii() for a in (message.sender, *message.recipients)):
            params += " SMTPUTF8"
        return params


def _all_refused(refused: dict[str, Outcome]) -> Outcome:
    """Every recipient was refused: permanent only if every refusal was."""
    first = next(iter(refused.values()))
    if len(refused) == 1:
        return first
    status = "permanent" if all(o.status == "permanent" for o in refused.values()) else "transient"
    return Outcome(status, f"all recipients refused: {first.detail}", first.code, first.enhanced, refused=refused)


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
        self._idle: list[_Session] = []
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

        session: _Session | None = None
        try:
            for message in messages:
                if session is None:
                    try:
                        session = self._checkout()
                    except _Unavailable as down:
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

    def _send(self, session: _Session, message: OutgoingEmail) -> tuple[Outcome, _Session | None]:
        """One message; a pooled session found dead before the server answered is replaced once."""
        reused = session.transactions > 0 or session.last_used < time.monotonic() - 1
        try:
            return self._transact(session, message)
        except _Broken as broken:
            session.close(polite=False)
            if broken.answered or not reused:
                return _transient(_broken_detail(broken)), None
        try:
            session = self._open()
        except _Unavailable as down:
            return down.outcome, None
        try:
            return self._transact(session, message)
        except _Broken as broken:
            session.close(polite=False)
            return _transient(_broken_detail(broken)), None

    @staticmethod
    def _transact(session: _Session, message: OutgoingEmail) -> tuple[Outcome, _Session | None]:
        outcome = session.transact(message)
        if session.dead:
            session.close(polite=False)
            return outcome, None
        return outcome, session

    def _checkout(self) -> _Session:
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
            raise _Unavailable(down[1])
        return self._open()

    def _checkin(self, session: _Session) -> None:
        if session.transactions >= self.messages_per_connection or self._closed:
            session.close()
            return
        session.last_used = time.monotonic()
        with self._lock:
            self._idle.append(session)

    def _open(self) -> _Session:
        """Connect, read the greeting, EHLO, STARTTLS and AUTH as configured."""
        with self._lock:
            self.connections_opened += 1
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as error:
            raise self._failed(_transient(f"cannot connect to {self.host}:{self.port}: {error}")) from error
        session = _Session(sock, self.timeout)
        try:
            self._greet(session)
        except _Broken as broken:
            session.close(polite=False)
            raise self._failed(_transient(broken.detail)) from broken
        except _Unavailable as refused:
            session.close()
            raise self._failed(refused.outcome) from refused
        self._down = None
        return session

    def _failed(self, outcome: Outcome) -> _Unavailable:
        self._down = (time.monotonic() + _DOWN_FOR, outcome)
        return _Unavailable(outcome)

    def _greet(self, session: _Session) -> None:
        greeting = session.read()
        if greeting.code != 220:
            raise _Unavailable(_transient(f"relay greeting: {greeting}"))
        self._expect(session.ehlo(self.helo_name), "EHLO")
        encrypted = False
        if self.starttls != "off" and "STARTTLS" in session.features:
            self._expect(session.command("STARTTLS"), "STARTTLS")
            self._wrap_tls(session)
            self._expect(session.ehlo(self.helo_name), "EHLO after STARTTLS")
            encrypted = True
        elif self.starttls == "require":
            # A relay that cannot encrypt is a configuration fault: retry later rather than bounce.
            raise _Unavailable(_transient("the relay does not offer STARTTLS and TLS is required"))
        if self.username is not None:
            if not encrypted and self.host not in _LOOPBACK:
                # Someone between here and the relay could have stripped STARTTLS to read the password.
                raise _Unavailable(_transient("refusing to send relay credentials without TLS"))
            self._authenticate(session)

    def _wrap_tls(self, session: _Session) -> None:
        try:
            session.reader.close()
            session.sock = self._tls_context.wrap_socket(session.sock, server_hostname=self.host)
        except (OSError, ssl.SSLError) as error:
            raise _Unavailable(_transient(f"TLS handshake with the relay failed: {error}")) from error
        session.reader = session.sock.makefile("rb")

    def _authenticate(self, session: _Session) -> None:
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
            raise _Unavailable(_transient(f"the relay offers no AUTH mechanism Pinfold speaks ({mechanisms})"))
        if reply.code != 235:
            log.warning("SMTP relay %s refused the credentials of user %s: %s", self.name, self.username, reply)
            raise _Unavailable(_transient(f"relay authentication failed: {reply}"))

    @staticmethod
    def _expect(reply: Reply, step: str) -> None:
        if reply.code >= 300:
            raise _Unavailable(_transient(f"relay refused {step}: {reply}"))


def _broken_detail(broken: _Broken) -> str:
    if broken.ambiguous:
        return f"{broken.detail} (after the message data: the relay may have queued it)"
    return broken.detail


def _default_tls_context(mode: TlsMode) -> ssl.SSLContext:
    """Required TLS verifies the relay's certificate; opportunistic TLS encrypts without verifying."""
    context = ssl.create_default_context()
    if mode != "require":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
