"""What every push adapter (a push provider) accepts and reports: pushes ready to send in, one
`Outcome` per push out (sending/channel.py).

A push outcome reads the same whatever the provider:
- accepted: "delivered", with the provider's id for it in `remote_id` (APNs' `apns-id`, FCM's `name`);
- refused for good: "permanent" (a dead token, a payload too large, a bad header), never retried;
- not answered, throttled (429) or the provider's fault (5xx): "transient", for the pipeline to retry.

`code` is the provider's HTTP status and `enhanced` its error word (APNs' `reason`, FCM's
`errorCode`). A refusal's `detail` is a JSON string shaped like the `StatusMessage` Pinpoint gave for
a failed push (errorMessage, channelType, pushProviderStatusCode, pushProviderError,
pushProviderResponse), so it can be shown to Pinpoint clients as it is.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from pinfold.sending.channel import Acknowledged, Outcome

PLATFORMS = ("APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "GCM", "BAIDU", "ADM")
APNS_PLATFORMS = frozenset(PLATFORMS[:4])
# The provider errors that say the token will never work again, so its endpoint can be retired.
# BadDeviceToken is often a sandbox token sent to production, which is dead for that channel too.
DEAD_TOKEN_ERRORS = frozenset({"Unregistered", "ExpiredToken", "BadDeviceToken", "DeviceTokenNotForTopic",
                               "UNREGISTERED", "SENDER_ID_MISMATCH"})
# FCM answers a malformed token with the generic INVALID_ARGUMENT; only its message tells it apart.
_INVALID_FCM_TOKEN = "not a valid fcm registration token"
_DEAD_TOKEN_MESSAGE = "Unregistered or expired token"  # Pinpoint's errorMessage for one
_RESPONSE_CHARS = 1000


@dataclass(frozen=True)
class OutgoingPush:
    """One push as the provider gets it."""

    message_id: str  # Pinfold's id for the message
    token: str  # the device (APNs) or registration (FCM) token: the endpoint's Address
    platform: str  # one of PLATFORMS
    payload: dict  # APNs: the JSON body with "aps"; FCM: the v1 `message` without `token`
    headers: dict[str, str] = field(default_factory=dict)  # APNs: the apns-* headers chosen; FCM: none


class PushAdapter(Protocol):
    """Delivers batches of pushes; `deliver` returns one Outcome per push tried, in order, and before it
    returns has passed each one to `acknowledged` (when given) as it became known. Every push is tried
    unless `acknowledged` answers False."""

    name: str

    def deliver(self, pushes: list[OutgoingPush], acknowledged: Acknowledged | None = None) -> list[Outcome]: ...

    def close(self) -> None: ...


def dead_token(outcome: Outcome) -> bool:
    """Whether the provider declared the push's token dead (unregistered, expired, not a token)."""
    return outcome.status == "permanent" and _declares_dead(outcome.enhanced, outcome.detail)


def _declares_dead(error: str | None, text: str) -> bool:
    return error in DEAD_TOKEN_ERRORS or (error == "INVALID_ARGUMENT" and _INVALID_FCM_TOKEN in text.lower())


def refused(status: str, push: OutgoingPush, *, code: int | None, error: str | None, message: str,
            response: str = "", retry_after: str | None = None) -> Outcome:
    """The Outcome of a push the provider did not take: `status` is "permanent" or "transient", `error`
    the provider's error word, `message` what to tell people, `response` the provider's body."""
    detail = {
        "errorMessage": _DEAD_TOKEN_MESSAGE if _declares_dead(error, message) else message,
        "channelType": push.platform,
        "pushProviderStatusCode": "" if code is None else str(code),
        "pushProviderError": error or "",
        "pushProviderResponse": response[:_RESPONSE_CHARS],
    }
    if retry_after:
        detail["retryAfterSeconds"] = retry_after
    return Outcome(status, orjson.dumps(detail).decode(), code, error)


def answer_each(pushes: list[OutgoingPush], answer: Callable[[OutgoingPush], Outcome],
                acknowledged: Acknowledged | None) -> list[Outcome]:
    """Answer the pushes one after another, in order, stopping when `acknowledged` answers False."""
    outcomes = []
    for index, push in enumerate(pushes):
        outcome = answer(push)
        outcomes.append(outcome)
        if acknowledged is not None and acknowledged(index, outcome) is False:
            break
    return outcomes


class ConcurrentSender:
    """An asyncio loop on a thread of its own that sends a batch with up to `streams` requests in
    flight (one HTTP/2 connection carries them all) and hands each outcome to the caller's thread as
    it comes. A stream is free for the next push once the caller has been told the last one's outcome,
    not when the provider answered: so once `acknowledged` says stop, at most `streams` more pushes
    were already on their way, however far the caller's thread fell behind (the pipeline committing a
    group holds up new pushes only when `streams` outcomes wait for it)."""

    def __init__(self, name: str, streams: int) -> None:
        if streams < 1:
            raise ValueError("streams must be at least 1")
        self.streams = streams
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()
        # hpack logs whole header blocks at DEBUG, and ours carry provider tokens: keep them out of logs.
        hpack = logging.getLogger("hpack")
        hpack.setLevel(max(hpack.level, logging.INFO))

    def run(self, coroutine: Awaitable, timeout: float | None = None):
        """Run `coroutine` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def deliver(self, pushes: list[OutgoingPush], send: Callable[[OutgoingPush], Awaitable[Outcome]],
                acknowledged: Acknowledged | None) -> list[Outcome]:
        """`send` each push on the loop; outcomes in batch order. Once `acknowledged` answers False no
        more pushes are started (those in flight finish and are reported)."""
        finished: queue.SimpleQueue = queue.SimpleQueue()
        stop = threading.Event()
        slots = asyncio.Semaphore(self.streams)  # a push's slot is free again once its outcome is told
        running = asyncio.run_coroutine_threadsafe(self._send_all(pushes, send, finished, stop, slots), self.loop)
        outcomes: list[Outcome | None] = [None] * len(pushes)
        while (item := finished.get()) is not None:
            index, outcome = item
            outcomes[index] = outcome
            if acknowledged is not None and acknowledged(index, outcome) is False:
                stop.set()
            self.loop.call_soon_threadsafe(slots.release)
        running.result()
        # Pushes start in order and every started one finishes, so those tried are a prefix.
        return [outcome for outcome in outcomes if outcome is not None]

    def close(self, last: Callable[[], Awaitable] | None = None) -> None:
        """Run `last()` (closing the HTTP client) on the loop, then stop the loop and its thread."""
        if self.loop.is_closed():
            return
        try:
            if last is not None:
                self.run(last(), timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
            self.loop.close()

    async def _send_all(self, pushes, send, finished: queue.SimpleQueue, stop: threading.Event,
                        slots: asyncio.Semaphore) -> None:
        async def one(index: int, push: OutgoingPush) -> None:
            try:
                outcome = await send(push)
            except BaseException:
                slots.release()  # no outcome to tell: nobody else frees its slot
                raise
            finished.put((index, outcome))

        tasks = []
        try:
            for index, push in enumerate(pushes):
                await slots.acquire()
                if stop.is_set():
                    break
                tasks.append(asyncio.create_task(one(index, push)))
            failures = [result for result in await asyncio.gather(*tasks, return_exceptions=True)
                        if isinstance(result, BaseException)]
            if failures:
                raise failures[0]
        finally:
            finished.put(None)
