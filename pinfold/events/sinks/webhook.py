"""HTTPS webhooks: where an SES EventBridge destination's events go (the operator maps each bus to a
URL; whoever posts hands in how to find the mapping).

One POST per batch, a JSON array of SES-shaped events. When the mapping has a secret, each POST is
signed over its send time and its body (README, "Verifying webhook calls"):

    X-Pinfold-Timestamp: <Unix seconds when this attempt was sent>
    X-Pinfold-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

so a receiver can tell the events came from this installation and refuse a recorded request played
again later. Anything but a 2xx answer fails the batch, which the pump tries again later (signed
afresh); receivers should de-duplicate by `pinfold.event_id`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import orjson

TIMEOUT = 10.0
SIGNATURE_VERSION = "v1"


# event bus ARN → (url, secret or None) of the webhook standing in for it, or None if unmapped
WebhookLookup = Callable[[str], tuple[str, str | None] | None]


def post_webhook(lookup: WebhookLookup, event_bus_arn: str, events: list[dict]) -> None:
    """POST the events to the webhook `lookup` finds for the bus; raises RuntimeError if none is mapped."""
    found = lookup(event_bus_arn)
    if found is None:
        raise RuntimeError(f"no webhook is mapped for {event_bus_arn} (pinfold webhooks set)")
    url, secret = found
    deliver(url, secret, event_bus_arn, events)


def deliver(url: str, secret: str | None, event_bus_arn: str, events: list[dict], now: float | None = None) -> None:
    """POST the events to `url`, signed when there is a secret; raises RuntimeError unless it answers 2xx."""
    body = orjson.dumps(events)
    headers = {"Content-Type": "application/json", "User-Agent": "pinfold-webhooks",
               "X-Pinfold-Event-Bus": event_bus_arn}
    if secret:
        headers.update(signature_headers(secret, body, time.time() if now is None else now))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - an operator's https URL
            response.read()
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"webhook {url} answered {error.code}") from None


def signature_headers(secret: str, body: bytes, now: float) -> dict[str, str]:
    """The timestamp and signature headers of a POST of `body` sent at `now`."""
    timestamp = str(int(now))
    signature = f"{SIGNATURE_VERSION}={sign(secret, timestamp, body)}"
    return {"X-Pinfold-Timestamp": timestamp, "X-Pinfold-Signature": signature}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.<body>`: the timestamp is signed, so it cannot be changed."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
