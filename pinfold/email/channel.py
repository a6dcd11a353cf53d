"""Email's half of the sending pipeline (sending/channel.py): the queue of SES messages, the
suppression and list-management gates, MIME composition with DKIM, one relay per sending pool, and
the decisions about outcomes (email/outcomes.py).

A message's batch (what the request asked for) is looked up once per pass with what the account,
the SES tenant and the configuration set say about suppression, retries and the sending pool, and
kept: a bulk send reads them once, not once per chunk. Reports the mailbox simulator gives while it
delivers (complaints) wait until the pass's outcomes are committed, so the message they name exists.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pinfold.context import Context
from pinfold.core.errors import PinfoldError
from pinfold.email import compose as composing
from pinfold.email import feedback, outcomes
from pinfold.email import subscription_gate as subscriptions
from pinfold.email.adapters.base import Feedback
from pinfold.email.adapters.registry import Relays
from pinfold.email.store import messages as store
from pinfold.email.store import suppression
from pinfold.sending import queue as sending_queue
from pinfold.sending.channel import Outcome

log = logging.getLogger("pinfold.sending")

SIGNING_THREADS = 2


@dataclass(eq=False)
class Claimed(sending_queue.ClaimedRow):
    """A claimed message with everything a pass learns about it."""

    batch: dict | None = None
    composed: composing.Composed | None = None
    suppressed: str | None = None  # the reason the recipient is suppressed, if it is
    failure: str | None = None  # why it could not be composed
    outcome: Outcome | None = None


class EmailChannel:
    """The email channel as the pipeline drives it, claiming from `lanes` (in that order; each
    lane's worker has a channel of its own, with its own relay connections, so a campaign's pass never
    queues in front of a transactional one at the relay); `close()` lets go of the signers and the relays."""

    name = "email"

    def __init__(self, ctx: Context, lanes: tuple[int, ...] = sending_queue.LANES) -> None:
        self.ctx = ctx
        self.lanes = lanes
        self.reports: queue.SimpleQueue[Feedback] = queue.SimpleQueue()
        self.relays = Relays(ctx.settings, self.reports.put)
        self.composer = composing.Composer(mail_domain=ctx.settings.mail_domain,
                                           public_url=ctx.settings.resolved_public_url,
                                           tracking_key=ctx.secrets.derive_key("tracking"),
                                           decrypt=ctx.secrets.decrypt)
        self._batches: dict[str, dict] = {}
        self._signers = ThreadPoolExecutor(SIGNING_THREADS, thread_name_prefix="pinfold-dkim")

    # The queue: email_messages, with the lease's expiry as the sending messages' due_at.

    def due(self, conn, *, now: float) -> bool:
        return store.any_due(conn, lanes=self.lanes, now=now)

    def claim(self, conn, *, now: float, until: float) -> list[Claimed]:
        rows: list[dict] = []
        for lane in self.lanes:
            limit = self.ctx.settings.email_batch - len(rows)
            if limit > 0:
                rows += store.claim(conn, lane=lane, now=now, until=until, limit=limit)
        return [Claimed(row) for row in rows]

    def renew(self, conn, ids: list[str], *, held_until: float, until: float) -> int:
        return store.renew(conn, ids, held_until=held_until, until=until)

    def still_held(self, conn, ids: list[str], *, held_until: float) -> set[str]:
        return store.still_held(conn, ids, held_until=held_until)

    def finish(self, conn, results: list[dict], *, held_until: float) -> int:
        return store.finish_held(conn, results, held_until=held_until)

    # The steps.

    def gate(self, conn, claimed: list[Claimed]) -> list[Claimed]:
        """Attach each message's batch, then hold back recipients on the suppression list and contacts
        opted out of the send's contact list or topic."""
        for item, batch in zip(claimed, self._batches_of(conn, [item.row for item in claimed]), strict=True):
            item.batch = batch
        self._check_suppression(conn, claimed)
        subscriptions.mark_unsubscribed(conn, claimed)
        return [item for item in claimed if item.suppressed is None]

    def compose(self, passed: list[Claimed]) -> list[Claimed]:
        if any(item.batch["definition"].get("dkim") for item in passed):
            # RSA signing lets go of the GIL: two threads sign on both cores (bulk 1,373 → 1,653 msg/s).
            list(self._signers.map(self._compose, passed))
        else:
            for item in passed:
                self._compose(item)
        return [item for item in passed if item.composed is not None]

    def routes(self, ready: list[Claimed]) -> dict[tuple, list[Claimed]]:
        """Each message goes to the relay its configuration set's sending pool names."""
        by_relay: dict[tuple, list[Claimed]] = {}
        for item in ready:
            settings = item.batch["settings"]
            by_relay.setdefault((settings["sending_pool"], settings["require_tls"]), []).append(item)
        return by_relay

    def deliver(self, route: tuple, items: list[Claimed], acknowledged: Callable[[Claimed], bool]) -> None:
        pool, require_tls = route
        adapter = self.relays.pick(pool, require_tls=require_tls)

        def relayed(index: int, outcome: Outcome) -> bool:
            item = items[index]
            item.outcome = outcome
            return acknowledged(item)

        adapter.deliver([item.composed.email for item in items], relayed)

    def decide(self, conn, group: list[Claimed], *, now: float) -> tuple[list[dict], list[dict]]:
        return outcomes.decide(self.ctx, conn, group, now=now)

    def after_pass(self) -> None:
        """Record the complaints the mailbox simulator reported while it delivered."""
        while True:
            try:
                report = self.reports.get_nowait()
            except queue.Empty:
                return
            feedback.record_report(self.ctx, report)

    def close(self) -> None:
        self._signers.shutdown()
        self.relays.close()

    def _batches_of(self, conn, rows: list[dict]) -> list[dict]:
        """Each row's batch, with the account's and configuration set's settings as they were when
        the batch was first seen (cached: a bulk send looks them up once, not once per chunk)."""
        found = {row["batch_id"]: self._batches.get(row["batch_id"]) for row in rows}
        missing = {batch_id for batch_id, batch in found.items() if batch is None}
        if missing:
            if len(self._batches) > 10_000:
                self._batches = {}
            for batch_id, batch in store.batches(conn, missing).items():
                batch["settings"] = outcomes.batch_settings(conn, batch)
                found[batch_id] = self._batches[batch_id] = batch
        return [found[row["batch_id"]] for row in rows]

    def _check_suppression(self, conn, claimed: list[Claimed]) -> None:
        """Mark messages whose recipient is on the list the batch's tenant scope names, for a reason
        the batch honours (the configuration set's reasons, else the account's)."""
        groups: dict[tuple, list[Claimed]] = {}
        for item in claimed:
            batch = item.batch
            groups.setdefault((batch["account_id"], batch["region"], batch["ses_tenant"]), []).append(item)
        for (account_id, region, tenant), items in groups.items():
            addresses = [address for item in items for address in store.envelope(item.row["recipient"])]
            listed = suppression.suppressed(conn, account_id, region, addresses, tenant)
            for item in items:
                honoured = item.batch["settings"]["suppressed_reasons"]
                reasons = [listed[a.lower()] for a in store.envelope(item.row["recipient"]) if a.lower() in listed]
                hit = next((reason for reason in reasons if reason in honoured), None)
                item.suppressed = hit

    def _compose(self, item: Claimed) -> None:
        self.ctx.db.give_way()
        try:
            item.composed = composing.compose(self.composer, item.batch["definition"], item.row["id"],
                                              item.row["recipient"])
        except PinfoldError as error:  # a template that will not render, a header that cannot be written
            item.failure = error.message
        except Exception as error:  # never let one message hold its whole chunk hostage
            log.exception("message %s could not be composed", item.row["id"])
            item.failure = f"The message could not be built: {type(error).__name__}"
