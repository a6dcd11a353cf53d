"""The built-in carrier simulator: the default SMS adapter. It keeps each text it is given as a JSON
file under `<directory>/<UTC date>/<message id>.json` (a text delivered again after a crash is kept
beside the first as `<message id>.2.json`) and answers End User Messaging's simulator destination
numbers as AWS documents them: the success numbers deliver, the failure numbers fail. Any other
destination is delivered (there is no real carrier to ask).

Reading what it kept (`list_texts`, `read_text`) needs the files only, never the database, so
`pinfold sms list|show` works while the server runs or is stopped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from pinfold.core import dayfiles
from pinfold.sending.channel import Acknowledged, Outcome
from pinfold.sms.adapters.base import OutgoingText
from pinfold.sms.rules import simulator

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
        content = orjson.dumps({
            "message_id": text.message_id, "destination": text.destination, "origination": text.origination,
            "body": text.body, "parts": list(text.parts), "encoding": text.encoding,
            "message_type": text.message_type, "country": text.country,
            "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "outcome": status,
        }, option=orjson.OPT_INDENT_2)
        return dayfiles.keep(self.directory, text.message_id, content, now)


def list_texts(directory: Path, *, destination: str | None = None, limit: int = dayfiles.DEFAULT_LIMIT,
               next_token: str | None = None) -> tuple[list[dict], str | None]:
    """The kept texts, newest first (by file time, then name), and the next page's token, if any."""
    return dayfiles.kept_page(directory, wanted=lambda text: not destination or text.get("destination") == destination,
                              limit=limit, next_token=next_token)


def read_text(directory: Path, message: str) -> dict:
    """One kept text by its id (a message id, or `<message id>.<n>` for a repeated delivery)."""
    return dayfiles.kept_one(directory, message, f"No text message {message} in the carrier simulator")
