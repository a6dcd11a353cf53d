"""Webhook POSTs to a real local HTTP receiver that checks them as the README tells receivers to:
the signature covers the timestamp and the body, so neither can be changed or replayed late."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pinfold.events.sinks.webhook import deliver

SECRET = "whsec-test"
BUS = "arn:aws:events:us-east-1:000000000001:event-bus/ses"
TOLERANCE = 300


def verify(secret: str, headers: dict, body: bytes, now: float) -> bool:
    """The README's receiver recipe, written out independently of Pinfold's code."""
    timestamp, signature = headers.get("X-Pinfold-Timestamp", ""), headers.get("X-Pinfold-Signature", "")
    if not timestamp.isdigit() or not signature.startswith("v1="):
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature[3:], expected) and abs(now - int(timestamp)) <= TOLERANCE


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []
    status = 204

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received, _Receiver.status = [], 204
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Receiver
    server.shutdown()
    server.server_close()


EVENTS = [{"eventType": "Send", "mail": {"messageId": "m-1"}, "pinfold": {"event_id": "e-1"}}]


def test_the_signature_covers_the_timestamp_and_the_body(receiver):
    url, hook = receiver
    deliver(url, SECRET, BUS, EVENTS)
    [(headers, body)] = hook.received
    now = time.time()
    assert json.loads(body) == EVENTS and headers["X-Pinfold-Event-Bus"] == BUS
    assert abs(int(headers["X-Pinfold-Timestamp"]) - now) <= 5
    assert verify(SECRET, headers, body, now)
    moved = str(int(headers["X-Pinfold-Timestamp"]) + 1)  # a replay dressed up as fresh
    assert not verify(SECRET, {**headers, "X-Pinfold-Timestamp": moved}, body, now)
    assert not verify(SECRET, headers, body.replace(b"m-1", b"m-2"), now)
    assert not verify("another-secret", headers, body, now)


def test_a_recorded_request_played_again_later_is_refused(receiver):
    url, hook = receiver
    sent_at = time.time() - 3600
    deliver(url, SECRET, BUS, EVENTS, now=sent_at)
    [(headers, body)] = hook.received
    assert headers["X-Pinfold-Timestamp"] == str(int(sent_at))
    assert verify(SECRET, headers, body, sent_at + 1)  # genuine when it was sent
    assert not verify(SECRET, headers, body, time.time())  # stale now


def test_each_attempt_is_signed_afresh_and_unsigned_without_a_secret(receiver):
    url, hook = receiver
    deliver(url, SECRET, BUS, EVENTS, now=1_800_000_000)
    deliver(url, SECRET, BUS, EVENTS, now=1_800_000_060)
    first, second = (headers for headers, _ in hook.received)
    assert first["X-Pinfold-Signature"] != second["X-Pinfold-Signature"]
    deliver(url, None, BUS, EVENTS)
    assert "X-Pinfold-Signature" not in hook.received[-1][0] and "X-Pinfold-Timestamp" not in hook.received[-1][0]


def test_a_refusing_receiver_fails_the_batch(receiver):
    url, hook = receiver
    hook.status = 401
    with pytest.raises(RuntimeError, match="answered 401"):
        deliver(url, SECRET, BUS, EVENTS)
