"""What a channel plugs into the sending pipeline, and what its adapters report.

An adapter delivers and reports; it never retries on its own schedule, suppresses, counts quota or
emits events. Those are the channel's decisions, made from the `Outcome` it gets back, and written
by the pipeline in the transaction it opens for them (sending/worker.py).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

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


# Told (position in the batch, outcome) as soon as a message's outcome is known, so the pipeline can
# write it down while the rest of the batch is still on its way (it may be called from any thread).
# Answering False asks the adapter to try no more of the batch: the pipeline can no longer record
# outcomes (it lost its lease, or its database), and a message not tried is one not sent twice.
Acknowledged = Callable[[int, Outcome], bool | None]


class Held(Protocol):
    """A claimed message as the pipeline sees it: its id is what the lease holds; `taken_over` says
    it was claimed from a worker whose lease ran out (the pipeline logs how many)."""

    @property
    def id(self) -> str: ...

    @property
    def taken_over(self) -> bool: ...


M = TypeVar("M", bound=Held)


class Channel(Protocol[M]):
    """A channel's half of a sending pass, in the order the pipeline calls it.

    Its own queue: `claim`, `renew`, `still_held` and `finish`, with the lease's expiry as the
    fencing token (a message is held while it is claimed with exactly that expiry). Its steps:
    `gate`, `compose`, `routes` and `deliver`, then `decide` for each group of outcomes. Every
    method that takes `conn` runs in a transaction the pipeline opened; `decide` and `finish` share
    one with the group's event records.
    """

    name: str  # what the log calls it

    def due(self, conn, *, now: float) -> bool:
        """Whether any message is due at `now`: a read, so an idle worker asks without a write
        transaction (on SQLite, without queueing behind the one writer)."""
        ...

    def claim(self, conn, *, now: float, until: float) -> list[M]:
        """Up to one pass's worth of messages due at `now`, held until `until`; oldest first."""
        ...

    def renew(self, conn, ids: list[str], *, held_until: float, until: float) -> int:
        """Move the hold on those of `ids` still held until `held_until` to `until`; how many were."""
        ...

    def still_held(self, conn, ids: list[str], *, held_until: float) -> set[str]:
        """Which of `ids` are still held under the lease that runs out at `held_until`."""
        ...

    def gate(self, conn, claimed: list[M]) -> list[M]:
        """Look up what the messages need and mark those that must not go (suppressed, opted out,
        unsubscribed, an inactive device); returns the others, in order."""
        ...

    def compose(self, passed: list[M]) -> list[M]:
        """Build each message for its adapter; returns those built, in order. One that cannot be
        built is marked so, and is decided with those the gate held back."""
        ...

    def routes(self, ready: list[M]) -> Mapping[Hashable, list[M]]:
        """The built messages grouped by the adapter that delivers them (relay pool, credentials)."""
        ...

    def deliver(self, route: Hashable, messages: list[M], acknowledged: Callable[[M], bool]) -> None:
        """Deliver one route's messages; as each outcome is known, keep it on the message and pass
        the message to `acknowledged`. Its answer False means: try no more of them."""
        ...

    def decide(self, conn, group: list[M], *, now: float) -> tuple[list, list[dict]]:
        """What the outcomes mean (next state, retry, suppression, deactivation): the rows for
        `finish`, and the group's event records for the outbox. Side writes go into `conn`. Each row
        names its `status` and the sending `account`, which the messages metric counts."""
        ...

    def finish(self, conn, results: list, *, held_until: float) -> int:
        """Write the results of the messages still held until `held_until`; how many were."""
        ...

    def after_pass(self) -> None:
        """The pass's outcomes are committed: record reports its adapters gave meanwhile."""
        ...

    def close(self) -> None:
        """The pipeline has stopped: let go of threads and connections."""
        ...
