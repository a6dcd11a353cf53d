"""Email throughput: Pinfold's sending pipeline into Postfix's smtp-sink, against smtp-source.

Usage: .venv/bin/python benchmarks/sending.py [--database sqlite|postgres] [--messages N] [--dkim]
                                            [--api-messages N]

1. Baseline: `smtp-source -s 4 -m N -l 4096` into a fresh smtp-sink (the machine's SMTP limit here).
2. Bulk: N messages accepted through the pipeline (a 4 KB templated message per recipient, queued in
   chunks of 5,000 as a campaign would) and delivered by one sending worker through the SMTP relay
   adapter (4 connections) into the same sink. Every message also gets its `_email.send` and
   `_email.delivered` records. Reported: messages/s from the first message queued to the last
   delivered, its ratio to smtp-source (target >= 0.3), and the process's peak memory.
3. API: SendEmail (one recipient a call) and Pinpoint SendMessages (50 addresses a call) through
   boto3 from 4 client processes against a running `pinfold serve` that relays into the sink:
   accepted/s, and delivered/s until the last is delivered.
Needs postfix's smtp-sink and smtp-source (`apt-get install postfix`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.servers import pinfold_workers, postgres_database  # noqa: E402
from benchmarks.smtp_adapter import smtp_sink, smtp_source  # noqa: E402

TARGET = 0.3
CHUNK = 5_000
SEND_MESSAGES_BATCH = 50
HTML = ("<html><body><h1>Hello {{name}}</h1>"
        + "<p>Our spring collection is here, {{name}}. Everything in the shop is new this week.</p>" * 40
        + "<p>Your code: {{code}}</p></body></html>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--api-messages", type=int, default=4_000)
    parser.add_argument("--dkim", action="store_true", help="send from a DKIM-signing domain identity")
    parser.add_argument("--workers", type=int, default=0,
                        help="`pinfold worker` processes sending beside the benchmark's own sending thread")
    args = parser.parse_args()
    with ExitStack() as stack:
        port = stack.enter_context(smtp_sink())
        baseline = smtp_source(port, args.messages, 4, keep_connection=False)
        print(f"smtp-source -s 4 -m {args.messages} -l 4096: {baseline:9,.0f} msg/s")
        database_url = stack.enter_context(postgres_database()) if args.database == "postgres" else ""
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pinfold-email-")))
        rate, queued_rate, peak = bulk(data_dir, database_url, port, args.messages, args.dkim, args.workers)
        extra = f", +{args.workers} worker process(es)" if args.workers else ""
        print(f"pinfold bulk ({args.database}{', DKIM' if args.dkim else ''}{extra}): {rate:9,.0f} msg/s end to end "
              f"(queueing alone {queued_rate:,.0f} msg/s), peak RSS {peak / 1024:.0f} MiB")
        verdict = "met" if rate / baseline >= TARGET else "NOT met"
        print(f"ratio pinfold / smtp-source: {rate / baseline:.2f}x (target >= {TARGET}x: {verdict})")
        if args.api_messages:
            api_database = stack.enter_context(postgres_database()) if args.database == "postgres" else ""
            for api_name, (accepted, delivered) in api(api_database, port, args.api_messages).items():
                label = "SendEmail, 1 recipient a call" if api_name == "ses" else "SendMessages, 50 addresses a call"
                print(f"{label}, 4 boto3 clients: {accepted:,.0f} accepted/s, {delivered:,.0f} delivered/s "
                      f"({delivered / baseline:.2f}x smtp-source)")


def _sender(ctx, admin, dkim: bool):
    """An account in production with a verified identity, and its caller."""
    from pinfold import onboarding as tenants
    from pinfold.email import account as email_account
    from pinfold.email import identities as email_identities
    from tests.service.helpers import account_caller

    placed = tenants.onboard(ctx, admin, tenant_id="bench", model="ma-mp")["tenant"]
    caller = account_caller(ctx, admin, placed["account_id"])
    identity = "shop.example.com" if dkim else "news@shop.example.com"
    email_identities.create(ctx, caller, {"EmailIdentity": identity})
    email_identities.confirm(ctx, admin, identity, account_id=caller.account_id, region=caller.region)
    email_account.set_production(ctx, admin, caller.account_id, max_24h=10_000_000, max_rate=1_000_000)
    return caller, placed


def bulk(data_dir: Path, database_url: str, port: int, count: int, dkim: bool,
         workers: int = 0) -> tuple[float, float, int]:
    from pinfold.config import Settings
    from pinfold.context import Context
    from pinfold.email import accept as email_sending
    from pinfold.email.delivery import EmailDelivery

    relay = f"smtp://127.0.0.1:{port}?starttls=off&connections=4"
    settings = Settings(data_dir=data_dir, database_url=database_url, email_relay=relay)
    ctx = Context.open(settings)
    from pinfold.tenancy import organization
    from tests.service.helpers import caller_for_credentials

    caller, _placed = _sender(ctx, caller_for_credentials(ctx, organization.bootstrap(ctx)), dkim)
    delivery = EmailDelivery(ctx)
    started = time.perf_counter()
    for first in range(0, count, CHUNK):
        recipients = [{"to": [f"r{n}@example.org"], "data": {"name": f"Reader {n}", "code": f"C{n:07d}"}}
                      for n in range(first, min(count, first + CHUNK))]
        with ctx.db.write() as conn:
            sender = email_sending.resolve_sender(conn, caller, account_id=caller.account_id, region=caller.region,
                                                  from_header="Shop <news@shop.example.com>",
                                                  configuration_set=None, tenant_name=None)
            email_sending.take_quota(conn, sender, len(recipients))
            definition = email_sending.definition(sender, subject="Spring, {{name}}", html=HTML,
                                                  text="Hello {{name}}, code {{code}}")
            email_sending.enqueue(conn, sender, definition, recipients)
    queued = time.perf_counter() - started
    env = {"PINFOLD_DATA_DIR": str(data_dir), "PINFOLD_DATABASE_URL": database_url, "PINFOLD_EMAIL_RELAY": relay,
           "PINFOLD_LOG_LEVEL": "warning"}
    with pinfold_workers([env] * workers):
        delivery.start()  # the sending threads a server runs (PINFOLD_EMAIL_WORKERS)
        while _waiting(ctx):
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        delivery.stop()
    counts = _counts(ctx)
    ctx.close()
    if counts != {"delivered": count}:
        raise RuntimeError(f"not every message was delivered: {counts}")
    return count / elapsed, count / queued, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _waiting(ctx) -> int:
    from pinfold.email.store import messages as email_messages

    with ctx.db.read() as conn:
        return email_messages.waiting(conn)


def _counts(ctx) -> dict[str, int]:
    from pinfold.email.store import messages as email_messages

    with ctx.db.read() as conn:
        return email_messages.counts(conn)


def _client_sends(target, api_name: str, project: str, count: int, offset: int) -> tuple[float, float]:
    """One client's share: SendEmail one recipient a call, or SendMessages 50 addresses a call."""
    import boto3
    from botocore.config import Config

    client = boto3.client("sesv2" if api_name == "ses" else "pinpoint", endpoint_url=target.endpoint_url,
                          region_name=target.region, aws_access_key_id=target.access_key_id,
                          aws_secret_access_key=target.secret_access_key,
                          config=Config(retries={"total_max_attempts": 1}))
    body = {"Subject": {"Data": "Your receipt"}, "Body": {"Html": {"Data": HTML}, "Text": {"Data": "Thanks"}}}
    (client.get_account if api_name == "ses" else client.get_apps)()  # connect before the clock starts
    started = time.time()
    if api_name == "ses":
        for n in range(offset, offset + count):
            client.send_email(FromEmailAddress="news@shop.example.com", Content={"Simple": body},
                              Destination={"ToAddresses": [f"a{n}@example.org"]})
    else:
        simple = {"Subject": body["Subject"], "HtmlPart": body["Body"]["Html"], "TextPart": body["Body"]["Text"]}
        for first in range(offset, offset + count, SEND_MESSAGES_BATCH):
            addresses = {f"p{n}@example.org": {"ChannelType": "EMAIL"}
                         for n in range(first, min(offset + count, first + SEND_MESSAGES_BATCH))}
            client.send_messages(ApplicationId=project, MessageRequest={
                "Addresses": addresses, "MessageConfiguration": {"EmailMessage": {"SimpleEmail": simple}}})
    return started, time.time()


def api(database_url: str, port: int, count: int) -> dict[str, tuple[float, float]]:
    """(accepted/s, delivered/s) for SendEmail and for SendMessages, four boto3 client processes each."""
    from benchmarks.servers import Target, pinfold_server
    from pinfold.config import Settings
    from pinfold.context import Context
    from pinfold.messaging import channels

    relay = f"smtp://127.0.0.1:{port}?starttls=off&connections=4"
    rates = {}
    with pinfold_server(database_url, PINFOLD_EMAIL_RELAY=relay) as server:
        ctx = Context.open(Settings(data_dir=server.data_dir, database_url=database_url), migrate=False)
        caller, placed = _sender_on_server(ctx, server)
        project = placed["project_id"]
        channels.update_email(ctx, caller, project, {
            "FromAddress": "news@shop.example.com",
            "Identity": f"arn:aws:ses:{caller.region}:{caller.account_id}:identity/news@shop.example.com"})
        target = Target(server.target.endpoint_url, caller.region, placed["key"], placed["secret"])
        share = count // 4
        for api_name in ("ses", "pinpoint"):
            before = _counts(ctx).get("delivered", 0)
            with multiprocessing.get_context("spawn").Pool(4) as pool:
                spans = pool.starmap(_client_sends, [(target, api_name, project, share, k * share) for k in range(4)])
            started = min(first for first, _ in spans)
            accepted = max(last for _, last in spans) - started
            while _waiting(ctx):
                time.sleep(0.05)
            delivered = time.time() - started
            if _counts(ctx) != {"delivered": before + share * 4}:
                raise RuntimeError(f"not every message was delivered: {_counts(ctx)}")
            rates[api_name] = (share * 4 / accepted, share * 4 / delivered)
        ctx.close()
    return rates


def _sender_on_server(ctx, server):
    from pinfold import onboarding
    from tests.service.helpers import caller_for_credentials

    admin = caller_for_credentials(ctx, {"aws_access_key_id": server.target.access_key_id,
                                         "region": server.target.region})
    caller, placed = _sender(ctx, admin, dkim=False)
    creds = onboarding.create_access_key(ctx, admin, scope="account", account_id=caller.account_id)
    return caller, {**placed, "key": creds["aws_access_key_id"], "secret": creds["aws_secret_access_key"]}


if __name__ == "__main__":
    main()
