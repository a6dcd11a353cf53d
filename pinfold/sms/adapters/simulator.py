"""The built-in carrier simulator: the default SMS adapter. It keeps each text it is given as a JSON
file under `<directory>/<UTC date>/<message id>.json` (a text delivered again after a crash is kept
beside the first as `<message id>.2.json`) and answers End User Messaging's simulator destination
numbers as AWS documents them: the success numbers deliver, the failure numbers fail. Any other
destination is delivered (there is no real carrier to ask).

Reading what it kept (`list_texts`, `read_text`) needs the files only, never the database, so
`pinfold sms list|show` works while the server runs or is stopped.
"""

from __future__ import annotations

import itertools
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import orjson

from pinfold.core import dayfiles
from pinfold.core.errors import InvalidInput, NotFound
from pinfold.core.paging import decode_token, encode_token
from pinfold.sending.channel import Acknowledged, Outcome
from pinfold.sms.adapters.base import OutgoingText
from pinfold.sms.rules import simulator

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
_STEM = re.compile(r"[A-Za-z0-9_-]{1,64}(\.[0-9]{1,6})?")
_FILE = re.compile(_STEM.pattern + r"\.json")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_DELIVERED = "DELIVERED"
_FAILED = "UNREACHABLE"


class CarrierSimulator:
    """Keeps texts as files and answers as a carrier would, at once."""

    name = "simulator"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def deliver(self, texts: list[OutgoingText], acknowledged: Acknowledged | None = None) -> list[Outcome]:
        outcomes = []
        for index, text in enumerate(texts):
            outcome = self._deliver_one(text)
            outcomes.append(outcome)
            if acknowledged is not None and acknowledged(index, outcome) is False:
                break
        return outcomes

    def close(self) -> None:
        """Nothing to release: every text is written and closed as it is delivered."""

    def _deliver_one(self, text: OutgoingText) -> Outcome:
        failing = simulator.role_of(text.destination) == "failure"
        status = _FAILED if failing else _DELIVERED
        stored = self._store(text, status)
        if failing:
            return Outcome("permanent", f"the destination is unreachable (simulator failure number); kept as {stored}",
                           enhanced=status, remote_id=text.message_id)
        return Outcome("delivered", f"delivered by the carrier simulator; kept as {stored}", enhanced=status,
                       remote_id=text.message_id)

    def _store(self, text: OutgoingText, status: str) -> str:
        now = datetime.now(UTC)
        folder = self.directory / now.strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        content = orjson.dumps({
            "message_id": text.message_id, "destination": text.destination, "origination": text.origination,
            "body": text.body, "parts": list(text.parts), "encoding": text.encoding,
            "message_type": text.message_type, "country": text.country,
            "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "outcome": status,
        }, option=orjson.OPT_INDENT_2)
        stem = _UNSAFE.sub("_", text.message_id)[:64]
        for copy in itertools.count(1):
            name = f"{stem}.json" if copy == 1 else f"{stem}.{copy}.json"
            try:  # never replaces: a text delivered twice is kept twice, so every delivery can be counted
                fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as out:
                out.write(content)
            return f"{folder.name}/{name}"
        raise AssertionError("unreachable")


def list_texts(directory: Path, *, destination: str | None = None, limit: int = DEFAULT_LIMIT,
               next_token: str | None = None) -> tuple[list[dict], str | None]:
    """The kept texts, newest first (by file time, then name), and the next page's token, if any."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    older_than = _position(next_token)
    kept = [item for item in _kept(Path(directory)) if older_than is None or item[:2] < older_than]
    kept.sort(reverse=True)
    shown: list[tuple[tuple, dict]] = []
    for item in kept:
        text = _load(item[2])
        if text is None or (destination and text.get("destination") != destination):
            continue
        shown.append((item, {**text, "id": item[1]}))
        if len(shown) > limit:  # one more than shown: an exactly full last page carries no token
            last = shown[limit - 1][0]
            return [text for _, text in shown[:limit]], encode_token((str(last[0]), last[1]))
    return [text for _, text in shown], None


def read_text(directory: Path, message: str) -> dict:
    """One kept text by its id (a message id, or `<message id>.<n>` for a repeated delivery)."""
    if _STEM.fullmatch(message) is None:
        raise InvalidInput(f"{message[:80]!r} is not a message id", field="id")
    for _mtime, stem, path in sorted(_kept(Path(directory)), reverse=True):
        if stem == message:
            text = _load(path)
            if text is not None:
                return {**text, "id": stem}
    raise NotFound(f"No text message {message} in the carrier simulator")


def _kept(directory: Path) -> list[tuple[int, str, Path]]:
    """(modification time in ns, id, path) of every kept text."""
    return [(item.mtime_ns, item.name.removesuffix(".json"), item.path) for item in dayfiles.kept(directory, _FILE)]


def _load(path: Path) -> dict | None:
    """A kept text, or None when it is gone or still being written."""
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def _position(token: str | None) -> tuple[int, str] | None:
    position = decode_token(token)
    if position is None:
        return None
    try:
        return int(position[0]), position[1]
    except ValueError:
        raise InvalidInput("The next token is not one this listing gave", field="next_token") from None
