"""The custom channel's adapter: each call is an HTTPS POST of a JSON payload to the campaign's
DeliveryUri, signed (custom/rules/signing.py), up to `concurrency` at once.

What a receiver's answer means: 2xx delivered; 408, 425, 429, 5xx, a timeout or a connection that
fails transient (the pipeline tries again); any other answer permanent, a redirect too (Pinfold does
not follow one: the URL checked when the campaign was written is the only place the data goes). At
most 4 KB of the answer is read, for the detail.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from pinfold.sending.channel import Outcome

MAX_ANSWER_BYTES = 4096
TRANSIENT = frozenset({408, 425, 429})


@dataclass(frozen=True)
class OutgoingCall:
    id: str
    url: str
    body: bytes
    headers: dict[str, str]


class WebhookGateway:
    name = "webhook"

    def __init__(self, *, timeout: float, concurrency: int = 8, ca_bundle: str | None = None,
                 user_agent: str = "Pinfold-custom-channel/1") -> None:
        self.concurrency = concurrency
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, verify=ca_bundle or True,
                                    headers={"User-Agent": user_agent})

    def deliver(self, calls: list[OutgoingCall], acknowledged: Callable[[int, Outcome], bool | None]) -> None:
        """Make the calls, telling `acknowledged` each outcome as it comes (from the pool's threads);
        once it answers False no more calls start."""
        stopped = False

        def one(index: int) -> None:
            nonlocal stopped
            if stopped:
                return
            if acknowledged(index, self._call(calls[index])) is False:
                stopped = True

        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(calls)))) as pool:
            list(pool.map(one, range(len(calls))))

    def _call(self, call: OutgoingCall) -> Outcome:
        try:
            with self._client.stream("POST", call.url, content=call.body,
                                     headers={"Content-Type": "application/json", **call.headers}) as answer:
                text = _head(answer)
                status = answer.status_code
        except httpx.TimeoutException:
            return Outcome("transient", "the receiver did not answer in time")
        except httpx.HTTPError as error:
            return Outcome("transient", f"the call failed: {type(error).__name__}")
        detail = f"HTTP {status}" + (f": {text}" if text else "")
        if 200 <= status < 300:
            return Outcome("delivered", detail, code=status)
        if status in TRANSIENT or status >= 500:
            return Outcome("transient", detail, code=status)
        if 300 <= status < 400:
            return Outcome("permanent", f"HTTP {status}: the receiver redirected; Pinfold does not follow redirects",
                           code=status)
        return Outcome("permanent", detail, code=status)

    def close(self) -> None:
        self._client.close()


def _head(answer: httpx.Response) -> str:
    taken = b""
    for chunk in answer.iter_bytes():
        taken += chunk
        if len(taken) >= MAX_ANSWER_BYTES:
            break
    return taken[:MAX_ANSWER_BYTES].decode("utf-8", "replace").strip()
