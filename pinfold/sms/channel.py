"""SMS's half of the sending pipeline (sending/channel.py): the `sms_messages` queue, the gate (the
TimeToLive, and the opt-out list checked again at send time, since a STOP may have come in since the
send was accepted), the texts split into parts, and one carrier adapter (the built-in simulator; a
Kannel route joins it later). What the outcomes mean is decided in sms/outcomes.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pinfold.context import Context
from pinfold.sending import queue
from pinfold.sending.channel import Outcome
from pinfold.sms import outcomes
from pinfold.sms.adapters.base import OutgoingText, SmsAdapter
from pinfold.sms.adapters.simulator import CarrierSimulator
from pinfold.sms.rules import encoding
from pinfold.sms.store import messages as store
from pinfold.sms.store import opt_outs

CLAIM_LIMIT = 500  # messages a pass claims at once
SIMULATOR_ROUTE = "simulator"


@dataclass(eq=False)
class Claimed(queue.Claimed):
    """A claimed text; `held` is the record status it is held back with (TTL_EXPIRED, OPTED_OUT)."""

    text: OutgoingText | None = None


class SmsChannel(queue.StoreQueue):
    """The SMS channel as the pipeline drives it, claiming from `lanes` (in that order); `adapter`
    defaults to the carrier simulator under `<data dir>/sms`. An adapter it was given is its giver's
    to close (the lanes' channels share one: Kannel's connections are few, and it takes texts from
    each caller in turn)."""

    name = "sms"

    def __init__(self, ctx: Context, adapter: SmsAdapter | None = None,
                 lanes: tuple[int, ...] = queue.LANES) -> None:
        self.ctx = ctx
        self.lanes = lanes
        self._owns_adapter = adapter is None
        self.adapter = adapter or CarrierSimulator(ctx.settings.data_dir / "sms")

    # The queue (sending/queue.StoreQueue): sms_messages, with the lease's expiry as the sending messages' due_at.
    queue_store, claim_limit = store, CLAIM_LIMIT

    def claimed(self, row: dict, now: float) -> Claimed:
        return Claimed(row, now)

    # The steps.

    def gate(self, conn, claimed: list[Claimed]) -> list[Claimed]:
        """Hold back messages past their TimeToLive and those whose destination has opted out since
        (except keyword answers: the STOP confirmation goes to a handset that has just opted out)."""
        for item in claimed:
            if item.claimed_at > item.row["message"]["expires_at"]:
                item.held = "TTL_EXPIRED"
        by_list: dict[tuple, list[Claimed]] = {}
        for item in claimed:
            if item.held is None and not item.row["message"].get("reply"):  # a keyword's answer goes regardless
                row = item.row
                by_list.setdefault((row["account_id"], row["region"], row["message"]["opt_out_list"]), []).append(item)
        for (account_id, region, list_name), items in by_list.items():
            listed = opt_outs.opted_out(conn, account_id, region, list_name,
                                        [item.row["message"]["destination"] for item in items])
            for item in items:
                if item.row["message"]["destination"] in listed:
                    item.held = "OPTED_OUT"
        return [item for item in claimed if item.held is None]

    def compose(self, passed: list[Claimed]) -> list[Claimed]:
        for item in passed:
            message = item.row["message"]
            encoded = encoding.encode(message["body"])
            item.text = OutgoingText(message_id=item.id, destination=message["destination"],
                                     origination=message["origination"], body=message["body"], parts=encoded.parts,
                                     encoding=encoded.encoding, message_type=message["message_type"],
                                     country=message["country"])
        return passed

    def routes(self, ready: list[Claimed]) -> dict[str, list[Claimed]]:
        return {SIMULATOR_ROUTE: ready} if ready else {}

    def deliver(self, route: str, items: list[Claimed], acknowledged: Callable[[Claimed], bool]) -> None:
        def carried(index: int, outcome: Outcome) -> bool:
            item = items[index]
            item.outcome = outcome
            return acknowledged(item)

        self.adapter.deliver([item.text for item in items], carried)

    def decide(self, conn, group: list[Claimed], *, now: float) -> tuple[list[dict], list[dict]]:
        return outcomes.decide(conn, group, now=now)

    def after_pass(self) -> None:
        """Nothing waits: the simulator answers as it delivers (delivery reports come with Kannel)."""

    def close(self) -> None:
        if self._owns_adapter:
            self.adapter.close()
