"""The plan step every channel shares: one message request's audience becomes a result per recipient
and queued messages, each channel's recipients queued together.

SendMessages and SendUsersMessages plan with it today; campaigns and journeys will hand it the
endpoints of a segment version. The plan applies what holds on every channel, in Pinpoint's order
and words: the recipient's channel must be one that sends, an endpoint that opted out or is
inactive gets nothing, and an address gets one message per request. A channel's `Planner` adds the
rest: whether it can send this request at all (its sender, its content), whether it may reach this
recipient (suppression, sandbox), and queuing its recipients against its quota when the plan commits.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pinfold.core.errors import PinfoldError, Throttled

QUEUED = {"DeliveryStatus": "SUCCESSFUL", "StatusCode": 200, "StatusMessage": "Queued for delivery"}


def failure(message: str, status: str = "PERMANENT_FAILURE", code: int = 400) -> dict:
    """A recipient's result when it gets no message, in Pinpoint's MessageResult shape."""
    return {"DeliveryStatus": status, "StatusCode": code, "StatusMessage": message}


@dataclass
class Recipient:
    """One recipient as a channel queues it: where it goes and what the message is rendered with."""

    address: str
    data: dict
    endpoint_id: str | None = None  # None for a bare address
    tenant_id: str | None = None  # the endpoint's tenant in a shared project
    config: dict = field(default_factory=dict)  # its AddressConfiguration or EndpointSendConfiguration
    due_at: float | None = None  # epoch seconds before which its message may not go (None: at once)


class Planner(Protocol):
    """A channel's half of planning one request."""

    substitutions: dict  # the request's Substitutions for this channel, under each recipient's own

    def refusal(self) -> str | None:
        """Why this channel sends nothing for the request (no sender, the channel is off); None if it
        can. Raises InvalidInput when the request itself is wrong for the channel (no content)."""
        ...

    def check(self, recipient: Recipient) -> str | dict | None:
        """Why this recipient may not get the message (suppressed, outside the sandbox), as the message
        of a PERMANENT_FAILURE or as a whole result (OPT_OUT); None if it may."""
        ...

    def queue(self, recipients: list[Recipient]) -> list[str]:
        """Count the recipients against the channel's quota and queue one message each, returning
        their message ids in order; or raise (Throttled, or why none may go) and queue none."""
        ...


class Plan:
    """The recipients of one request, checked one by one as they are added, then queued by `commit()`.
    `results` maps each recipient's key to its MessageResult."""

    def __init__(self, planners: Mapping[str, Planner]) -> None:
        self.planners = planners  # by ChannelType
        self.results: dict[Hashable, dict] = {}
        self._queued: dict[str, list[tuple[Hashable, Recipient]]] = {}
        self._addresses: set[str] = set()

    def add_address(self, key: Hashable, channel_type: str | None, recipient: Recipient) -> None:
        """A bare address (SendMessages' Addresses)."""
        if channel_type not in self.planners:
            self.results[key] = failure(f"The {channel_type or 'unknown'} channel is not supported yet")
            return
        self._check_and_queue(key, channel_type, recipient, shown=None)

    def add_endpoint(self, key: Hashable, doc: dict, recipient: Recipient) -> None:
        """An endpoint's document; its results carry its Address."""
        channel_type, address = doc.get("ChannelType"), doc.get("Address")
        if channel_type not in self.planners or not address:
            kinds = "/".join(kind.lower() for kind in self.planners)
            self.results[key] = {**failure(f"The endpoint is not an {kinds} endpoint"), "Address": address}
        elif doc.get("OptOut") == "ALL":
            self.results[key] = {**failure("The endpoint has opted out", "OPT_OUT", 200), "Address": address}
        elif doc.get("EndpointStatus") == "INACTIVE":
            self.results[key] = {**failure("The endpoint is inactive"), "Address": address}
        else:
            self._check_and_queue(key, channel_type, recipient, shown=address)

    def _check_and_queue(self, key: Hashable, channel_type: str, recipient: Recipient, shown: str | None) -> None:
        planner = self.planners[channel_type]
        refusal = planner.refusal()
        if refusal:
            self.results[key] = failure(refusal)
            return
        address = recipient.address.lower()
        if address in self._addresses:  # one message per address and request, as Pinpoint does
            self.results[key] = {**failure("The address is already a recipient of this request", "DUPLICATE"),
                                 **({"Address": shown} if shown is not None else {})}
            return
        problem = planner.check(recipient)
        if problem:
            result = problem if isinstance(problem, dict) else failure(problem)
            self.results[key] = {**result, **({"Address": shown} if shown is not None else {})}
            return
        self._queued.setdefault(channel_type, []).append((key, recipient))
        self._addresses.add(address)

    def commit(self) -> None:
        """Queue each channel's recipients together; a channel out of quota fails only its own."""
        for channel_type, queued in self._queued.items():
            recipients = [recipient for _, recipient in queued]
            try:
                message_ids = self.planners[channel_type].queue(recipients)
            except Throttled as error:
                for key, _ in queued:
                    self.results[key] = failure(error.message, "THROTTLED", 429)
                continue
            except PinfoldError as error:  # the daily quota, paused sending
                for key, _ in queued:
                    self.results[key] = failure(error.message)
                continue
            for (key, recipient), message_id in zip(queued, message_ids, strict=True):
                result = {**QUEUED, "MessageId": message_id}
                self.results[key] = result if recipient.endpoint_id is None else {**result,
                                                                                  "Address": recipient.address}
