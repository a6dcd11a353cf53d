"""One SMTP connection's conversation with a relay: replies, the DATA payload, and a session that
greets, encrypts, authenticates and sends messages pipelined (RFC 2920). The pool that shares
sessions among callers is smtp.py's SmtpRelay.
"""

from __future__ import annotations

import re
import socket
import time
from typing import NamedTuple

from pinfold.email.adapters.base import OutgoingEmail
from pinfold.sending.channel import Outcome

_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")
_QUEUED_AS = re.compile(r"queued as\s+<?([^\s>]+)", re.IGNORECASE)
_OK_ID = re.compile(r"^(?:2\.\d{1,3}\.\d{1,3}\s+)?ok\s+<?([^\s>]+)>?$", re.IGNORECASE)  # SES SMTP: "250 Ok <id>"
_BARE_EOL = re.compile(rb"\r\n|\r|\n")
# Replies to MAIL FROM that say the relay wants (other) credentials: the relay's configuration is at
# fault, not the recipient, so they must not become hard bounces that suppress the address.
_AUTH_CODES = frozenset({530, 535, 538})


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


def transient(detail: str) -> Outcome:
    return Outcome("transient", detail)


class Broken(Exception):
    """The connection failed. `answered`: the server had replied within this message's transaction
    (so resending elsewhere is not a blind retry); `ambiguous`: the data was sent but not acknowledged."""

    def __init__(self, detail: str, *, answered: bool, ambiguous: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.answered = answered
        self.ambiguous = ambiguous


class Unavailable(Exception):
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


class Session:
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
        """Read one (possibly multi-line) reply; a closed or silent connection raises Broken."""
        lines = []
        try:
            while True:
                line = self.reader.readline(4096)
                if len(line) < 4 or not line[:3].isdigit():
                    raise Broken(f"connection lost (read {line[:80]!r})", answered=answered, ambiguous=ambiguous)
                lines.append(line[4:].strip().decode("utf-8", "replace"))
                if line[3:4] != b"-":
                    return Reply(int(line[:3]), tuple(lines))
        except (OSError, ValueError) as error:  # ValueError: reading a file closed under us
            raise Broken(f"connection lost: {error}", answered=answered, ambiguous=ambiguous) from error

    def write(self, payload: bytes, *, answered: bool = False) -> None:
        try:
            self.sock.sendall(payload)
        except OSError as error:
            raise Broken(f"connection lost: {error}", answered=answered) from error

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
            return self._abort(data, all_refused(refused))
        if data is None or data.code != 354:
            failed = data.outcome() if data and data.code >= 400 else transient(f"unexpected reply to DATA: {data}")
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
            raise Broken(str(reply), answered=False)
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
        except Broken:
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
        except Broken:
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


def all_refused(refused: dict[str, Outcome]) -> Outcome:
    """Every recipient was refused: permanent only if every refusal was."""
    first = next(iter(refused.values()))
    if len(refused) == 1:
        return first
    status = "permanent" if all(o.status == "permanent" for o in refused.values()) else "transient"
    return Outcome(status, f"all recipients refused: {first.detail}", first.code, first.enhanced, refused=refused)


def broken_detail(broken: Broken) -> str:
    if broken.ambiguous:
        return f"{broken.detail} (after the message data: the relay may have queued it)"
    return broken.detail
