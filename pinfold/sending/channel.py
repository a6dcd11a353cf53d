"""What every delivery adapter accepts and returns.

An adapter delivers and reports; it never retries on its own schedule, suppresses, counts quota or
emits events. Those are the sending pipeline's decisions, made from the `Outcome` it gets back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

Status = Literal["delivered", "skipped", "permanent", "transient"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one message (for email: one envelope, possibly several recipients)."""

    status: Status
    detail: str = ""  # the remote reply or the reason, for people and for event records
    code: int | None = None  # the remote status (an SMTP reply code, an HTTP status)
    enhanced: str | None = None  # an RFC 3463 enhanced status such as "5.1.1", when the remote gave one
    remote_id: str | None = None  # the id the remote side gave the message, if any
    # Per-recipient results when the remote refused some recipients of an envelope but not all.
    refused: dict[str, Outcome] = field(default_factory=dict)


@dataclass(frozen=True)
class OutgoingEmail:
    """A rendered, signed message and its envelope."""

    message_id: str  # Pinfold's id for the message (the SES MessageId)
    sender: str  # envelope MAIL FROM (the return path)
    recipients: tuple[str, ...]  # envelope RCPT TO
    data: bytes  # the complete RFC 5322 message, CRLF line endings


# Told (position in the batch, outcome) as soon as a message's outcome is known, so the pipeline can
# write it down while the rest of the batch is still on its way (it may be called from any thread).
# Answering False asks the adapter to try no more of the batch: the pipeline can no longer record
# outcomes (it lost its lease, or its database), and a message not tried is one not sent twice.
Acknowledged = Callable[[int, Outcome], bool | None]


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
