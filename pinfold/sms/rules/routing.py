"""Which origination identity carries a text: whether one named by the sender may reach the
destination, and which one to choose from a pool or from the whole account when none is named.

The order is the one AWS wrote down for Pinpoint (End User Messaging publishes none of its own):
dedicated phone numbers first (short code, then 10DLC, then long code and toll-free; domestic before
international; transactional before promotional when the send names no type), then sender ids
(registered first), then the configuration set's default sender id, which AWS uses "instead of a
generic sender ID" when nothing dedicated is available. Ties go to the oldest identity, then the
smallest id, so a choice is repeatable. SIMULATOR numbers reach only the simulator destinations of
their own country, and come after real numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PHONE_NUMBER = "phone-number"
SENDER_ID = "sender-id"
DEFAULT_SENDER_ID = "default-sender-id"  # a configuration set's DefaultSenderId, not a resource
_NUMBER_RANK = {"SHORT_CODE": 0, "TEN_DLC": 1, "LONG_CODE": 2, "TOLL_FREE": 2, "SIMULATOR": 3}
# Countries whose carriers do not deliver alphanumeric sender ids (Pinfold's list, from AWS's country table).
NO_SENDER_IDS = frozenset({"US", "CA", "PR"})


@dataclass(frozen=True)
class Destination:
    number: str  # E.164
    country: str  # ISO 3166 alpha-2
    simulator: bool  # one of the simulator destination numbers


@dataclass(frozen=True)
class Identity:
    """A candidate origination identity: `name` is what the recipient sees (the number or sender id)."""

    kind: str
    id: str
    name: str
    document: dict

    @property
    def country(self) -> str | None:
        return self.document.get("IsoCountryCode")


def problem(identity: Identity, destination: Destination) -> str | None:
    """Why this identity cannot send to the destination (a reason AWS's errors name), or None."""
    doc = identity.document
    if identity.kind == PHONE_NUMBER:
        if doc.get("Status") != "ACTIVE":
            return "RESOURCE_NOT_ACTIVE"
        if "SMS" not in (doc.get("NumberCapabilities") or []):
            return "CHANNEL_NOT_ENABLED"
        if doc.get("NumberType") == "SIMULATOR":
            same = destination.simulator and identity.country == destination.country
            return None if same else "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY"
        if identity.country != destination.country and not doc.get("InternationalSendingEnabled"):
            return "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY"
        return None
    if destination.country in NO_SENDER_IDS:
        return "SENDER_ID_NOT_SUPPORTED"
    if identity.kind == SENDER_ID and identity.country != destination.country:
        return "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY"
    return None


def carries(identity: Identity, message_type: str | None) -> bool:
    """Whether the identity is meant for this type of message (any, when the send names none)."""
    if message_type is None:
        return True
    if identity.kind == PHONE_NUMBER:
        return identity.document.get("MessageType") == message_type
    if identity.kind == SENDER_ID:
        types = identity.document.get("MessageTypes") or []
        return not types or message_type in types
    return True


def choose(candidates: Iterable[Identity], destination: Destination, *, message_type: str | None = None,
           default_sender_id: str | None = None) -> Identity | None:
    """The identity to send from among `candidates` (a pool's members or the account's identities),
    or None when none can carry this message to this destination."""
    usable = [c for c in candidates if problem(c, destination) is None and carries(c, message_type)]
    numbers = sorted((c for c in usable if c.kind == PHONE_NUMBER), key=lambda c: _number_order(c, destination))
    if numbers:
        return numbers[0]
    senders = sorted((c for c in usable if c.kind == SENDER_ID),
                     key=lambda c: (not c.document.get("Registered"), _age(c)))
    if senders:
        return senders[0]
    if default_sender_id:
        fallback = Identity(DEFAULT_SENDER_ID, default_sender_id, default_sender_id,
                            {"IsoCountryCode": destination.country})
        if problem(fallback, destination) is None:
            return fallback
    return None


def _number_order(identity: Identity, destination: Destination) -> tuple:
    doc = identity.document
    return (identity.country != destination.country, _NUMBER_RANK.get(doc.get("NumberType"), 4),
            doc.get("MessageType") != "TRANSACTIONAL", _age(identity))


def _age(identity: Identity) -> tuple:
    return identity.document.get("CreatedTimestamp") or 0.0, identity.id
