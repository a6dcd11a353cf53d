"""How a custom-channel webhook call is signed, so its receiver can tell it came from Pinfold and is
fresh. Pure: no clock, no I/O.

The header `X-Pinfold-Signature: t=<unix seconds>,v1=<hex>` carries the time of signing and an
HMAC-SHA256, under the project's (or sa-sp tenant's) signing key, of the time, a dot and the raw
body. A receiver recomputes it over the body it got, compares in constant time, and refuses a time
outside its tolerance (five minutes is usual), which is what stops a recorded call being replayed;
remembering the ids of calls it took (`X-Pinfold-Call-Id`) stops a replay within the tolerance too.
`verify` is that check, for receivers written in Python and for the tests.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Pinfold-Signature"
CALL_ID_HEADER = "X-Pinfold-Call-Id"
SCHEME = "v1"
TOLERANCE_SECONDS = 300


def signature(key: bytes, timestamp: int, body: bytes) -> str:
    """The header value for `body` signed at `timestamp`."""
    digest = hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},{SCHEME}={digest}"


def verify(key: bytes, header: str, body: bytes, *, now: float, tolerance: float = TOLERANCE_SECONDS) -> bool:
    """Whether `header` signs `body` with `key` at a time within `tolerance` seconds of `now`."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(key, timestamp, body).split(",", 1)[1].split("=", 1)[1]
    return hmac.compare_digest(expected, parts.get(SCHEME, ""))
