"""Telling PINFOLD_REPUTATION_WEBHOOK of each reputation finding: a signed JSON POST, sent from a thread of
its own and tried again when the receiver is down or busy.

The tally runs in the event pump, and a POST made there held the pump for as long as the receiver took
(up to the timeout) and was lost on the first refusal. Now the tally hands the finding over and goes
on; this sends it, each try signed afresh (`X-Pinfold-Signature`, as custom channels sign: the key is
`pinfold custom signing-key`'s derivation for "reputation-webhook"), up to TRIES times, waiting
RETRY_SECONDS[i] before try i+2. An answer means what it means for a custom channel's call
(custom/adapters/webhook.py): a 2xx is told; 408, 425, 429, 5xx, a timeout and an unreachable receiver
are tried again; any other answer, a redirect too, is given up at once. What waits is bounded
(QUEUE_LIMIT findings) and kept in memory only: every finding is also a `_reputation.finding` record
in the stream and the lake and a history row, which is where an operator looks for what the webhook
missed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

import orjson

from pinfold.custom.adapters.webhook import OutgoingCall, WebhookGateway
from pinfold.custom.rules import signing
from pinfold.sending.channel import Outcome

log = logging.getLogger("pinfold.reputation")

TIMEOUT_SECONDS = 5.0
TRIES = 4
RETRY_SECONDS = (1.0, 5.0, 25.0)  # before the second, third and fourth try
QUEUE_LIMIT = 1_000


class FindingsWebhook:
    def __init__(self, url: str, key: bytes, *, retry_seconds: tuple[float, ...] = RETRY_SECONDS) -> None:
        self.url, self._key, self._retry_seconds = url, key, retry_seconds
        self._waiting: queue.Queue[bytes] = queue.Queue(QUEUE_LIMIT)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pinfold-reputation-webhook", daemon=True)
        self._thread.start()

    def tell(self, finding: dict) -> None:
        """Queue a finding to be sent; never waits."""
        try:
            self._waiting.put_nowait(orjson.dumps(finding))
        except queue.Full:
            log.warning("the reputation webhook is %d findings behind: a finding was not sent (it is in the "
                        "stream, the lake and the reputation history)", QUEUE_LIMIT)

    def close(self, wait: float = 2.0) -> None:
        """Stop; what is still waiting after `wait` seconds is not sent (and said so)."""
        deadline = time.monotonic() + wait
        while not self._waiting.empty() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stopping.set()
        self._thread.join(TIMEOUT_SECONDS + 1)
        left = self._waiting.qsize()
        if left:
            log.warning("%d reputation finding(s) were not sent to the webhook before stopping", left)

    def _loop(self) -> None:
        gateway = WebhookGateway(timeout=TIMEOUT_SECONDS, concurrency=1, user_agent="Pinfold-reputation/1")
        try:
            while not self._stopping.is_set():
                try:
                    body = self._waiting.get(timeout=0.2)
                except queue.Empty:
                    continue
                self._send(gateway, body)
        finally:
            gateway.close()

    def _send(self, gateway: WebhookGateway, body: bytes) -> None:
        """Up to TRIES tries; what an answer means is the custom channel's rule (its WebhookGateway)."""
        for attempt in range(TRIES):
            if attempt and self._stopping.wait(self._retry_seconds[min(attempt, len(self._retry_seconds)) - 1]):
                return
            call = OutgoingCall("finding", self.url, body,
                                {signing.HEADER: signing.signature(self._key, int(time.time()), body)})
            outcome = _call_once(gateway, call)
            if outcome.status == "delivered":
                return
            if outcome.status == "permanent":
                log.warning("the reputation webhook refused a finding (%s); it is not tried again", outcome.detail)
                return
            log.warning("the reputation webhook could not take a finding (%s), try %d of %d", outcome.detail,
                        attempt + 1, TRIES)


def _call_once(gateway: WebhookGateway, call: OutgoingCall) -> Outcome:
    answered: list[Outcome] = []
    gateway.deliver([call], lambda _index, outcome: answered.append(outcome))
    return answered[0]
