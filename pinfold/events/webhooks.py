"""HTTPS webhooks: where an SES EventBridge destination's events go (the operator maps each bus to a URL).

One POST per batch, a JSON array of SES-shaped events. When the mapping has a secret, the body is
signed: `X-Pinfold-Signature: sha256=<hex HMAC-SHA256 of the body>`, so the receiver can tell the
events came from this installation. Anything but a 2xx answer fails the batch, which the pump tries
again later; receivers should de-duplicate by `pinfold.event_id`.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request

import orjson

TIMEOUT = 10.0


def post_webhook(ctx, event_bus_arn: str, events: list[dict]) -> None:
    from pinfold.services.configuration_sets import webhook_target

    found = webhook_target(ctx, event_bus_arn)
    if found is None:
        raise RuntimeError(f"no webhook is mapped for {event_bus_arn} (pinfold webhooks set)")
    url, secret = found
    body = orjson.dumps(events)
    headers = {"Content-Type": "application/json", "User-Agent": "pinfold-webhooks",
               "X-Pinfold-Event-Bus": event_bus_arn}
    if secret:
        headers["X-Pinfold-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - an operator's https URL
            response.read()
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"webhook {url} answered {error.code}") from None
