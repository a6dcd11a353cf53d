"""What every email adapter accepts and reports: signed messages with their envelopes in, an Outcome
per message out (sending/channel.py), and bounces and complaints that come back later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from pinfold.sending.channel import Acknowledged, Outcome


@dataclass(frozen=True)
class OutgoingEmail:
    """A rendered, signed message and its envelope."""

    message_id: str  # Pinfold's id for the message (the SES MessageId)
    sender: str  # envelope MAIL FROM (the return path)
    recipients: tuple[str, ...]  # envelope RCPT TO
    data: bytes  # the complete RFC 5322 message, CRLF line endings


class EmailAdapter(Protocol):
    """Delivers batches of email; `deliver` returns one Outcome per message tried, in order, and before
    it returns has passed each one to `acknowledged` (when given) as it became known. Every message is
    tried unless `acknowledged` answers False."""

    name: str

    def deliver(self, messages: list[OutgoingEmail], acknowledged: Acknowledged | None = None) -> list[Outcome]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Feedback:
    """A bounce or complaint that came back about a message Pinfold sent."""

    kind: Literal["bounce", "complaint"]
    recipients: tuple[str, ...]
    message_id: str | None  # Pinfold's message id of the original (from X-Pinfold-Message-Id)
    bounce_type: Literal["Permanent", "Transient"] | None = None
    status: str | None = None  # enhanced status, e.g. "5.1.1"
    detail: str = ""  # diagnostic code or feedback type text
    feedback_type: str | None = None  # ARF Feedback-Type (abuse, fraud, ...)
    reporting_mta: str | None = None
