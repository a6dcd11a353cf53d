"""SMS delivery inside a server or worker: the SMS channel on the sending pipeline, one SendWorker per
lane (transactional texts never wait behind a campaign's), beside email's and sharing nothing with it
but the database."""

from __future__ import annotations

from pinfold.context import Context
from pinfold.sending import queue
from pinfold.sending.worker import SendWorker
from pinfold.sms.adapters.base import SmsAdapter
from pinfold.sms.channel import SmsChannel


class SmsDelivery:
    """Starts and stops the SMS sending threads of both lanes; `run_once()` is one pass of each (tests
    drive delivery with it). A given `adapter` carries both lanes' texts and is closed here, once both
    workers have stopped."""

    def __init__(self, ctx: Context, adapter: SmsAdapter | None = None) -> None:
        self.ctx = ctx
        self.adapter = adapter
        self.channel = SmsChannel(ctx, adapter, lanes=(queue.TRANSACTIONAL,))
        self.worker = SendWorker(ctx, self.channel)
        self.worker.name = "sms-sending"  # its threads and its log lines say which queue
        self.campaign_worker = SendWorker(ctx, SmsChannel(ctx, adapter, lanes=(queue.CAMPAIGN,)))
        self.campaign_worker.name = "sms-campaign-sending"
        self._started: list[SendWorker] = []

    def start(self, threads: int = 1, lanes: tuple[int, ...] = queue.LANES) -> SmsDelivery:
        """Start the workers of `lanes` (both, unless PINFOLD_SERVICES splits them)."""
        self._started = [worker for lane, worker in ((queue.TRANSACTIONAL, self.worker),
                                                     (queue.CAMPAIGN, self.campaign_worker)) if lane in lanes]
        for worker in self._started:
            worker.start(threads)
        return self

    def stop(self) -> None:
        self.campaign_worker.stop()
        self.worker.stop()
        if self.adapter is not None:
            self.adapter.close()

    def state(self) -> str:
        states = {worker.state() for worker in self._started}
        return "running" if states == {"running"} else "stopped"

    def run_once(self, *, now: float | None = None) -> int:
        """One pass of each lane: transactional texts, then a campaign's."""
        return self.worker.run_once(now=now) + self.campaign_worker.run_once(now=now)
