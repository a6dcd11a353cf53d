"""SMS throughput: Pinpoint SendMessages through `pinfold serve` into a real Kannel, against Kannel's own
`sendsms` driven directly, in one run.

Usage: .venv/bin/python benchmarks/sms.py [--database sqlite|postgres] [--messages N] [--connections C]
                                         [--clients K]

One Kannel (bearerbox, smsbox, fakesmsc as the carrier, tests/kannel.py) serves every run; a text
counts as carried once fakesmsc has printed it. Two pairs, each like for like:
1. With delivery reports (Pinfold's default): Kannel's sendsms driven directly, C requests in flight,
   each asking for delivery reports to a small receiver; then Pinfold sending through the same
   sendsms (`connections=C`), its reports coming back into the server while it sends.
2. Without: the same, sendsms asked for no reports, and Pinfold with `reports=off`.
Pinfold's runs: `pinfold serve` with PINFOLD_SMS_GATEWAY at Kannel, the account out of the SMS
sandbox with a high spend maximum and a US long code, the project's SMS channel on; K boto3 threads
send SendMessages of 100 SMS addresses each. Rates run from the first request until fakesmsc has
printed the last text. Reported: each rate, each pair's ratio Pinfold / Kannel-direct (target >=
0.5) and the server's peak RSS (VmHWM). Needs Kannel (`apt-get install kannel kannel-extras`).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.servers import _pinfold, free_port, pinfold_server, postgres_database  # noqa: E402
from pinfold.sms.adapters.kannel import DLR_MASK  # noqa: E402
from tests import kannel  # noqa: E402

TARGET = 0.5
BATCH = 100  # SendMessages' most recipients in one request
BODY = "Your order has shipped and will arrive on Tuesday. Reply STOP to opt out."
ORIGINATION = "+12065550100"


def destinations(count: int) -> list[str]:
    """Distinct valid US numbers (Kannel and fakesmsc take any)."""
    return [f"+1{area}555{n:04d}" for area in (206, 425, 253, 360, 509) for n in range(10_000)][:count]


def wait_carried(carrier: kannel.Kannel, target: int, timeout: float = 150) -> float:
    """Seconds (monotonic clock) at which fakesmsc had printed `target` texts in all."""
    deadline = time.monotonic() + timeout
    while len(carrier.sent) < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"fakesmsc printed {len(carrier.sent)} of {target} texts in {timeout:.0f} s")
        time.sleep(0.01)
    return time.monotonic()


def report_receiver() -> tuple[str, http.server.ThreadingHTTPServer]:
    """A receiver that answers Kannel's delivery reports and does nothing else (the direct runs' end)."""
    class Receiver(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/report?status=%d", server


def kannel_direct(carrier: kannel.Kannel, numbers: list[str], connections: int, report_url: str | None) -> float:
    """Texts per second through sendsms alone, `connections` requests in flight, each asking for
    delivery reports to `report_url` (as Pinfold's adapter asks for them) unless it is None."""
    endpoint = f"http://127.0.0.1:{carrier.ports['sendsms']}/cgi-bin/sendsms"
    fixed = {"username": kannel.USER, "password": kannel.PASSWORD, "from": ORIGINATION, "text": BODY,
             "charset": "UTF-8", "coding": "0"}
    if report_url is not None:
        fixed.update({"dlr-mask": str(DLR_MASK), "dlr-url": report_url})
    before = len(carrier.sent)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    with httpx.Client(timeout=30, limits=limits) as client, ThreadPoolExecutor(connections) as pool:
        def send(number: str) -> None:
            answer = client.get(endpoint, params={**fixed, "to": number})
            if answer.status_code != 202:
                raise RuntimeError(f"sendsms answered {answer.status_code}: {answer.text}")

        started = time.monotonic()
        list(pool.map(send, numbers))
    return len(numbers) / (wait_carried(carrier, before + len(numbers)) - started)


def through_pinfold(carrier: kannel.Kannel, numbers: list[str], connections: int, clients: int,
                    database_url: str, reports: bool) -> tuple[float, float, int | None]:
    """(texts/s end to end, accepted/s, peak RSS in KiB) for SendMessages through `pinfold serve`."""
    gateway = f"{carrier.sendsms_url}?connections={connections}&reports={'on' if reports else 'off'}"
    with pinfold_server(database_url, PINFOLD_SMS_GATEWAY=gateway) as server:
        pinpoint = server.target.client()
        sms = _sms_client(server.target)
        env = {**os.environ, "PINFOLD_DATA_DIR": str(server.data_dir),
               **({"PINFOLD_DATABASE_URL": database_url} if database_url else {})}
        app = pinpoint.create_app(CreateApplicationRequest={"Name": "sms-bench"})["ApplicationResponse"]
        project, account_id = app["Id"], app["Arn"].split(":")[4]
        _pinfold(env, "accounts", "sms-production", account_id, "--max-spend", "1000000")
        number = sms.request_phone_number(IsoCountryCode="US", MessageType="TRANSACTIONAL",
                                          NumberCapabilities=["SMS"], NumberType="LONG_CODE")["PhoneNumber"]
        pinpoint.update_sms_channel(ApplicationId=project, SMSChannelRequest={"Enabled": True})
        batches = [numbers[i:i + BATCH] for i in range(0, len(numbers), BATCH)]
        local = [server.target.client() for _ in range(clients)]
        before = len(carrier.sent)

        def send(index: int) -> None:
            batch = batches[index]
            answer = local[index % clients].send_messages(ApplicationId=project, MessageRequest={
                "Addresses": {n: {"ChannelType": "SMS"} for n in batch},
                "MessageConfiguration": {"SMSMessage": {"Body": BODY, "OriginationNumber": number,
                                                        "MessageType": "TRANSACTIONAL"}}})
            results = answer["MessageResponse"]["Result"].values()
            refused = [r for r in results if r["DeliveryStatus"] != "SUCCESSFUL"]
            if refused:
                raise RuntimeError(f"{len(refused)} recipients refused: {refused[0]}")

        started = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(send, range(len(batches))))
        accepted = len(numbers) / (time.monotonic() - started)
        rate = len(numbers) / (wait_carried(carrier, before + len(numbers)) - started)
        return rate, accepted, server.peak_rss_kib()


def _sms_client(target):
    import boto3
    from botocore.config import Config

    return boto3.client("pinpoint-sms-voice-v2", endpoint_url=target.endpoint_url, region_name=target.region,
                        aws_access_key_id=target.access_key_id, aws_secret_access_key=target.secret_access_key,
                        config=Config(retries={"total_max_attempts": 1}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--connections", type=int, default=8, help="sendsms requests in flight, both runs")
    parser.add_argument("--clients", type=int, default=4, help="boto3 threads sending SendMessages")
    args = parser.parse_args()
    if not kannel.installed():
        sys.exit("Kannel is not installed (apt-get install kannel kannel-extras)")
    numbers = destinations(args.messages)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pinfold-sms-bench-")))
        ports = {name: free_port() for name in ("admin", "smsbox", "smsc", "sendsms")}
        carrier = kannel.Kannel(folder, ports, "http://127.0.0.1:9/inbound-unused")
        stack.callback(carrier.stop)
        carrier.start()
        receiver, server = report_receiver()
        stack.callback(server.shutdown)
        summary = {"database": args.database, "messages": args.messages, "connections": args.connections,
                   "clients": args.clients, "target": TARGET}
        for label, reports in (("with delivery reports", True), ("without delivery reports", False)):
            direct = kannel_direct(carrier, numbers, args.connections, receiver if reports else None)
            with ExitStack() as run:  # each Pinfold run on a database of its own, as a new installation
                database_url = run.enter_context(postgres_database()) if args.database == "postgres" else ""
                rate, accepted, peak = through_pinfold(carrier, numbers, args.connections, args.clients,
                                                       database_url, reports)
            ratio = rate / direct
            print(f"{label}:")
            print(f"  kannel sendsms direct, {args.connections} in flight: {direct:8,.0f} texts/s")
            print(f"  pinfold SendMessages ({args.database}, {args.clients} clients x {BATCH} addresses): "
                  f"{rate:8,.0f} texts/s end to end (accepted {accepted:,.0f}/s), peak RSS "
                  f"{(peak or 0) / 1024:.0f} MiB")
            print(f"  ratio pinfold / kannel-direct: {ratio:.2f}x (target >= {TARGET}x: "
                  f"{'met' if ratio >= TARGET else 'NOT met'})")
            key = "reports" if reports else "no_reports"
            summary[key] = {"kannel_direct": round(direct, 1), "pinfold": round(rate, 1),
                            "accepted": round(accepted, 1), "ratio": round(ratio, 3), "peak_rss_kib": peak}
        print(json.dumps(summary))

if __name__ == "__main__":
    main()
