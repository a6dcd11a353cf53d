"""Email delivery inside a server: the email channel on the sending pipeline, and the feedback listener.

Each lane of the queue has its worker and its channel (with its own relay connections): a SendEmail
is claimed and relayed while a campaign's pass is still on its way, never behind it.

The mailbox simulator reports complaints while it delivers, before the worker has recorded the
message; those reports wait in a queue and are recorded after each pass (EmailChannel.after_pass).
DSNs and ARF reports from the feedback listener are recorded as they arrive.
"""

from __future__ import annotations

import logging

from pinfold.context import Context
from pinfold.email import feedback
from pinfold.email.channel import EmailChannel
from pinfold.sending import queue
from pinfold.sending.worker import SendWorker

log = logging.getLogger("pinfold.sending")


class EmailDelivery:
    def __init__(self, ctx: Context, *, listen: bool = True) -> None:
        self.ctx = ctx
        self.channel = EmailChannel(ctx, lanes=(queue.TRANSACTIONAL,))
        self.relays = self.channel.relays
        self.worker = SendWorker(ctx, self.channel)
        self.campaign_channel = EmailChannel(ctx, lanes=(queue.CAMPAIGN,))
        self.campaign_worker = SendWorker(ctx, self.campaign_channel)
        self.campaign_worker.name = "campaign-sending"  # its threads and its log lines say which lane
        self._started: list[SendWorker] = []
        self.listener = None
        if listen and ctx.settings.feedback_smtp:
            from pinfold.email.adapters.inbound import FeedbackListener

            host, _, port = ctx.settings.feedback_smtp.rpartition(":")
            self.listener = FeedbackListener(host or "127.0.0.1", int(port),
                                             lambda report: feedback.record_report(ctx, report))

    def start(self, lanes: tuple[int, ...] = queue.LANES) -> EmailDelivery:
        """Start the listener and the workers of `lanes` (both, unless PINFOLD_SERVICES splits them)."""
        if self.listener is not None:
            self.listener.start()
            log.info("receiving bounce and complaint reports by SMTP on port %s", self.listener.port)
        self._started = [worker for lane, worker in ((queue.TRANSACTIONAL, self.worker),
                                                     (queue.CAMPAIGN, self.campaign_worker)) if lane in lanes]
        for worker in self._started:
            worker.start(self.ctx.settings.email_workers)
        return self

    def stop(self) -> None:
        self.campaign_worker.stop()  # and with each worker its channel: signing threads and relays
        self.worker.stop()
        if self.listener is not None:
            self.listener.stop()

    def state(self) -> str:
        states = {worker.state() for worker in self._started}
        return "running" if states == {"running"} else "stopped"

    def run_once(self, *, now: float | None = None) -> int:
        """One sending pass of each lane (transactional, then campaign) and the reports they caused
        (tests drive delivery with this)."""
        return self.worker.run_once(now=now) + self.campaign_worker.run_once(now=now)

    def drain(self) -> None:
        """Record the reports the adapters gave since the last pass."""
        self.channel.after_pass()
        self.campaign_channel.after_pass()
