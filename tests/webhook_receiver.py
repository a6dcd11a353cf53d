"""A custom channel's webhook receiver on loopback, for the tests (the `receiver` fixture in conftest)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Receiver(http.server.BaseHTTPRequestHandler):
    """A tenant's webhook: answers the HEAD check for `account`, keeps each POST with its arrival time,
    and answers the statuses in `script` first, then 200."""

    account = ""
    calls: list[dict] = []
    script: list[int] = []

    def do_HEAD(self):  # noqa: N802 - the http.server naming
        self.send_response(200)
        self.send_header("X-Amz-Pinpoint-AccountId", self.account)
        self.end_headers()

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.calls.append({"at": time.time(), "path": self.path, "headers": dict(self.headers), "body": body})
        status = self.script.pop(0) if self.script else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@contextmanager
def serving() -> Iterator[tuple[str, type[Receiver]]]:
    """(base URL, the Receiver class holding what it got) while the receiver runs."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", Receiver
    finally:
        server.shutdown()
        server.server_close()
        Receiver.calls, Receiver.script, Receiver.account = [], [], ""
