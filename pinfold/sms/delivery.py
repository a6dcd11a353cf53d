"""SMS delivery inside a server or worker: the SMS channel on the sending pipeline (a SendWorker of
its own beside email's, sharing nothing but the database)."""

from __future__ import annotations

from pinfold.context import Context
from pinfold.sending.worker import SendWorker
from pinfold.sms.adapters.base import SmsAdapter
from pinfold.sms.channel import SmsChannel


class SmsDelivery:
    """Starts and stops the SMS sending threads; `run_once()` is one pass (tests drive delivery with it)."""

    def __init__(self, ctx: Context, adapter: SmsAdapter | None = None) -> None:
        self.ctx = ctx
        self.channel = SmsChannel(ctx, adapter)
        self.worker = SendWorker(ctx, self.channel)
        self.worker.name = "sms-sending"  # its threads and its log lines say which queue

    def start(self, threads: int = 1) -> SmsDelivery:
        self.worker.start(threads)
        return self

    def stop(self) -> None:
        self.worker.stop()  # and with it the channel's adapter

    def state(self) -> str:
        return self.worker.state()

    def run_once(self, *, now: float | None = None) -> int:
        return self.worker.run_once(now=now)
