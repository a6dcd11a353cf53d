"""The request path's cost of logging and metrics: GetApps answered in process by the AWS gateway,
with the access line (JSON, at info) and the request metrics on, against both off, alternated.

Usage: .venv/bin/python benchmarks/observability.py [--calls N] [--rounds N]
Prints requests/s for each and the ratio on/off (target: at least 0.9, i.e. under 10% slower).
The server's own HTTP and the client are left out, so the ratio is the worst case: over the wire
the same cost is a smaller part of each call.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
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


def signed_get_apps(creds: dict) -> Request:
    request = AWSRequest(method="GET", url=f"http://{HOST}/v1/apps", headers={"Host": HOST})
    SigV4Auth(Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"]), "mobiletargeting",
              creds["region"]).add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    return Request("GET", "/v1/apps", "", headers, b"")


def rate(gateway: AwsGateway, request: Request, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        assert gateway.handle(request).status == 200
    return calls / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ctx = Context.open(Settings(data_dir=Path(tempfile.mkdtemp(prefix="pinfold-obs-"))))
    request = signed_get_apps(organization.bootstrap(ctx))
    gateway = AwsGateway(ctx)
    rate(gateway, request, 200)  # warm caches and the key cache
    off, on = [], []
    for _ in range(args.rounds):
        logs.configure("warning", "text", io.StringIO())
        with mock.patch.object(metrics, "observe_request", lambda *a: None):
            off.append(rate(gateway, request, args.calls))
        logs.configure("info", "json", io.StringIO())
        on.append(rate(gateway, request, args.calls))
    best_off, best_on = max(off), max(on)
    print(f"GetApps in process, {args.calls} calls x {args.rounds} rounds (best of each)")
    print(f"  logging and metrics off  {best_off:8,.0f} requests/s   (rounds: {', '.join(f'{r:,.0f}' for r in off)})")
    print(f"  logging and metrics on   {best_on:8,.0f} requests/s   (rounds: {', '.join(f'{r:,.0f}' for r in on)})")
    print(f"  on / off                 {best_on / best_off:8.2f} x   (target >= 0.90)")


if __name__ == "__main__":
    main()
