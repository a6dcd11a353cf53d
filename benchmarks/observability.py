"""The request path's cost of logging and metrics: GetApps with the access line (JSON, at info) and
the request metrics on, against both off, alternated, measured two ways in one run:

- over HTTP, as clients see it: Pinfold's ASGI app under uvicorn (httptools, uvloop) in this
  process, and a client process sending signed GetApps calls on one keep-alive connection;
- in process: the AWS gateway alone, no HTTP and no client, so the same cost is the largest share
  of each call it can be (the worst case).

Usage: .venv/bin/python benchmarks/observability.py [--calls N] [--rounds N]
Prints requests/s for each and the ratio on/off (target: at least 0.9, i.e. under 10% slower).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from pinfold.api.gateway import AwsGateway, Request  # noqa: E402
from pinfold.config import Settings  # noqa: E402
from pinfold.context import Context  # noqa: E402
from pinfold.core import logs, metrics  # noqa: E402
from pinfold.tenancy import organization  # noqa: E402

HOST = "127.0.0.1:8080"


def signed_headers(creds: dict, host: str = HOST) -> dict:
    """A GetApps call's headers, signed with SigV4 (valid for the few minutes a run takes)."""
    request = AWSRequest(method="GET", url=f"http://{host}/v1/apps", headers={"Host": host})
    SigV4Auth(Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"]), "mobiletargeting",
              creds["region"]).add_auth(request)
    return {name: value for name, value in request.headers.items()}


def signed_get_apps(creds: dict) -> Request:
    headers = {name.lower(): value for name, value in signed_headers(creds).items()}
    return Request("GET", "/v1/apps", "", headers, b"")


def rate(gateway: AwsGateway, request: Request, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        assert gateway.handle(request).status == 200
    return calls / (time.perf_counter() - started)


TARGET = 0.90  # logging and metrics on must keep at least this share of the requests/s

# The client: one keep-alive connection sending the same signed GetApps `calls` times; prints the seconds.
CLIENT = """
import http.client, json, sys, time
port, calls, headers = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
connection = http.client.HTTPConnection("127.0.0.1", port)
started = time.perf_counter()
for _ in range(calls):
    connection.request("GET", "/v1/apps", headers=headers)
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 200, answer.status
print(time.perf_counter() - started)
"""


def _switched(on: bool):
    """Logging at info as JSON with the request metrics, or at warning without them."""
    logs.configure("info" if on else "warning", "json" if on else "text", io.StringIO())
    return contextlib.nullcontext() if on else mock.patch.object(metrics, "observe_request", lambda *a: None)


def _alternated(rounds: int, rate_now) -> tuple[list[float], list[float]]:
    """`rate_now()` measured with both off and on, `rounds` times, neither always first."""
    off, on = [], []
    for round_number in range(rounds):
        for measuring_on in ((False, True) if round_number % 2 == 0 else (True, False)):
            with _switched(measuring_on):
                (on if measuring_on else off).append(rate_now())
    return off, on


def _summary(off: list[float], on: list[float], **about) -> dict:
    return {**about, "off_requests_per_s": round(max(off), 1), "on_requests_per_s": round(max(on), 1),
            "ratio": round(max(on) / max(off), 3), "rounds_off": [round(r) for r in off],
            "rounds_on": [round(r) for r in on]}


def _over_http(ctx: Context, creds: dict, calls: int, rounds: int) -> dict:
    import uvicorn

    from pinfold.bootstrap import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, http="httptools", loop="uvloop"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    headers = signed_headers(creds, f"127.0.0.1:{port}")

    def rate_now() -> float:
        done = subprocess.run([sys.executable, "-c", CLIENT, str(port), str(calls), json.dumps(headers)],
                              capture_output=True, text=True, check=True)
        return calls / float(done.stdout)

    try:
        rate_now()  # warm up
        return _summary(*_alternated(rounds, rate_now), calls=calls, rounds=rounds)
    finally:
        server.should_exit = True
        thread.join(10)


def measure(calls: int = 3000, rounds: int = 3) -> dict:
    """Requests/s with the access line and request metrics off and on, over HTTP and in process,
    alternated `rounds` times (best of each), with their ratios."""
    ctx = Context.open(Settings(data_dir=Path(tempfile.mkdtemp(prefix="pinfold-obs-"))))
    try:
        creds = organization.bootstrap(ctx)
        gateway, request = AwsGateway(ctx), signed_get_apps(creds)
        rate(gateway, request, 200)  # warm caches and the key cache
        in_process = _summary(*_alternated(rounds, lambda: rate(gateway, request, calls)), calls=calls, rounds=rounds)
        over_http = _over_http(ctx, creds, calls, rounds)
    finally:
        logs.configure("info", "text")
        ctx.close()
    return {"operation": "GetApps", "target": TARGET, "over_http": over_http, "in_process": in_process}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from benchmarks.report import observed_lines

    print("\n".join(observed_lines(measure(args.calls, args.rounds))))


if __name__ == "__main__":
    main()
