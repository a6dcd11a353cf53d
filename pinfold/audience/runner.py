"""The job runner: a background service that takes waiting (or abandoned) jobs one at a time."""

from __future__ import annotations

from pinfold.audience import jobs
from pinfold.context import Context
from pinfold.core.service import Service


class JobRunner(Service):
    """Runs import and export jobs; a job whose runner died is taken over once its heartbeat is
    older than PINFOLD_JOB_STALE_SECONDS, and resumes from its checkpoint."""

    name = "jobs"

    def __init__(self, ctx: Context, runners: jobs.Runners) -> None:
        super().__init__()
        self.ctx = ctx
        self.runners = runners

    def run_once(self) -> int:
        return int(jobs.run_next(self.ctx, self.runners))
