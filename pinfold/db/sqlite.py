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
RESTART_BYTES = 64 << 20  # a log past this size is started over
LOG_LIMIT_BYTES = 2 * RESTART_BYTES  # a log that grew past this (readers held it) is cut back to it then
WAL_HEADER_BYTES, FRAME_HEADER_BYTES = 32, 24  # the write-ahead log file's layout
GIVE_WAY_SECONDS = 0.05  # the longest bulk work waits for another thread's write (holds are ms)
RESTART_TRIES, RESTART_PAUSE = 8, 0.002  # starting the log over: tries per round, and the pause between them


class OneWriter:
    """SQLite's one writer at a time, queued for rather than polled for.

    SQLite's busy handler polls: a writer that finds the database locked sleeps, up to 100 ms at a
    time, and another process's next transaction usually takes the lock before it wakes. So writers
    queue instead: the threads of a process on a lock, and processes on an exclusive flock of a file
    beside the database. A writer then begins IMMEDIATE and finds SQLite's lock free (busy_timeout
    still covers writers outside Pinfold).

    A flock is not handed on in turn: the kernel wakes its waiters when it is let go, and the process
    that let go, still running, usually takes it again first. A busy campaign worker kept a server's
    SendEmail waiting through its transactions that way (the server's writers waited up to 117 ms,
    the worker's at most 6). So a process waits for the lock while holding a second one, the
    turnstile, and lets the turnstile go once it has the lock: a process that has just let the lock
    go queues at the turnstile behind the one already waiting, which goes next.

    A thread that holds the turn shares the interpreter with its process's other threads, and in a
    busy process each time it let the interpreter go (every statement it steps) it waited for one of
    them to let it go again: a campaign slice held the turn up to 240 ms for 15 ms of its own work,
    while a SendEmail in the server waited. Bulk work therefore calls `give_way()` between its steps
    (each message composed or recorded, each pump batch, each slice): while another thread of its
    process holds the turn and a writer of another process waits for it, it waits for the turn to end
    (at most GIVE_WAY_SECONDS). Nobody waiting, nothing changes: bulk work on its own is not slowed.

    The files are opened once per process (a forked child opens its own: a shared open file would
    share the lock); an in-memory database has no file and needs none.
    """

    def __init__(self, database: str | None) -> None:
        self._lock = threading.Lock()
        self._path = f"{database}.writer.lock" if database and database != ":memory:" else None
        self._opened = None
        self._pid = 0
        self._holder: int | None = None  # the thread of this process whose turn it is
        self._free = threading.Event()
        self._free.set()
        self._probe_lock = threading.Lock()

    def give_way(self) -> None:
        """Bulk work calls this between its steps: while another thread of this process holds the turn
        and another process's writer waits for it, wait (a bounded while) for it to end rather than
        compete with it for the interpreter."""
        holder = self._holder
        if holder is not None and holder != threading.get_ident() and self._another_process_waits():
            self._free.wait(GIVE_WAY_SECONDS)

    def _another_process_waits(self) -> bool:
        """Whether a writer of another process is waiting: it holds the turnstile while it does."""
        files = self._files()
        if files is None or not self._probe_lock.acquire(blocking=False):
            return False  # no file; or another thread of this process is asking this moment
        try:
            fcntl.flock(files[2], fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        else:
            fcntl.flock(files[2], fcntl.LOCK_UN)
            return False
        finally:
            self._probe_lock.release()

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._lock:
            files = self._files()
            if files is None:
                yield
                return
            lock, turnstile, _ = files
            fcntl.flock(turnstile, fcntl.LOCK_EX)  # each waits without the GIL
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
            finally:  # never kept: every other process would queue behind it for good
                fcntl.flock(turnstile, fcntl.LOCK_UN)
            self._holder = threading.get_ident()
            self._free.clear()
            try:
                yield
            finally:
                self._holder = None
                self._free.set()
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _files(self):
        if self._path is None:
            return None
        if self._pid != os.getpid():
            # Kept open for the process's life. The third, the turnstile opened again, asks whether another
            # process waits: a lock taken through the turn's own file would be taken as this process's.
            turnstile = f"{self._path}.turnstile"
            self._opened = (open(self._path, "a+b"), open(turnstile, "a+b"), open(turnstile, "a+b"))  # noqa: SIM115
            self._pid = os.getpid()
        return self._opened


class Checkpointer:
    """Copies SQLite's write-ahead log into the database file on its own thread.

    SQLite's automatic checkpoint runs inside whichever commit crosses its threshold, so a writer
    paid for copying everyone's pages; here no connection checkpoints automatically and this thread
    does it shortly after writes, and once at shutdown. PASSIVE never waits for anyone, but under
    constant writing the log never starts over; past `restart_bytes` a RESTART checkpoint makes the
    next writer write it from the start again (`_restart`). It takes its turn with the writers, and
    looks at the log's size again once it has it: every process's checkpointer sees the same long log,
    and only the first need start it over (two processes sending did it twice in a row, a few hundred
    ms of the one writer's time each).
    """

    def __init__(self, engine: Engine, writer: OneWriter, interval: float = 0.5,
                 restart_bytes: int = RESTART_BYTES) -> None:
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
                _, frames, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").first()
                written = frames * (conn.exec_driver_sql("PRAGMA page_size").scalar() + FRAME_HEADER_BYTES)
            if written > self.restart_bytes:
                begun = self._log_begun()
                with self.writer.turn():  # and once it is ours, the log may have started over (another process's)
                    if self._log_begun() == begun:
                        self._restart(written)
        except sa.exc.SQLAlchemyError:  # the next round tries again; SQLite stays consistent meanwhile
            pass

    def _restart(self, written: int) -> None:
        """Start the log over, holding the writers' turn for a few milliseconds.

        RESTART rather than TRUNCATE: the file keeps its size and is written again from the start, as
        cutting 64 MiB off a file took 17-20 ms on an idle machine and 35-66 ms on a busy one, every
        writer waiting (RESTART: under 1 ms). So the file's size is not the log's length, which the
        PASSIVE checkpoint reports. `journal_size_limit` cuts a log that readers let grow longer back
        to `LOG_LIMIT_BYTES` when it starts over.

        A RESTART waits for every reader still in the log, and SQLite's busy handler sleeps in steps
        of up to 100 ms meanwhile, with the writers queued behind it. So this polls without the
        handler, briefly, and otherwise leaves the log to the next round (the PASSIVE before it has
        copied nearly all of it). Readers that never leave a gap would let the log grow: past four
        times `restart_bytes` it waits."""
        if written > 4 * self.restart_bytes:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(RESTART)")
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=0")
            try:
                for _ in range(RESTART_TRIES):
                    if conn.exec_driver_sql("PRAGMA wal_checkpoint(RESTART)").first()[0] == 0:
                        return
                    time.sleep(RESTART_PAUSE)
            finally:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    def _log_begun(self) -> bytes:
        """The log's salts, which change when it starts over (at the first write after)."""
        if self._log is None:
            return b""
        try:
            with self._log.open("rb") as log:
                return log.read(WAL_HEADER_BYTES)[16:24]
        except OSError:  # no log yet
            return b""


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
    cursor.execute(f"PRAGMA journal_size_limit={LOG_LIMIT_BYTES}")  # what a longer log is cut back to
    cursor.close()
