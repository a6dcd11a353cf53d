"""A channel's sending threads in a server or worker: one SendWorker per lane, so a campaign's
messages never hold up a transactional send, and a process may run either lane alone
(PINFOLD_SERVICES `sending`, `campaign-sending`)."""

from __future__ import annotations

from collections.abc import Callable

from pinfold.context import Context
from pinfold.sending import queue
from pinfold.sending.channel import Channel
from pinfold.sending.worker import SendWorker


class LaneWorkers:
    """Starts and stops a channel's workers of both lanes; `run_once()` is one pass of each (tests drive
    delivery with it). `channel_of(lanes)` makes each lane's channel; `closing` runs once both workers
    have stopped (what the lanes share, such as an adapter)."""

    def __init__(self, ctx: Context, name: str, channel_of: Callable[[tuple[int, ...]], Channel],
                 closing: Callable[[], None] | None = None) -> None:
        self.worker = SendWorker(ctx, channel_of((queue.TRANSACTIONAL,)))
        self.worker.name = f"{name}-sending"  # its threads and its log lines say which queue
        self.campaign_worker = SendWorker(ctx, channel_of((queue.CAMPAIGN,)))
        self.campaign_worker.name = f"{name}-campaign-sending"
        self._closing = closing
        self._started: list[SendWorker] = []

    def start(self, threads: int = 1, lanes: tuple[int, ...] = queue.LANES) -> LaneWorkers:
        """Start the workers of `lanes` (both, unless PINFOLD_SERVICES splits them)."""
        self._started = [worker for lane, worker in ((queue.TRANSACTIONAL, self.worker),
                                                     (queue.CAMPAIGN, self.campaign_worker)) if lane in lanes]
        for worker in self._started:
            worker.start(threads)
        return self

    def stop(self) -> None:
        self.campaign_worker.stop()
        self.worker.stop()
        if self._closing is not None:
            self._closing()

    def state(self) -> str:
        states = {worker.state() for worker in self._started}
        return "running" if states == {"running"} else "stopped"

    def run_once(self, *, now: float | None = None) -> int:
        """One pass of each lane: transactional messages, then a campaign's."""
        return self.worker.run_once(now=now) + self.campaign_worker.run_once(now=now)
