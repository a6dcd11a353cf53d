"""Crashes while sending: outcomes are written in small groups as the relay acknowledges them, a dead
worker's messages are taken over within 30 s, a live worker's never, and the mailbox keeps every
delivery so duplicates can be counted (test_smtp_adapter.py)."""

from __future__ import annotations

import asyncio
import email
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from pinfold.config import Settings
from pinfold.context import Context
from pinfold.db.tables import email_messages as email_messages_table
from pinfold.email import send as ses_send
from pinfold.email.delivery import EmailDelivery
from pinfold.email.store import messages as email_messages
from pinfold.events import outbox as outbox_store
from pinfold.sending import worker as worker_module
from tests.conftest import free_port
from tests.service.test_email_sending import SIMULATOR, _sender_with, _simple


class _GatedRelay:
    """A real SMTP server (aiosmtpd) that accepts `open_for` messages, then holds every further one
    at the end of its data until `gate` is set."""

    def __init__(self, open_for: int) -> None:
        self.open_for = open_for
        self.gate = threading.Event()
        self.received: list[str] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, server_kwargs={"decode_data": False})

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        while len(self.received) >= self.open_for and not self.gate.is_set():
            await asyncio.sleep(0.02)
        self.received.append(email.message_from_bytes(envelope.original_content)["X-Pinfold-Message-Id"])
        return "250 2.0.0 Ok"

    def __enter__(self) -> _GatedRelay:
        self.controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.gate.set()  # a pass still held at the relay must be let go before the server stops
        self.controller.stop()

    def url(self, connections: int) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=off&connections={connections}"


def _wait(predicate, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


def _counts(ctx) -> dict[str, int]:
    with ctx.db.read() as conn:
        return email_messages.counts(conn)


def test_outcomes_are_committed_in_small_groups_as_the_relay_acknowledges_them(tmp_path, database_url):
    connections = 2
    with (_GatedRelay(open_for=180) as relay,
          _sender_with(tmp_path, database_url, email_relay=relay.url(connections)) as (ctx, caller)):
        ids = [ses_send.send_email(ctx, caller, _simple([f"r{n}@example.org"]))["MessageId"] for n in range(300)]
        delivery = EmailDelivery(ctx)
        sending = threading.Thread(target=delivery.run_once)  # one pass claims all 300
        sending.start()
        try:
            assert _wait(lambda: len(relay.received) == 180)
            # The pass is stuck at the relay with 180 accepted; a crash now must repeat no more than
            # the group not yet committed and one message per connection.
            assert worker_module.GROUP_SIZE <= 100
            bound = worker_module.GROUP_SIZE + connections
            assert _wait(lambda: 180 - _counts(ctx).get("delivered", 0) <= bound, timeout=10), _counts(ctx)
            assert sending.is_alive()
        finally:
            relay.gate.set()
            sending.join(30)
        assert _counts(ctx) == {"delivered": 300}
        assert sorted(relay.received) == sorted(ids)
        delivery.stop()


def test_a_dead_workers_messages_are_taken_over_within_30_seconds(tmp_path, database_url):
    with _sender_with(tmp_path, database_url) as (ctx, caller):
        ids = {ses_send.send_email(ctx, caller, _simple([f"success+{n}@{SIMULATOR}"]))["MessageId"] for n in range(3)}
        dead = EmailDelivery(ctx)
        work = dead.worker._prepare()  # claims the three...
        work.lease.end()  # ...and dies: no heartbeat renews its lease any more
        other = EmailDelivery(ctx)
        assert other.worker.run_once(now=time.time() + 30) == 3
        assert _counts(ctx) == {"delivered": 3}
        assert {path.name.split(".")[0] for path in (ctx.settings.data_dir / "mailbox").rglob("*.eml")} == ids
        other.stop()


def test_a_dead_workers_messages_go_before_the_queue_that_formed_behind_them(tmp_path, database_url):
    with _sender_with(tmp_path, database_url, email_batch=3) as (ctx, caller):
        first = [ses_send.send_email(ctx, caller, _simple([f"success+a{n}@{SIMULATOR}"]))["MessageId"]
                 for n in range(3)]
        dead = EmailDelivery(ctx)
        dead.worker._prepare().lease.end()  # claims the first three and dies
        behind = [ses_send.send_email(ctx, caller, _simple([f"success+b{n}@{SIMULATOR}"]))["MessageId"]
                  for n in range(3)]
        other = EmailDelivery(ctx)
        assert other.worker.run_once(now=time.time() + 30) == 3
        with ctx.db.read() as conn:
            assert [email_messages.get(conn, i)["status"] for i in first + behind] == ["delivered"] * 3 + ["queued"] * 3
        other.stop()


def test_a_live_workers_lease_is_renewed_so_nobody_takes_its_messages(tmp_path, database_url):
    # A 3 s lease, with heartbeats every 0.75 s; the relay holds the pass for several lease lengths.
    with (_GatedRelay(open_for=0) as relay,
          _sender_with(tmp_path, database_url, email_relay=relay.url(1), sending_lease_seconds=3.0) as (ctx, caller)):
        ids = [ses_send.send_email(ctx, caller, _simple([f"r{n}@example.org"]))["MessageId"] for n in range(5)]
        slow = EmailDelivery(ctx)
        sending = threading.Thread(target=slow.run_once)
        sending.start()
        # Another process on the same database (with the same master key, as every process sharing
        # one needs), delivering to its own mailbox if it ever gets one.
        master_key = (ctx.settings.data_dir / "master.key").read_text().strip()
        other_ctx = Context.open(Settings(data_dir=tmp_path / "other", database_url=database_url,
                                          master_key=master_key, sending_lease_seconds=3.0))
        other = EmailDelivery(other_ctx)
        try:
            assert _wait(lambda: _counts(ctx) == {"sending": 5})
            taken, deadline = 0, time.monotonic() + 8
            while time.monotonic() < deadline:
                taken += other.run_once()
                time.sleep(0.1)
            assert taken == 0 and sending.is_alive()
        finally:
            relay.gate.set()
            sending.join(30)
            other.stop()
            other_ctx.close()
        assert _counts(ctx) == {"delivered": 5}
        assert sorted(relay.received) == sorted(ids)  # each once
        slow.stop()


def test_a_group_records_only_the_messages_still_held_and_their_events(tmp_path, database_url):
    with _sender_with(tmp_path, database_url) as (ctx, caller):
        kept, taken = (ses_send.send_email(ctx, caller, _simple([f"success+{n}@{SIMULATOR}"]))["MessageId"]
                       for n in range(2))
        delivery = EmailDelivery(ctx)
        work = delivery.worker._prepare()
        with ctx.db.write() as conn:  # another worker took one message over (as after a lost lease)
            conn.execute(email_messages_table.update().where(email_messages_table.c.id == taken)
                         .values(due_at=time.time() + 600))
        delivery.worker._send(work)
        delivery.worker._finish(work)
        with ctx.db.read() as conn:
            assert email_messages.get(conn, kept)["status"] == "delivered"
            assert email_messages.get(conn, taken)["status"] == "sending"  # the other worker's to record
            records = outbox_store.read_after(conn, 0, 100)
        assert sorted((row["record"]["facets"]["email_channel"]["mail_event"]["mail"]["message_id"], row["event_type"])
                      for row in records) == [(kept, "_email.delivered"), (kept, "_email.send")]
        delivery.stop()


def test_outcome_groups_commit_without_waiting_for_the_wal_flush(tmp_path, database_url, monkeypatch):
    """Each group's transaction asks for it; on PostgreSQL that is synchronous_commit off for that
    transaction alone (the claim that follows still waits for its flush)."""
    relaxed = []
    original = worker_module.commit_without_flush

    def spy(conn):
        original(conn)
        if conn.dialect.name == "postgresql":
            relaxed.append(conn.exec_driver_sql("SHOW synchronous_commit").scalar())
        else:
            relaxed.append("off")  # SQLite's synchronous=NORMAL commits this way already

    monkeypatch.setattr(worker_module, "commit_without_flush", spy)
    with _sender_with(tmp_path, database_url) as (ctx, caller):
        for n in range(3):
            ses_send.send_email(ctx, caller, _simple([f"success+{n}@{SIMULATOR}"]))
        delivery = EmailDelivery(ctx)
        assert delivery.worker.run_once() == 3
        assert relaxed == ["off"] and _counts(ctx) == {"delivered": 3}
        with ctx.db.write() as conn:
            if conn.dialect.name == "postgresql":
                assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        delivery.stop()


def test_a_pass_that_cannot_record_sends_no_more(tmp_path, database_url, monkeypatch):
    """One group fails to commit (the database went away for a moment): the pass stops sending, so
    only that group is sent again by whoever takes the messages over, not the rest of the claim."""
    from pinfold.sending import outcomes

    monkeypatch.setattr(worker_module, "GROUP_SIZE", 2)
    real_record, failures = outcomes.record, [RuntimeError("the database went away")]

    def record_once_failing(*args, **kwargs):
        if failures:
            raise failures.pop()
        return real_record(*args, **kwargs)

    monkeypatch.setattr(outcomes, "record", record_once_failing)
    with _sender_with(tmp_path, database_url) as (ctx, caller):
        ids = {ses_send.send_email(ctx, caller, _simple([f"success+{n}@{SIMULATOR}"]))["MessageId"] for n in range(6)}
        mailbox = ctx.settings.data_dir / "mailbox"
        first = EmailDelivery(ctx)
        with pytest.raises(RuntimeError, match="went away"):
            first.worker.run_once()
        assert len(list(mailbox.rglob("*.eml"))) == 2  # the failed group; the other four were never tried
        assert _counts(ctx) == {"sending": 6}
        other = EmailDelivery(ctx)
        assert other.worker.run_once(now=time.time() + 30) == 6
        assert _counts(ctx) == {"delivered": 6}
        delivered = [path.name.split(".")[0] for path in mailbox.rglob("*.eml")]
        assert set(delivered) == ids and len(delivered) == 8  # the failed group twice, the rest once
        first.stop()
        other.stop()


def test_a_pass_whose_lease_is_gone_sends_no_more(tmp_path, database_url, monkeypatch):
    """As when renewals stopped in time (the database was out of reach, or the pass ran past its
    limit): the rest of the claim is left for whoever takes it over, unsent."""
    from pinfold.sending import lease as claims

    with _sender_with(tmp_path, database_url) as (ctx, caller):
        mailbox = ctx.settings.data_dir / "mailbox"
        monkeypatch.setattr(claims.Lease, "holding", lambda self: len(list(mailbox.rglob("*.eml"))) < 2)
        for n in range(5):
            ses_send.send_email(ctx, caller, _simple([f"success+{n}@{SIMULATOR}"]))
        delivery = EmailDelivery(ctx)
        delivery.worker.run_once()
        assert len(list(mailbox.rglob("*.eml"))) == 2
        assert _counts(ctx) == {"delivered": 2, "sending": 3}
        delivery.stop()
