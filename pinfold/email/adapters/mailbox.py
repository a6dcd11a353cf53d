"""The built-in mailbox: the default email adapter. It stores delivered mail as .eml files and
answers the SES mailbox-simulator addresses (success@, bounce@, ooto@, complaint@, suppressionlist@
at simulator.amazonses.com, also with a +label) the way SES's simulator does.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pinfold.email.adapters.base import Feedback, OutgoingEmail
from pinfold.sending.channel import Acknowledged, Outcome

SIMULATOR_DOMAIN = "simulator.amazonses.com"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_BOUNCE = Outcome("permanent", "550 5.1.1 user unknown (mailbox simulator)", 550, "5.1.1")
_SUPPRESSED = Outcome("permanent", "550 5.1.1 the address is on the suppression list (mailbox simulator)",
                      550, "5.1.1")


def simulator_role(address: str) -> str | None:
    """success, bounce, ooto, complaint, suppressionlist (or another local part) for a simulator
    address, None for any other address."""
    local, _, domain = address.strip().rpartition("@")
    if domain.lower() != SIMULATOR_DOMAIN or not local:
        return None
    return local.split("+", 1)[0].lower()


class Mailbox:
    """Records mail under `directory/<UTC date>/<message id>.eml`; simulates bounces and complaints.
    A message delivered again (after a crash) is kept beside the first as `<message id>.2.eml`, and
    so on, so every delivery can be counted.

    `on_feedback` is called at the end of `deliver`, before it returns, for each simulated complaint.
    """

    name = "mailbox"

    def __init__(self, directory: Path, on_feedback: Callable[[Feedback], None] | None = None) -> None:
        self.directory = Path(directory)
        self.on_feedback = on_feedback
        self._made: set[str] = set()

    def deliver(self, messages: list[OutgoingEmail], acknowledged: Acknowledged | None = None) -> list[Outcome]:
        """One outcome per message tried; complaints are reported after every message has been stored."""
        outcomes, complaints = [], []
        for index, message in enumerate(messages):
            outcome, complained = self._deliver_one(message)
            outcomes.append(outcome)
            if complained:
                complaints.append(Feedback(
                    kind="complaint", recipients=tuple(complained), message_id=message.message_id,
                    detail="simulated complaint from the mailbox simulator", feedback_type="abuse",
                    reporting_mta=SIMULATOR_DOMAIN))
            if acknowledged is not None and acknowledged(index, outcome) is False:
                break
        for feedback in complaints:
            if self.on_feedback is not None:
                self.on_feedback(feedback)
        return outcomes

    def close(self) -> None:
        """Nothing to release: every message is written and closed as it is delivered."""

    def _deliver_one(self, message: OutgoingEmail) -> tuple[Outcome, list[str]]:
        refused: dict[str, Outcome] = {}
        accepted: list[str] = []
        for recipient in message.recipients:
            role = simulator_role(recipient)
            if role == "bounce":
                refused[recipient] = _BOUNCE
            elif role == "suppressionlist":
                refused[recipient] = _SUPPRESSED
            else:
                accepted.append(recipient)
        if not accepted:
            if len(refused) == 1:
                return next(iter(refused.values())), []
            return Outcome("permanent", "all recipients refused (mailbox simulator)", 550, "5.1.1",
                           refused=refused), []
        stored = self._store(message, accepted)
        outcome = Outcome("delivered", f"250 2.0.0 stored as {stored}", 250, "2.0.0", stored,
                          refused if len(message.recipients) > 1 else {})
        return outcome, [r for r in accepted if simulator_role(r) == "complaint"]

    def _store(self, message: OutgoingEmail, recipients: list[str]) -> str:
        """Write the .eml (envelope in Return-Path / X-Pinfold-Envelope-To) and return its relative path."""
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        folder = self.directory / day
        if day not in self._made:  # racing threads both run mkdir, which exist_ok makes harmless
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(day)
        stem = _UNSAFE.sub("_", message.message_id)
        envelope = f"Return-Path: <{message.sender}>\r\nX-Pinfold-Envelope-To: {', '.join(recipients)}\r\n"
        content = envelope.encode() + message.data
        partial = folder / f".{stem}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(partial, "wb") as out:
            out.write(content)
        try:
            for copy in itertools.count(1):
                name = f"{stem}.eml" if copy == 1 else f"{stem}.{copy}.eml"
                try:  # a link, unlike a rename, never replaces: readers never see half a message or lose one
                    os.link(partial, folder / name)
                    return f"{day}/{name}"
                except FileExistsError:
                    continue
                except OSError as error:
                    if error.errno not in _NO_HARD_LINKS:
                        raise
                    if _claim(folder / name, content):
                        return f"{day}/{name}"
        finally:
            partial.unlink()


# What os.link answers on a filesystem without hard links (some network and FUSE mounts).
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV}


def _claim(path: Path, content: bytes) -> bool:
    """Create `path` only if no copy has that name yet, then fill it (a reader may see it half written
    for a moment, which is all a filesystem without hard links allows); False when the name is taken."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(content)
    return True
