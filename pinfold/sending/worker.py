"""Sending workers: claim due messages, apply suppression, compose, deliver, record outcomes and events.

Each pass claims a chunk of due messages under a short lease that a heartbeat renews while the pass
runs (sending/lease.py): a worker that dies leaves them to be claimed again within LEASE_SECONDS,
a live one keeps them. The adapter only reports what happened; this module decides: a 2xx is
delivered, a 5xx a hard bounce (the address joins the suppression list when the account's or the
configuration set's reasons say so), a 4xx or an unreachable relay is tried again later with
doubling waits until the delivery budget is spent (then a soft bounce). Outcomes are written as the
relay acknowledges them, GROUP_SIZE at a time: each group's states, the suppression entries they
cause and their event records in one transaction.

A message the relay accepted is marked delivered only when its group commits. A worker killed
between the two sends that group again once its lease expires: delivery is at least once at the
relay boundary, as with every mail transfer agent, and a crash repeats at most one group plus one
message per relay connection (per sending thread).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pinfold.context import Context
from pinfold.core.errors import PinfoldError
from pinfold.db.database import commit_without_flush
from pinfold.email import compose as composing
from pinfold.email import subscription_gate as subscriptions
from pinfold.email.adapters.registry import Relays
from pinfold.email.store import messages as store
from pinfold.email.store import suppression
from pinfold.sending import outcomes
from pinfold.sending.channel import Outcome
from pinfold.sending.lease import Lease, Recorder

log = logging.getLogger("pinfold.sending")

# How long a claimed chunk is ours without a heartbeat (one beats every quarter of it): a dead
# worker's messages are due again this long after its last beat. Outcomes are recorded only while
# the lease still holds (see outcomes.record), so a pass that lost it cannot overwrite what another
# worker decided since.
LEASE_SECONDS = 20.0
MAX_PASS_SECONDS = 900.0  # a wedged pass stops renewing after this, and its messages are taken over
# Outcomes are committed this many at a time, or when one finds the oldest waiting GROUP_SECONDS (a slow relay).
GROUP_SIZE = 50
GROUP_SECONDS = 0.5
SIGNING_THREADS = 2


@dataclass
class Claimed:
    """A claimed message with everything a pass learns about it."""

    row: dict
    batch: dict
    composed: composing.Composed | None = None
    suppressed: str | None = None  # the reason the recipient is suppressed, if it is
    failure: str | None = None  # why it could not be composed
    outcome: Outcome | None = None
    checks: dict = field(default_factory=dict)


@dataclass
class Pass:
    """One pass's claimed messages, the lease they are held under and the recorder of their outcomes."""

    claimed: list[Claimed]
    lease: Lease
    recorder: Recorder

    def __len__(self) -> int:
        return len(self.claimed)


class SendWorker:
    """Runs passes on a thread until stopped; `run_once()` is one pass (tests call it directly)."""

    def __init__(self, ctx: Context, relays: Relays, *, idle_seconds: float = 0.2,
                 after_pass=None) -> None:
        self.ctx = ctx
        self.relays = relays
        self.after_pass = after_pass  # called after each pass's outcomes are committed
        self.idle_seconds = idle_seconds
        self.composer = composing.Composer(mail_domain=ctx.settings.mail_domain,
                                           public_url=ctx.settings.resolved_public_url,
                                           tracking_key=ctx.secrets.derive_key("tracking"),
                                           decrypt=ctx.secrets.decrypt)
        self._batches: dict[str, dict] = {}
        self._signers = ThreadPoolExecutor(SIGNING_THREADS, thread_name_prefix="pinfold-dkim")
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, threads: int = 1) -> SendWorker:
        """Run passes on `threads` threads (one is fastest on a small machine; more overlap slow relays)."""
        self._threads = [threading.Thread(target=self._loop, name=f"pinfold-sender-{n}", daemon=True)
                         for n in range(threads)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._signers.shutdown()

    def _loop(self) -> None:
        # One pass at a time: overlapping the relay's wait with composing the next chunk was measured
        # slower (2,674 against 3,000 messages/s on 2 cores): the threads only traded the GIL.
        while not self._stop.is_set():
            try:
                handled = self.run_once()
            except Exception:  # a broken pass must not stop sending; its messages come back after the lease
                log.exception("sending pass failed")
                handled = 0
            if not handled:
                self._stop.wait(self.idle_seconds)

    def run_once(self, *, now: float | None = None) -> int:
        """Claim, check, compose, deliver and record one chunk; returns how many messages it handled.
        `now` (tests) stands for the clock at the start and the end of the pass."""
        work = self._prepare(now)
        if work is None:
            return 0
        try:
            self._send(work)
        finally:
            self._finish(work)
        return len(work)

    def _prepare(self, now: float | None = None) -> Pass | None:
        """Claim due messages under a beating lease, mark the suppressed ones, compose the rest."""
        start = time.time() if now is None else now
        with self.ctx.db.write() as conn:
            rows = store.claim(conn, now=start, lease_seconds=LEASE_SECONDS, limit=self.ctx.settings.email_batch)
        if not rows:
            return None
        lease = Lease(self.ctx.db, [row["id"] for row in rows], rows[0]["due_at"], seconds=LEASE_SECONDS,
                      renew_for=MAX_PASS_SECONDS).beat()
        recorder = Recorder(lease, lambda group, expires: self._record(group, expires, now),
                            size=GROUP_SIZE, seconds=GROUP_SECONDS)
        try:
            return Pass(self._check_and_compose(rows), lease, recorder)
        except BaseException:
            lease.end()
            raise

    def _check_and_compose(self, rows: list[dict]) -> list[Claimed]:
        with self.ctx.db.read() as conn:
            claimed = [Claimed(row, batch) for row, batch in zip(rows, self._batches_of(conn, rows), strict=True)]
            self._check_suppression(conn, claimed)
            subscriptions.mark_unsubscribed(conn, claimed)
        to_compose = [item for item in claimed if item.suppressed is None]
        if any(item.batch["definition"].get("dkim") for item in to_compose):
            # RSA signing lets go of the GIL: two threads sign on both cores (bulk 1,373 → 1,653 msg/s).
            list(self._signers.map(self._compose, to_compose))
        else:
            for item in to_compose:
                self._compose(item)
        return claimed

    def _send(self, work: Pass) -> None:
        """Deliver; every outcome goes to the recorder as it is known (the undeliverable ones first)."""
        for item in work.claimed:
            if item.composed is None:  # suppressed, or it could not be built: decided already
                work.recorder.add(item)
        self._deliver(work, [item for item in work.claimed if item.composed is not None])

    def _finish(self, work: Pass) -> None:
        """Record the last group, let the lease go, then the reports the pass caused."""
        try:
            work.recorder.close()
        finally:
            work.lease.end()
        if work.recorder.failed is not None:  # those messages come back when the lease runs out
            raise work.recorder.failed
        if self.after_pass is not None:
            self.after_pass()

    def _record(self, group: list[Claimed], lease_expires: float, now: float | None) -> None:
        """One group in one transaction; messages whose lease was lost are left to the worker that
        took them over (the check is in the write itself, so it costs nothing when all are held)."""
        while group:
            try:
                with self.ctx.db.write() as conn:
                    # Waiting for a WAL flush on each of a claim's twenty group commits cost PostgreSQL
                    # bulk sending a tenth (1,749 msg/s with the wait, 1,914 without). A group lost in a
                    # database crash is only redone: its messages are still `sending` and go out again.
                    commit_without_flush(conn)
                    outcomes.record(self.ctx, conn, group, now=time.time() if now is None else now,
                                    lease_expires=lease_expires)
                return
            except outcomes.LeaseLost:
                with self.ctx.db.read() as conn:
                    held = store.still_held(conn, [(item.row["id"], lease_expires) for item in group])
                lost = [item.row["id"] for item in group if item.row["id"] not in held]
                if not lost:
                    raise RuntimeError("the database counted fewer outcomes written than messages held") from None
                log.warning("the lease on %d message(s) ran out during delivery; another worker records them "
                            "(they may have been sent twice), e.g. %s", len(lost), lost[0])
                group = [item for item in group if item.row["id"] in held]

    def _deliver(self, work: Pass, ready: list[Claimed]) -> None:
        """Hand each message to the relay its configuration set's sending pool names."""
        by_relay: dict[tuple, list[Claimed]] = {}
        for item in ready:
            settings = item.batch["settings"]
            by_relay.setdefault((settings["sending_pool"], settings["require_tls"]), []).append(item)
        for (pool, require_tls), items in by_relay.items():
            if not work.recorder.accepting():
                return  # the rest stay claimed, unsent, for whoever takes them over
            adapter = self.relays.pick(pool, require_tls=require_tls)

            def acknowledged(index: int, outcome: Outcome, items: list[Claimed] = items) -> bool:
                items[index].outcome = outcome
                return work.recorder.add(items[index])

            adapter.deliver([item.composed.email for item in items], acknowledged)

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
            addresses = [address for item in items for address in _envelope(item.row["recipient"])]
            listed = suppression.suppressed(conn, account_id, region, addresses, tenant)
            for item in items:
                honoured = item.batch["settings"]["suppressed_reasons"]
                reasons = [listed[a.lower()] for a in _envelope(item.row["recipient"]) if a.lower() in listed]
                hit = next((reason for reason in reasons if reason in honoured), None)
                item.suppressed = hit

    def _compose(self, item: Claimed) -> None:
        try:
            item.composed = composing.compose(self.composer, item.batch["definition"], item.row["id"],
                                              item.row["recipient"])
        except PinfoldError as error:  # a template that will not render, a header that cannot be written
            item.failure = error.message
        except Exception as error:  # never let one message hold its whole chunk hostage
            log.exception("message %s could not be composed", item.row["id"])
            item.failure = f"The message could not be built: {type(error).__name__}"


def _envelope(recipient: dict) -> list[str]:
    return [*(recipient.get("to") or []), *(recipient.get("cc") or []), *(recipient.get("bcc") or [])]
