"""The base of every background loop (sending, jobs, the event pump, later the scheduler).

A service does its work in passes: `run_once()` handles what is due and returns how much it did.
`start()` runs passes on daemon threads until `stop()`: after a pass that did nothing the loop
waits `idle_seconds`, after one that did something it goes on at once. A pass that raises is
logged and the loop goes on; what it left undone is picked up again by a later pass (each
service's own docstring says how). `enabled()` is asked before each pass: a service that runs once
per database (the pump) answers whether this process holds the lease.
"""

from __future__ import annotations

import logging
import threading
from typing import Self

log = logging.getLogger("pinfold.services")


class Service:
    name = "service"  # the threads' name, and what the log calls this loop
    idle_seconds = 0.5

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def run_once(self) -> int:
        """One pass; returns how much it handled (0 when there was nothing to do)."""
        raise NotImplementedError

    def enabled(self) -> bool:
        """Whether this process should run a pass now."""
        return True

    def stopped(self) -> None:
        """Called once by `stop()` after the threads have ended: release what the loop held."""

    def start(self, threads: int = 1) -> Self:
        self._threads = [threading.Thread(target=self._loop, name=f"pinfold-{self.name}-{n}", daemon=True)
                         for n in range(threads)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self.stopped()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def state(self) -> str:
        """What /ready reports: "running" while a loop thread is alive and not told to stop."""
        alive = any(thread.is_alive() for thread in self._threads)
        return "running" if alive and not self._stop.is_set() else "stopped"

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                handled = self.run_once() if self.enabled() else 0
            except Exception:  # a broken pass must not stop the loop; each service says what comes back
                log.exception("%s pass failed", self.name)
                handled = 0
            if not handled:
                self._stop.wait(self.idle_seconds)


class LeasedService(Service):
    """A service one process runs at a time per database (the event pump, the campaign scheduler):
    it runs passes only while it holds the database lease `lease_name`; the others stand by, and one
    takes over when the holder stops or dies (the lease dies with its process).

    Subclasses set `ctx` (whose `db.lease(name)` returns a lease or None), `lease_name` and `role`
    (what the log calls the work), and may override `took_lease()` to pick up what a dead holder left."""

    lease_name = "service"
    role = "service"

    def __init__(self) -> None:
        super().__init__()
        self._lease = None

    def enabled(self) -> bool:
        """Whether this process holds the lease now (taking it when it is free)."""
        if self._lease is not None and not self._lease.alive():
            log.warning("%s lost its lease; another server may take over", self.role)
            self._lease = None
        if self._lease is None:
            self._lease = self.ctx.db.lease(self.lease_name)
            if self._lease is not None:
                log.info("this server now runs the %s", self.role)
                self.took_lease()
        return self._lease is not None

    def took_lease(self) -> None:
        """Called once each time this process takes the lease."""

    def state(self) -> str:
        """Running and holding the lease ("leading"), or running while another process leads ("standby")."""
        state = super().state()
        if state != "running":
            return state
        return "leading" if self._lease is not None else "standby"

    def stopped(self) -> None:
        if self._lease is not None:
            self._lease.release()
            self._lease = None
