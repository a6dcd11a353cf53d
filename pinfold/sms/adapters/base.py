"""What every SMS adapter (a carrier gateway) accepts and reports: texts ready to send in, one
`Outcome` per text out (sending/channel.py).

An SMS outcome's `enhanced` member carries the carrier's status word in the vocabulary of Pinpoint's
`record_status` (DELIVERED, SUCCESSFUL, PENDING, UNREACHABLE, CARRIER_UNREACHABLE, INVALID, BLOCKED,
CARRIER_BLOCKED, SPAM, INVALID_MESSAGE, UNKNOWN): the channel turns it into event records. A gateway
that reports delivery later (Kannel's delivery reports) answers SUCCESSFUL now, with the `remote_id`
the report will name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pinfold.sending.channel import Acknowledged, Outcome


@dataclass(frozen=True)
class OutgoingText:
    """One text message as the carrier gets it."""

    message_id: str  # Pinfold's id (the SendTextMessage MessageId)
    destination: str  # E.164
    origination: str  # the number or sender id the recipient sees
    body: str
    parts: tuple[str, ...]  # the body split as it is carried
    encoding: str  # "GSM" or "Unicode" (UCS-2)
    message_type: str  # TRANSACTIONAL or PROMOTIONAL
    country: str  # the destination's ISO country code


class SmsAdapter(Protocol):
    """Delivers batches of texts; `deliver` returns one Outcome per text tried, in order, and before it
    returns has passed each one to `acknowledged` (when given) as it became known. Every text is tried
    unless `acknowledged` answers False."""

    name: str

    def deliver(self, texts: list[OutgoingText], acknowledged: Acknowledged | None = None) -> list[Outcome]: ...

    def close(self) -> None: ...
