"""The custom channel's half of the sending pipeline (sending/channel.py): the `custom_calls` queue, the
gate (the call's expiry, and the call rates), signing each call as it leaves, and the webhook adapter.

Calls per second are limited per account (PINFOLD_CUSTOM_CALLS_PER_SECOND) and, within it, per
tenant (PINFOLD_CUSTOM_TENANT_CALLS_PER_SECOND), so one tenant's large campaign cannot take a shared
account's whole rate or flood its receiver. Each limiter is a cell-rate limiter in the database
(sending/quota.rate_excess), so every worker of the installation counts against the same one. A call
over either rate is not sent: it goes back to the queue, due when the limiter next has room, and the
attempt does not count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from pinfold.context import Context
from pinfold.custom import keys
from pinfold.custom.adapters.webhook import OutgoingCall, WebhookGateway
from pinfold.custom.rules import signing
from pinfold.custom.store import calls as store
from pinfold.sending import queue
from pinfold.sending.channel import Outcome
from pinfold.sending.outcomes import answered, started
from pinfold.sending.quota import rate_excess

CLAIM_LIMIT = 50  # calls a pass claims at once
FIRST_RETRY_SECONDS = 10.0
WAITING = "waiting"  # held at the gate by a call rate: back to the queue, the attempt not counted


@dataclass(eq=False)
class Claimed(queue.Claimed):
    """A claimed call; `held` is (status, why) when it is not sent."""

    wait_until: float | None = None  # when a call held by the rates may go
    call: OutgoingCall | None = None


def rate_keys(row: dict) -> list[str]:
    """The limiters a call counts against: its account's, and its tenant's when it has one."""
    found = [f"account:{row['account_id']}/{row['region']}"]
    if row.get("tenant_id"):
        found.append(f"tenant:{row['tenant_id']}")
    return found


class CustomChannel(queue.StoreQueue):
    """The custom channel as the pipeline drives it, claiming from `lanes` (in that order)."""

    name = "custom"

    def __init__(self, ctx: Context, gateway: WebhookGateway, lanes: tuple[int, ...] = queue.LANES) -> None:
        self.ctx, self.gateway, self.lanes = ctx, gateway, lanes

    queue_store, claim_limit = store, CLAIM_LIMIT

    def claimed(self, row: dict, now: float) -> Claimed:
        return Claimed(row, now)

    def gate(self, conn, claimed: list[Claimed]) -> list[Claimed]:
        """Hold back calls past their expiry, then take each call's turn at its rates (in a write
        transaction of its own: the pipeline's gate reads)."""
        live = []
        for item in claimed:
            if item.claimed_at > item.row["message"]["expires_at"]:
                item.held = ("expired", "the call expired before its receiver took it")
            else:
                live.append(item)
        if live:
            with self.ctx.db.write() as writing:
                self._take_turns(writing, live, time.time())
        return [item for item in claimed if item.held is None]

    def _take_turns(self, conn, items: list[Claimed], now: float) -> None:
        settings = self.ctx.settings
        wanted = sorted({key for item in items for key in rate_keys(item.row)})
        tats = store.locked_rates(conn, wanted)
        changed = {}
        for item in items:
            owed = []
            for key in rate_keys(item.row):
                rate = settings.custom_tenant_calls_per_second if key.startswith("tenant:") \
                    else settings.custom_calls_per_second
                excess, after = rate_excess(tats[key], now, 1, rate)
                owed.append((key, excess, after))
            wait = max(excess for _, excess, _ in owed)
            if wait:
                item.held, item.wait_until = (WAITING, "over the custom channel's call rate"), now + wait
                continue
            for key, _, after in owed:
                tats[key] = changed[key] = after
        store.save_rates(conn, changed)

    def compose(self, passed: list[Claimed]) -> list[Claimed]:
        """Sign each call now, so the receiver sees the time it was sent."""
        for item in passed:
            message = item.row["message"]
            body = orjson.dumps(message["payload"])
            key = keys.signing_key(self.ctx.secrets, item.row["project_id"], message.get("signer"))
            item.call = OutgoingCall(item.id, message["url"], body, {
                signing.HEADER: signing.signature(key, int(time.time()), body), signing.CALL_ID_HEADER: item.id})
        return passed

    def routes(self, ready: list[Claimed]) -> dict[str, list[Claimed]]:
        return {"webhook": ready} if ready else {}

    def deliver(self, route: str, items: list[Claimed], acknowledged: Callable[[Claimed], bool]) -> None:
        def carried(index: int, outcome: Outcome) -> bool:
            item = items[index]
            item.outcome = outcome
            return acknowledged(item)

        self.gateway.deliver([item.call for item in items], carried)

    def decide(self, conn, group: list[Claimed], *, now: float) -> tuple[list[dict], list[dict]]:
        """Each call's result; no event records (the campaign wrote its `_campaign.send` records)."""
        return [_decide(item, now) for item in group], []

    def after_pass(self) -> None:
        """Nothing waits: receivers answer as they take a call."""

    def close(self) -> None:
        """The gateway is shared by the lanes' channels: CustomDelivery closes it."""


def _decide(item: Claimed, now: float) -> dict:
    if item.held is None:
        return answered(item.row, item.outcome, now=now, first_wait=FIRST_RETRY_SECONDS)
    status, detail = item.held
    result = {**started(item.row, now=now), "attempts": item.row["attempts"], "detail": detail}
    if status == WAITING:  # back to the queue until the rates have room; the attempt does not count
        return {**result, "status": "queued", "due_at": item.wait_until}
    return {**result, "status": status}
