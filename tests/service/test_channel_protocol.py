"""A channel that is not email, through the real sending pipeline on the real database: the Channel
protocol (pinfold/sending/channel.py) carries what SMS and push need without the pipeline knowing.

The test channel keeps its own queue in tables made here (like a channel's store); its "carrier"
answers by address: `ok-*` is accepted and reports delivery later, `gone-*` is a permanent failure
that deactivates the device (an invalid push token), `busy-*` fails for now and is retried with
doubling waits until its budget is spent. An opted-out address is held back at the gate.
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from pinfold.events import outbox
from pinfold.sending import outcomes
from pinfold.sending import worker as worker_module
from pinfold.sending.channel import Outcome
from pinfold.sending.worker import SendWorker

FIRST_WAIT, BUDGET = 10.0, 25.0

_tables = sa.MetaData()
queue_table = sa.Table(
    "test_channel_messages", _tables,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("address", sa.String(64), nullable=False),  # app/device
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("due_at", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("remote_id", sa.String(40)),
    sa.Column("detail", sa.Text),
)
devices_table = sa.Table(
    "test_channel_devices", _tables,
    sa.Column("address", sa.String(64), primary_key=True),
    sa.Column("active", sa.Boolean, nullable=False),
)
opt_outs_table = sa.Table("test_channel_opt_outs", _tables, sa.Column("address", sa.String(64), primary_key=True))


@dataclass(eq=False)
class Message:
    id: str
    address: str
    attempts: int
    created_at: float
    taken_over: bool = False  # claimed from a pass whose lease ran out
    held_back: str | None = None
    payload: str | None = None
    outcome: Outcome | None = None


class Carrier:
    """One adapter per app's credentials; records what it was given and holds delivery receipts
    until they `arrive()`."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (credentials, payload)
        self.in_flight: list[tuple[str, str]] = []  # (remote id, status) on their way back
        self.arrived: list[tuple[str, str]] = []
        self._ids = itertools.count(1)

    def deliver(self, credentials: str, payloads: list[str], acknowledged) -> None:
        for index, payload in enumerate(payloads):
            self.sent.append((credentials, payload))
            device = payload.split(" to ")[1]
            if device.startswith("ok-"):
                remote_id = f"r-{next(self._ids)}"
                self.in_flight.append((remote_id, "DELIVERED"))
                outcome = Outcome("delivered", "queued at the carrier", 202, remote_id=remote_id)
            elif device.startswith("gone-"):
                outcome = Outcome("permanent", "Unregistered", 410)
            else:
                outcome = Outcome("transient", "Service Unavailable", 503)
            if acknowledged(index, outcome) is False:
                return

    def arrive(self) -> None:
        self.arrived, self.in_flight = self.arrived + self.in_flight, []


class TinyChannel:
    name = "test"

    def __init__(self, ctx, carrier: Carrier) -> None:
        self.ctx, self.carrier = ctx, carrier

    def due(self, conn, *, now: float) -> bool:
        q = queue_table.c
        return conn.execute(sa.select(q.id).where(q.status.in_(("queued", "sending")), q.due_at <= now)
                            .limit(1)).first() is not None

    def claim(self, conn, *, now: float, until: float) -> list[Message]:
        q = queue_table.c
        due = sa.select(q.id).where(q.status.in_(("queued", "sending")), q.due_at <= now).order_by(q.created_at)
        lapsed = set(conn.execute(sa.select(q.id).where(q.status == "sending", q.due_at <= now)).scalars())
        rows = conn.execute(queue_table.update().where(q.id.in_(due.scalar_subquery()))
                            .values(status="sending", due_at=until)
                            .returning(q.id, q.address, q.attempts, q.created_at)).mappings().all()
        return [Message(row["id"], row["address"], row["attempts"], row["created_at"], row["id"] in lapsed)
                for row in sorted(rows, key=lambda row: (row["created_at"], row["id"]))]

    def renew(self, conn, ids, *, held_until: float, until: float) -> int:
        return conn.execute(self._held(ids, held_until).values(due_at=until)).rowcount

    def still_held(self, conn, ids, *, held_until: float) -> set[str]:
        q = queue_table.c
        query = sa.select(q.id).where(q.id.in_(ids), q.status == "sending", q.due_at == held_until)
        return set(conn.execute(query).scalars())

    def gate(self, conn, claimed: list[Message]) -> list[Message]:
        addresses = [item.address for item in claimed]
        opted_out = set(conn.execute(sa.select(opt_outs_table.c.address)
                                     .where(opt_outs_table.c.address.in_(addresses))).scalars())
        inactive = set(conn.execute(sa.select(devices_table.c.address)
                                    .where(devices_table.c.address.in_(addresses), ~devices_table.c.active)).scalars())
        for item in claimed:
            if item.address in opted_out:
                item.held_back = "OPTED_OUT"
            elif item.address in inactive:
                item.held_back = "INACTIVE_DEVICE"
        return [item for item in claimed if item.held_back is None]

    def compose(self, passed: list[Message]) -> list[Message]:
        for item in passed:
            item.payload = f"hello {item.id} to {item.address.split('/')[1]}"
        return passed

    def routes(self, ready: list[Message]) -> dict[str, list[Message]]:
        by_app: dict[str, list[Message]] = {}
        for item in ready:
            by_app.setdefault(item.address.split("/")[0], []).append(item)
        return by_app

    def deliver(self, route: str, items: list[Message], acknowledged) -> None:
        def relayed(index: int, outcome: Outcome) -> bool:
            items[index].outcome = outcome
            return acknowledged(items[index])

        self.carrier.deliver(f"credentials-of-{route}", [item.payload for item in items], relayed)

    def decide(self, conn, group: list[Message], *, now: float) -> tuple[list[dict], list[dict]]:
        results, events = [], []
        for item in group:
            result = {"id": item.id, "account": "111122223333", "attempts": item.attempts + 1, "due_at": now,
                      "remote_id": None}
            outcome = item.outcome
            if item.held_back is not None:
                result.update(status="skipped", detail=item.held_back, attempts=item.attempts)
            elif outcome.status == "delivered":
                result.update(status="accepted", detail=outcome.detail, remote_id=outcome.remote_id)
            elif outcome.status == "permanent":
                conn.execute(devices_table.update().where(devices_table.c.address == item.address)
                             .values(active=False))
                result.update(status="failed", detail=outcome.detail)
            else:
                due = outcomes.retry_at(now=now, created_at=item.created_at, attempts=item.attempts,
                                        budget=BUDGET, first_wait=FIRST_WAIT)
                result.update(status="expired" if due is None else "queued", detail=outcome.detail,
                              due_at=now if due is None else due)
            results.append(result)
            events.append(_event(item.id, f"_test.{result['status']}"))
        return results, events

    def finish(self, conn, results: list[dict], *, held_until: float) -> int:
        return sum(conn.execute(self._held([r["id"]], held_until)
                                .values(status=r["status"], due_at=r["due_at"], attempts=r["attempts"],
                                        remote_id=r["remote_id"], detail=r["detail"])).rowcount
                   for r in results)

    def after_pass(self) -> None:
        """Delivery receipts that arrived are recorded once the pass committed what they name."""
        receipts, self.carrier.arrived = self.carrier.arrived, []
        with self.ctx.db.write() as conn:
            for remote_id, status in receipts:
                found = conn.execute(queue_table.update()
                                     .where(queue_table.c.remote_id == remote_id, queue_table.c.status == "accepted")
                                     .values(status=status.lower(), detail=status)
                                     .returning(queue_table.c.id)).scalar()
                if found is not None:
                    outbox.append(conn, [_event(found, f"_test.{status.lower()}")])

    def close(self) -> None:
        self.closed = True

    @staticmethod
    def _held(ids, held_until: float):
        q = queue_table.c
        return queue_table.update().where(q.id.in_(ids), q.status == "sending", q.due_at == held_until)


def _event(message_id: str, event_type: str) -> dict:
    return {"event_id": str(uuid.uuid4()), "account_id": "000000000001", "region": "us-east-1",
            "project_id": "test-project", "tenant_id": None, "event_type": event_type,
            "arrival_ms": int(time.time() * 1000), "record": {"event_type": event_type, "message_id": message_id}}


@pytest.fixture
def channel(ctx):
    _tables.create_all(ctx.db.engine)
    carrier = Carrier()
    yield TinyChannel(ctx, carrier)
    _tables.drop_all(ctx.db.engine)


def _queue(ctx, t0: float, *addresses: str) -> list[str]:
    ids = [f"m-{uuid.uuid4().hex[:8]}" for _ in addresses]
    with ctx.db.write() as conn:
        rows = [{"id": message_id, "address": address, "status": "queued", "due_at": t0, "attempts": 0,
                 "created_at": t0 + n / 1000}  # in the order given
                for n, (message_id, address) in enumerate(zip(ids, addresses, strict=True))]
        conn.execute(queue_table.insert(), rows)
        known = {row[0] for row in conn.execute(sa.select(devices_table.c.address))}
        fresh = [{"address": address, "active": True} for address in dict.fromkeys(addresses) if address not in known]
        if fresh:
            conn.execute(devices_table.insert(), fresh)
    return ids


def _state(ctx) -> dict[str, tuple]:
    q = queue_table.c
    with ctx.db.read() as conn:
        return {row.id: (row.status, row.attempts, row.due_at, row.remote_id, row.detail)
                for row in conn.execute(sa.select(q.id, q.status, q.attempts, q.due_at, q.remote_id, q.detail))}


def _events(ctx, after: int = 0) -> list[tuple[str, str]]:
    with ctx.db.read() as conn:
        return [(row["record"]["message_id"], row["event_type"]) for row in outbox.read_after(conn, after, 100)]


def _device_active(ctx) -> dict[str, bool]:
    with ctx.db.read() as conn:
        return dict(conn.execute(sa.select(devices_table.c.address, devices_table.c.active)).all())


def test_opt_out_late_report_deactivation_and_retry_through_the_pipeline(ctx, channel):
    t0 = time.time()
    with ctx.db.write() as conn:
        conn.execute(opt_outs_table.insert(), [{"address": "app1/opted-1"}])
    ok, opted, gone, busy = _queue(ctx, t0, "app1/ok-1", "app1/opted-1", "app2/gone-1", "app2/busy-1")
    worker = SendWorker(ctx, channel)

    # Pass 1: the opted-out message never reaches the carrier; each app's messages go with its credentials.
    assert worker.run_once(now=t0) == 4
    assert channel.carrier.sent == [("credentials-of-app1", f"hello {ok} to ok-1"),
                                    ("credentials-of-app2", f"hello {gone} to gone-1"),
                                    ("credentials-of-app2", f"hello {busy} to busy-1")]
    assert _state(ctx) == {
        ok: ("accepted", 1, t0, "r-1", "queued at the carrier"),  # delivered only when its receipt comes
        opted: ("skipped", 0, t0, None, "OPTED_OUT"),
        gone: ("failed", 1, t0, None, "Unregistered"),
        busy: ("queued", 1, t0 + FIRST_WAIT, None, "Service Unavailable"),
    }
    assert _device_active(ctx) == {"app1/ok-1": True, "app1/opted-1": True, "app2/gone-1": False,
                                   "app2/busy-1": True}
    assert sorted(_events(ctx)) == sorted([(opted, "_test.skipped"), (ok, "_test.accepted"),
                                           (gone, "_test.failed"), (busy, "_test.queued")])
    assert worker.run_once(now=t0 + FIRST_WAIT - 1) == 0  # nothing is due yet
    with ctx.db.read() as conn:
        seen = outbox.read_after(conn, 0, 100)[-1]["seq"]

    # The carrier's receipt arrives; a new message to the deactivated device is held back at the gate.
    channel.carrier.arrive()
    again, = _queue(ctx, t0 + FIRST_WAIT, "app2/gone-1")
    assert worker.run_once(now=t0 + FIRST_WAIT) == 2
    assert channel.carrier.sent[3:] == [("credentials-of-app2", f"hello {busy} to busy-1")]
    state = _state(ctx)
    assert state[ok] == ("delivered", 1, t0, "r-1", "DELIVERED")
    assert state[again] == ("skipped", 0, t0 + FIRST_WAIT, None, "INACTIVE_DEVICE")
    assert state[busy] == ("queued", 2, t0 + FIRST_WAIT + 2 * FIRST_WAIT, None, "Service Unavailable")
    assert _events(ctx, seen) == [(again, "_test.skipped"), (busy, "_test.queued"), (ok, "_test.delivered")]

    # Pass 3: the retry budget is spent, so the transient failure is final.
    with ctx.db.read() as conn:
        seen = outbox.read_after(conn, 0, 100)[-1]["seq"]
    assert worker.run_once(now=t0 + 3 * FIRST_WAIT) == 1
    assert _state(ctx)[busy] == ("expired", 3, t0 + 3 * FIRST_WAIT, None, "Service Unavailable")
    assert _events(ctx, seen) == [(busy, "_test.expired")]
    assert len(channel.carrier.sent) == 5 and channel.carrier.in_flight == []
    worker.stop()
    assert channel.closed


def test_a_group_whose_lease_was_lost_records_only_the_messages_still_held(ctx, channel, monkeypatch):
    monkeypatch.setattr(worker_module, "GROUP_SIZE", 2)
    t0 = time.time()
    kept, taken, later = _queue(ctx, t0, "app1/ok-1", "app1/ok-2", "app1/ok-3")
    worker = SendWorker(ctx, channel)
    work = worker._prepare(t0)
    with ctx.db.write() as conn:  # another worker took one message over (as after a lost lease)
        conn.execute(queue_table.update().where(queue_table.c.id == taken).values(due_at=t0 + 600))
    worker._send(work)
    worker._finish(work)
    state = _state(ctx)
    assert {message_id: state[message_id][0] for message_id in (kept, taken, later)} == {
        kept: "accepted", taken: "sending", later: "accepted"}
    assert sorted(_events(ctx)) == sorted([(kept, "_test.accepted"), (later, "_test.accepted")])
    worker.stop()
