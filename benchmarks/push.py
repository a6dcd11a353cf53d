"""Push throughput: Pinpoint SendMessages through `pinfold serve` into an APNs fake over HTTP/2, against a
bare HTTP/2 client driving the same fake at the same concurrency, in one run.

Usage: .venv/bin/python benchmarks/push.py [--database sqlite|postgres] [--pushes N] [--streams S]
                                          [--clients K]

The fake is tests/push_fakes.FakeApns (TLS with a certificate made for the run, ALPN h2, the ES256
provider token checked on every request) in a process of its own, so neither side shares its
interpreter with it. It counts the pushes it accepted (GET /count).
1. Baseline: one httpx HTTP/2 client sends N pushes with S requests in flight, a provider token
   signed once, the same headers and a payload of the size Pinfold sends.
2. Pinfold: `pinfold serve` with PINFOLD_PUSH_DELIVERY=providers and its APNs addresses at the fake;
   the project's APNs channel holds a token key; K boto3 threads send SendMessages of 100 APNS
   addresses each. The rate runs from the first request until the fake has accepted the last push.
Reported: both rates, the ratio Pinfold / bare client (target >= 0.5) and the server's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.servers import pinfold_server, postgres_database  # noqa: E402
from pinfold.push.adapters import jwt  # noqa: E402
from pinfold.push.rules import payload  # noqa: E402

TARGET = 0.5
BATCH = 100  # SendMessages' most recipients in one request
MESSAGE = {"Title": "Your order shipped", "Body": "It arrives on Tuesday. Tap to follow it.", "Sound": "default"}


def _serve_fake(bundle: str, public_pem: str, ready, stop) -> None:
    """The child process: the APNs fake, with GET /count answering how many pushes it accepted."""
    import trustme
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from tests import push_fakes

    class Counted(push_fakes.FakeApns):
        def answer(self, scope, headers, body):
            if scope["method"] == "GET" and scope["path"] == "/count":
                return 200, {"content-type": "application/json"}, {"count": len(self.pushes)}
            return super().answer(scope, headers, body)

    authority = trustme.CA()
    authority.cert_pem.write_to_path(bundle)
    with push_fakes.serving(Counted(load_pem_public_key(public_pem.encode())), ca=authority) as url:
        ready.send(url)
        stop.wait()


def _count(url: str, bundle: str) -> int:
    with httpx.Client(http2=True, http1=False, verify=bundle) as client:
        return client.get(f"{url}/count").json()["count"]


def _wait_for(url: str, bundle: str, target: int, timeout: float = 300) -> float:
    deadline = time.monotonic() + timeout
    while (count := _count(url, bundle)) < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the fake accepted {count} of {target} pushes in {timeout:.0f} s")
        time.sleep(0.05)
    return time.monotonic()


def bare_client(url: str, bundle: str, key_pem: str, tokens: list[str], streams: int) -> float:
    """Pushes/s for one HTTP/2 client sending every token with `streams` requests in flight."""
    from tests.push_fakes import BUNDLE_ID, KEY_ID, TEAM_ID

    built = payload.apns(MESSAGE, {"campaign_id": "_DIRECT"})
    body = orjson.dumps(built.payload)
    key = jwt.load_key(key_pem, "ES256", "APNs signing key")
    headers = {**built.headers, "apns-topic": BUNDLE_ID,
               "authorization": f"bearer {jwt.sign({'iss': TEAM_ID, 'iat': int(time.time())}, key, KEY_ID)}"}

    async def run() -> float:
        slots = asyncio.Semaphore(streams)
        async with httpx.AsyncClient(http2=True, http1=False, verify=bundle) as client:
            async def one(token: str) -> None:
                async with slots:
                    answer = await client.post(f"{url}/3/device/{token}", content=body, headers=headers)
                    if answer.status_code != 200:
                        raise RuntimeError(f"the fake refused a push: {answer.status_code} {answer.text}")

            started = time.monotonic()
            await asyncio.gather(*(one(token) for token in tokens))
            return len(tokens) / (time.monotonic() - started)

    return asyncio.run(run())


def through_pinfold(url: str, bundle: str, key_pem: str, tokens: list[str], clients: int,
                    database_url: str) -> tuple[float, float, int | None]:
    """(pushes/s end to end, accepted/s, peak RSS in KiB) for SendMessages through `pinfold serve`."""
    from tests.push_fakes import BUNDLE_ID, KEY_ID, TEAM_ID

    before = _count(url, bundle)
    with pinfold_server(database_url, PINFOLD_PUSH_DELIVERY="providers", PINFOLD_APNS_URL=url,
                        PINFOLD_APNS_SANDBOX_URL=url, PINFOLD_PUSH_CA_BUNDLE=bundle) as server:
        pinpoint = server.target.client()
        project = pinpoint.create_app(CreateApplicationRequest={"Name": "push-bench"})["ApplicationResponse"]["Id"]
        pinpoint.update_apns_channel(ApplicationId=project, APNSChannelRequest={
            "BundleId": BUNDLE_ID, "TeamId": TEAM_ID, "TokenKeyId": KEY_ID, "TokenKey": key_pem,
            "DefaultAuthenticationMethod": "TOKEN", "Enabled": True})
        batches = [tokens[i:i + BATCH] for i in range(0, len(tokens), BATCH)]
        local = [server.target.client() for _ in range(clients)]

        def send(index: int) -> None:
            answer = local[index % clients].send_messages(ApplicationId=project, MessageRequest={
                "Addresses": {token: {"ChannelType": "APNS"} for token in batches[index]},
                "MessageConfiguration": {"APNSMessage": MESSAGE}})
            refused = [r for r in answer["MessageResponse"]["Result"].values() if r["DeliveryStatus"] != "SUCCESSFUL"]
            if refused:
                raise RuntimeError(f"{len(refused)} recipients refused: {refused[0]}")

        started = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(send, range(len(batches))))
        accepted = len(tokens) / (time.monotonic() - started)
        rate = len(tokens) / (_wait_for(url, bundle, before + len(tokens)) - started)
        return rate, accepted, server.peak_rss_kib()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pushes", type=int, default=10_000)
    parser.add_argument("--streams", type=int, default=100, help="requests in flight, both sides")
    parser.add_argument("--clients", type=int, default=4, help="boto3 threads sending SendMessages")
    args = parser.parse_args()
    from tests import push_fakes

    key_pem, public_key = push_fakes.ec_key()
    from cryptography.hazmat.primitives import serialization

    public_pem = public_key.public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pinfold-push-bench-")))
        bundle = str(folder / "ca.pem")
        spawn = multiprocessing.get_context("spawn")
        ready, given = spawn.Pipe()
        stop = spawn.Event()
        fake = spawn.Process(target=_serve_fake, args=(bundle, public_pem, given, stop), daemon=True)
        fake.start()
        stack.callback(fake.join, 15)
        stack.callback(stop.set)
        if not ready.poll(60):
            sys.exit("the APNs fake did not start")
        url = ready.recv()
        tokens = [f"{n:064x}" for n in range(args.pushes)]
        bare = bare_client(url, bundle, key_pem, tokens, args.streams)
        with ExitStack() as run:  # Pinfold on a database of its own, as a new installation
            database_url = run.enter_context(postgres_database()) if args.database == "postgres" else ""
            rate, accepted, peak = through_pinfold(url, bundle, key_pem, tokens, args.clients, database_url)
    ratio = rate / bare
    print(f"bare HTTP/2 client, {args.streams} streams: {bare:8,.0f} pushes/s")
    print(f"pinfold SendMessages ({args.database}, {args.clients} clients x {BATCH} addresses, the adapter's "
          f"{args.streams} streams): {rate:8,.0f} pushes/s end to end (accepted {accepted:,.0f}/s), peak RSS "
          f"{(peak or 0) / 1024:.0f} MiB")
    print(f"ratio pinfold / bare client: {ratio:.2f}x (target >= {TARGET}x: {'met' if ratio >= TARGET else 'NOT met'})")
    print(json.dumps({"database": args.database, "pushes": args.pushes, "streams": args.streams,
                      "clients": args.clients, "bare": round(bare, 1), "pinfold": round(rate, 1),
                      "accepted": round(accepted, 1), "ratio": round(ratio, 3), "peak_rss_kib": peak,
                      "target": TARGET}))


if __name__ == "__main__":
    main()
