"""Identifiers and timestamps in the formats AWS uses, so clients that parse them keep working."""

from __future__ import annotations

import hashlib
import os
import secrets
import string
import threading
import time
import uuid
from datetime import UTC, datetime

_UPPER_ALNUM = string.ascii_uppercase + "234567"
_LOWER_ALNUM = string.ascii_lowercase + string.digits


class _Randomness:
    """The operating system's random bytes, read 4 KiB at a time for the ids made by the thousand.

    `os.urandom` lets the interpreter lock go for its system call, and in a busy process a thread that
    lets it go waits its turn to take it back: a campaign slice making 500 ids, holding SQLite's one
    writer, was seen waiting there more than anywhere but SQLite itself. A forked child reads its own
    bytes: sharing the parent's rest would repeat its ids."""

    SIZE = 4096

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._bytes, self._at = b"", 0

    def take(self, n: int) -> bytes:
        with self._lock:
            if self._at + n > len(self._bytes):
                self._bytes, self._at = os.urandom(self.SIZE), 0
            self._at += n
            return self._bytes[self._at - n:self._at]


_RANDOM = _Randomness()


def new_uuid() -> uuid.UUID:
    """A random (version 4) UUID."""
    return uuid.UUID(bytes=_RANDOM.take(16), version=4)


def _pick(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def new_account_id() -> str:
    return str(secrets.randbelow(9 * 10**11) + 10**11)


def new_organization_id() -> str:
    return "o-" + _pick(_LOWER_ALNUM, 10)


def new_project_id() -> str:
    return new_uuid().hex


def new_principal_id() -> str:
    return "AIDA" + _pick(_UPPER_ALNUM, 17)


def new_access_key_id() -> str:
    return "AKIA" + _pick(_UPPER_ALNUM, 16)


def new_secret_access_key() -> str:
    return secrets.token_urlsafe(30)[:40]


def new_request_id() -> str:
    return str(new_uuid())


def new_event_id() -> str:
    return str(new_uuid())


def cohort_id(endpoint_id: str) -> str:
    """Pinpoint's CohortId: a stable bucket 0-99 derived from the endpoint id."""
    digest = hashlib.sha256(endpoint_id.encode()).digest()
    return str(int.from_bytes(digest[:8], "big") % 100)


def iso_now() -> str:
    """UTC now as Pinpoint writes dates: 2019-04-03T18:12:35.331Z."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def new_message_id() -> str:
    """An email message id in SES's shape: hex time, then random groups, all [0-9a-z-]."""
    return f"{int(time.time() * 1000):016x}-{new_uuid()}-000000"
