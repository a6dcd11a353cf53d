"""The background runner inside `pinfold serve`: takes waiting jobs one at a time."""

from __future__ import annotations

import logging
import threading

from pinfold.audience import (
    exports,  # noqa: F401  (importing them registers their runners)
    jobs,
)
from pinfold.context import Context

log = logging.getLogger("pinfold.runner")


class JobRunner:
    """A daemon thread that runs import jobs (and resumes abandoned ones) until stopped."""

    def __init__(self, ctx: Context, idle_seconds: float = 0.5) -> None:
        self.ctx = ctx
        self.idle_seconds = idle_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pinfold-jobs", daemon=True)

    def start(self) -> JobRunner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = jobs.run_next(self.ctx)
            except Exception:  # a broken job must not stop the runner; the job stays claimable
                log.exception("job runner error")
                ran = False
            if not ran:
                self._stop.wait(self.idle_seconds)
