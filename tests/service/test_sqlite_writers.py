"""SQLite's one writer: Pinfold's processes queue for it on a file lock beside the database, and no
write is lost or refused while several processes write at once."""

from __future__ import annotations

import fcntl
import multiprocessing
import threading
import time

from pinfold.db.database import Database
from pinfold.db.sqlite import OneWriter


def _database(tmp_path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'pinfold.db'}")
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS written (writer TEXT, n INTEGER)")
    return db


def test_a_write_waits_while_another_process_has_the_writers_turn(tmp_path):
    db = _database(tmp_path)
    done = threading.Event()

    def write() -> None:
        with db.write() as conn:
            conn.exec_driver_sql("INSERT INTO written VALUES ('waiting', 1)")
        done.set()

    with open(tmp_path / "pinfold.db.writer.lock", "a+b") as other:  # another open file: another process's hold
        fcntl.flock(other, fcntl.LOCK_EX)
        threading.Thread(target=write, daemon=True).start()
        assert not done.wait(0.5)  # SQLite itself is free: only the writers' queue holds it back
        fcntl.flock(other, fcntl.LOCK_UN)
        assert done.wait(5)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM written").scalar() == 1
    db.dispose()


def _write_many(path: str, writer: str, count: int) -> None:
    db = Database(f"sqlite:///{path}")
    for n in range(count):
        with db.write() as conn:
            conn.exec_driver_sql("INSERT INTO written VALUES (?, ?)", (writer, n))
    db.dispose()


def test_processes_writing_at_once_each_get_every_write_in(tmp_path):
    _database(tmp_path).dispose()
    spawn = multiprocessing.get_context("spawn")
    writers = [spawn.Process(target=_write_many, args=(str(tmp_path / "pinfold.db"), f"w{n}", 300)) for n in range(3)]
    started = time.monotonic()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert [writer.exitcode for writer in writers] == [0, 0, 0], time.monotonic() - started
    db = Database(f"sqlite:///{tmp_path / 'pinfold.db'}")
    with db.read() as conn:
        counts = dict(conn.exec_driver_sql("SELECT writer, count(DISTINCT n) FROM written GROUP BY writer").all())
    assert counts == {"w0": 300, "w1": 300, "w2": 300}
    db.dispose()


def test_the_writers_turn_goes_to_the_one_waiting_before_the_one_that_just_let_it_go(tmp_path):
    """A flock alone is not handed on in turn: the process letting it go, still running, takes it
    again before the woken waiter does. Two OneWriters stand for two processes (each opens its own
    files, so their flocks conflict as two processes' would)."""
    path = str(tmp_path / "pinfold.db")
    first, second = OneWriter(path), OneWriter(path)
    order = []
    waiting = threading.Event()

    def wait_for_a_turn() -> None:
        waiting.set()
        with second.turn():
            order.append("waiting")

    thread = threading.Thread(target=wait_for_a_turn, daemon=True)
    with first.turn():
        thread.start()
        assert waiting.wait(5)
        time.sleep(0.2)  # it is queued
    with first.turn():  # again, at once
        order.append("again")
    thread.join(5)
    assert order == ["waiting", "again"]


def test_the_log_starts_over_under_constant_writes_and_reads(tmp_path):
    """The checkpointer empties the write-ahead log past its threshold without waiting on readers, so
    it may miss a round while readers keep it busy; it still keeps the log within four thresholds."""
    db = _database(tmp_path)
    db._checkpointer.restart_bytes = restart = 1 << 20
    log = tmp_path / "pinfold.db-wal"
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            with db.read() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM written").scalar()

    readers = [threading.Thread(target=read, daemon=True) for _ in range(3)]
    for reader in readers:
        reader.start()
    sizes, rounds = [], []
    try:
        for n in range(300):
            with db.write() as conn:  # about 30 KiB of pages a transaction
                conn.exec_driver_sql("INSERT INTO written VALUES " + ", ".join([f"('{'x' * 500}', {n})"] * 50))
            sizes.append(log.stat().st_size)
            with log.open("rb") as header:  # its first salt changes each time the log starts over
                rounds.append(header.read(20)[16:20])
            time.sleep(0.005)
    finally:
        stop.set()
        for reader in readers:
            reader.join(5)
    assert max(sizes) < 4 * restart + (256 << 10)
    restarts = sum(1 for before, after in zip(rounds, rounds[1:], strict=False) if after != before)
    assert restarts >= 2, sizes[::20]
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM written").scalar() == 300 * 50
    db.dispose()


def test_bulk_work_gives_way_to_a_write_under_way_only_while_another_process_waits(tmp_path, monkeypatch):
    """Two OneWriters stand for two processes. In the first, one thread holds the turn and another
    asks to give way: at once while nobody else waits; once the second process waits, not until the
    turn is let go. The holder itself never waits for itself."""
    monkeypatch.setattr("pinfold.db.sqlite.GIVE_WAY_SECONDS", 10.0)
    path = str(tmp_path / "pinfold.db")
    here, elsewhere = OneWriter(path), OneWriter(path)
    holding, let_go, queued = threading.Event(), threading.Event(), threading.Event()
    events = []

    def hold() -> None:
        with here.turn():
            here.give_way()  # its own turn: no wait
            holding.set()
            let_go.wait(10)
            events.append("let go")

    def wait_elsewhere() -> None:
        queued.set()
        with elsewhere.turn():
            pass

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert holding.wait(5)
    started = time.monotonic()
    here.give_way()
    assert time.monotonic() - started < 0.5  # nobody waits: bulk work goes on

    threading.Thread(target=wait_elsewhere, daemon=True).start()
    assert queued.wait(5)
    time.sleep(0.2)  # the other process is queued for the turn
    threading.Timer(0.3, let_go.set).start()
    here.give_way()
    events.append("gave way")
    holder.join(5)
    assert events == ["let go", "gave way"]


def test_giving_way_is_bounded_when_a_turn_lasts(tmp_path, monkeypatch):
    monkeypatch.setattr("pinfold.db.sqlite.GIVE_WAY_SECONDS", 0.2)
    path = str(tmp_path / "pinfold.db")
    here, elsewhere = OneWriter(path), OneWriter(path)
    holding, let_go = threading.Event(), threading.Event()

    def hold() -> None:
        with here.turn():
            holding.set()
            let_go.wait(10)

    threading.Thread(target=hold, daemon=True).start()
    assert holding.wait(5)
    def wait_elsewhere() -> None:
        with elsewhere.turn():
            pass

    waiter = threading.Thread(target=wait_elsewhere, daemon=True)
    waiter.start()
    time.sleep(0.2)
    started = time.monotonic()
    here.give_way()
    assert 0.15 < time.monotonic() - started < 2
    let_go.set()
    waiter.join(5)
