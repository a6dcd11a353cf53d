"""SQLite's one writer at a time: the queue Pinfold's writers wait in (`OneWriter`), the thread
that copies the write-ahead log into the database (`Checkpointer`), and each connection's settings.
`db/database.py` uses them; nothing else needs to."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 30_000  # how long a writer outside Pinfold's queue may wait for the lock
RESTART_TRIES, RESTART_PAUSE = 8, 0.002  # emptying the log: tries per round, and the pause between them


class OneWriter:
    """SQLite's one writer at a time, queued for rather than polled for.

    SQLite's busy handler polls: a writer that finds the database locked sleeps, up to 100 ms at a
    time, and another process's next transaction usually takes the lock before it wakes. So writers
    queue instead: the threads of a process on a lock, and processes on an exclusive flock of a file
    beside the database, which the kernel hands on the moment it is let go. A writer then begins
    IMMEDIATE and finds SQLite's lock free (busy_timeout still covers writers outside Pinfold). The
    file is opened once per process (a forked child opens its own: a shared open file would share the
    lock); an in-memory database has no file and needs none.
    """

    def __init__(self, database: str | None) -> None:
        self._lock = threading.Lock()
        self._path = f"{database}.writer.lock" if database and database != ":memory:" else None
        self._file = None
        self._pid = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._lock:
            handle = self._handle()
            if handle is None:
                yield
                return
            fcntl.flock(handle, fcntl.LOCK_EX)  # waits without the GIL
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _handle(self):
        if self._path is None:
            return None
        if self._pid != os.getpid():
            self._file = open(self._path, "a+b")  # noqa: SIM115 - kept open for the process's life
            self._pid = os.getpid()
        return self._file


class Checkpointer:
    """Copies SQLite's write-ahead log into the database file on its own thread.

    SQLite's automatic checkpoint runs inside whichever commit crosses its threshold, so a writer
    paid for copying everyone's pages; here no connection checkpoints automatically and this thread
    does it shortly after writes, and once at shutdown. PASSIVE never waits for anyone, but under
    constant writing the log never starts over; past `restart_bytes` a TRUNCATE checkpoint brings it
    back to empty (`_restart`). It takes its turn with the writers, and looks at the log's size again
    once it has it: every process's checkpointer sees the same long log, and only the first need empty
    it (two processes sending emptied it twice in a row, a few hundred ms of the one writer's time each).
    """

    def __init__(self, engine: Engine, writer: OneWriter, interval: float = 0.5,
                 restart_bytes: int = 64 << 20) -> None:
        self.engine = engine
        self.writer = writer  # a TRUNCATE waits its turn with the writers, or queued writers would starve it
        self.interval = interval
        self.restart_bytes = restart_bytes
        database = engine.url.database
        self._log = Path(f"{database}-wal") if database and database != ":memory:" else None
        self._pending = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def written(self) -> None:
        self._pending.set()
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="pinfold-checkpoint", daemon=True)
                    self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._pending.is_set():
            self._checkpoint()

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval):
            if self._pending.is_set():
                self._pending.clear()
                self._checkpoint()

    def _checkpoint(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            if self._log_bytes() > self.restart_bytes:
                with self.writer.turn():  # and once it is ours, the log may have started over (another process's)
                    if self._log_bytes() > self.restart_bytes:
                        self._restart()
        except sa.exc.SQLAlchemyError:  # the next round tries again; SQLite stays consistent meanwhile
            pass

    def _restart(self) -> None:
        """Empty the log, holding the writers' turn for a few milliseconds. A TRUNCATE waits for every
        reader still in the log, and SQLite's busy handler sleeps in steps of up to 100 ms meanwhile,
        with the writers queued behind it. So this polls without the handler, briefly, and otherwise
        leaves the log to the next round (the PASSIVE before it has copied nearly all of it). Readers
        that never leave a gap would let the log grow: past four times `restart_bytes` it waits."""
        if self._log_bytes() > 4 * self.restart_bytes:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=0")
            try:
                for _ in range(RESTART_TRIES):
                    if conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()[0] == 0:
                        return
                    time.sleep(RESTART_PAUSE)
            finally:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    def _log_bytes(self) -> int:
        try:
            return self._log.stat().st_size if self._log is not None else 0
        except OSError:
            return 0


def configure(dbapi_conn, _record) -> None:
    """Each new connection's settings (a SQLAlchemy "connect" listener)."""
    # Let SQLAlchemy and write() issue BEGIN themselves instead of pysqlite's implicit transactions.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # the Database's checkpointer thread does it
    cursor.close()
