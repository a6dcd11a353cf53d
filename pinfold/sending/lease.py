"""A sending pass's hold on the messages it claimed: a short lease that a heartbeat renews, and the
recorder that writes outcomes down in small groups while the adapter (an SMTP relay, a carrier)
acknowledges them.

The lease's expiry (the messages' `due_at`) is the fencing token: a message is ours while it is
still `sending` with exactly that expiry. A live pass renews it every quarter lease, so nobody
takes its messages; a dead one stops renewing, and its messages are due again when the lease runs
out. A group is recorded only for the messages still held, in one transaction with its events.

If the process dies, what the adapter accepted but no committed group records is sent again: at
most one group plus one message per adapter connection (a connection's next outcome waits while a
group commits, so no more can pile up).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("pinfold.sending")


class Lease:
    """The claim on one pass's messages; `beat()` keeps it alive on a thread until `end()`. `queue`
    is the channel whose messages they are (its `renew` moves the hold)."""

    def __init__(self, db, queue, ids: list[str], expires: float, *, seconds: float, renew_for: float) -> None:
        self.db = db
        self.queue = queue
        self.ids = ids
        self.expires = expires  # the fencing token; changed only under `lock`
        self.seconds = seconds
        self.renew_until = time.time() + renew_for  # a wedged pass lets go eventually
        self.lock = threading.Lock()  # held while recording, so a renewal never moves the token mid-check
        self._ended = threading.Event()
        self._gave_up = False
        self._thread: threading.Thread | None = None

    def beat(self) -> Lease:
        self._thread = threading.Thread(target=self._beat, name="pinfold-lease", daemon=True)
        self._thread.start()
        return self

    def holding(self) -> bool:
        """True while the messages are still ours: renewed in time, and not past the pass's limit."""
        return not self._gave_up and time.time() < self.expires

    def end(self) -> None:
        self._ended.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def renew(self) -> int:
        """Extend the lease on the messages still held; never shortens it (a test's pass may run on a
        clock ahead of this one). Returns how many messages were renewed."""
        until = time.time() + self.seconds
        with self.lock:
            if until <= self.expires:
                return 0
            with self.db.write() as conn:
                renewed = self.queue.renew(conn, self.ids, held_until=self.expires, until=until)
            self.expires = until
        return renewed

    def _beat(self) -> None:
        while not self._ended.wait(self.seconds / 4):
            if time.time() >= self.renew_until:
                self._gave_up = True
                log.warning("a sending pass ran past its time; its %d message(s) will be taken over", len(self.ids))
                return
            try:
                self.renew()
            except Exception:  # the database may come back before the lease runs out
                log.exception("could not renew the lease on %d message(s)", len(self.ids))


class Recorder:
    """Collects finished messages and records them in groups of `size` (sooner when an outcome finds
    the oldest waiting `seconds`), each group in one transaction under the lease. Safe to call from
    adapter threads; what is left is recorded by `close()` at the end of the pass."""

    def __init__(self, lease: Lease, write: Callable[[list, float], None], *, size: int, seconds: float) -> None:
        self.lease = lease
        self.write = write  # write(group, the lease's token): records one group in a transaction of its own
        self.size, self.seconds = size, seconds
        self.failed: BaseException | None = None
        self._pending: list = []
        self._oldest = 0.0
        self._lock = threading.Lock()
        self._closed = False

    def add(self, item) -> bool:
        """Take a finished message; False when no more should be sent in this pass, because what is
        sent now could not be recorded (a group failed to commit, or the lease is gone): those
        messages stay claimed and are sent once, by whoever takes them over."""
        self.lease.db.give_way()
        with self._lock:  # held while a full group commits: the bound on what a crash repeats
            if self._closed:
                return False
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.append(item)
            if len(self._pending) >= self.size or time.monotonic() - self._oldest >= self.seconds:
                self._commit()
            return self.accepting()

    def accepting(self) -> bool:
        """True while what is sent now can still be recorded by this pass."""
        return not self._closed and self.failed is None and self.lease.holding()

    def close(self) -> None:
        """Record what is left; later additions (an adapter thread still finishing) are dropped: their
        messages come back when the lease runs out."""
        with self._lock:
            self._commit()
            self._closed = True

    def _commit(self) -> None:
        group, self._pending = self._pending, []
        if not group or self.failed is not None:
            return
        try:
            with self.lease.lock:
                self.write(group, self.lease.expires)
        except Exception as error:  # never into the adapter's thread: the pass reports it at the end
            self.failed = error
