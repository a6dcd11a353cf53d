"""The pieces of benchmarks/campaigns.py: setting tenants up, one measured run (in its own process), tenant B's
steady SendEmail, and reading what the sinks and the lake received."""

from __future__ import annotations

import math
import os
import resource
import socket
import subprocess
import threading
import time
from pathlib import Path

from benchmarks.servers import peak_rss_kib, pinfold_workers

SPLIT = ("jobs,sending", "pump,campaigns,campaign-sending")  # --split: PINFOLD_SERVICES of the server, of workers
CHUNK = 5_000  # endpoints per transaction, as the import job commits them
TIMED_POOL = "timed"  # tenant B's configuration set sends through this pool: the sink that keeps each message
HTML = ("<html><body><h1>Hello {{Attributes.name}}</h1>"
        + "<p>Our spring collection is here, {{Attributes.name}}. Everything in the shop is new this week.</p>" * 40
        + "<p>Your code: {{Attributes.code}}</p></body></html>")
RECEIPT = {"Subject": {"Data": "Your receipt"},
           "Body": {"Text": {"Data": "Thank you for your order. It ships tomorrow."}}}
PROGRESS_SECONDS = 30.0


def commit() -> str:
    root = Path(__file__).resolve().parents[1]
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "pinfold"], cwd=root, capture_output=True,
                           text=True)
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _context(data_dir: Path, database_url: str, relay: str = "", pools: str = "", services: str = "all"):
    from pinfold.config import Settings
    from pinfold.context import Context

    return Context.open(Settings(data_dir=data_dir, database_url=database_url, email_relay=relay,
                                 email_pools=pools, log_level="warning", services=services))


# --- setup (a process of its own) -----------------------------------------------------------------------

def setup(data_dir: Path, database_url: str, count: int, with_b: bool) -> dict:
    """Tenant A with `count` endpoints and a segment of them all; with `with_b`, tenant B as well.
    Returns credentials and ids (picklable), the timings and this process's peak RSS."""
    from pinfold.audience import segments
    from pinfold.tenancy import organization
    from tests.service.helpers import caller_for_credentials

    ctx = _context(data_dir, database_url)
    admin = caller_for_credentials(ctx, organization.bootstrap(ctx))
    made: dict = {}
    a_creds, a_project = _tenant(ctx, admin, "a")
    caller = caller_for_credentials(ctx, a_creds)
    _channel(ctx, caller, a_project)
    started = time.perf_counter()
    _endpoints(ctx, caller, a_project, count)
    made["endpoint_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    segment = segments.create(ctx, caller, a_project, {"Name": "everyone", "Dimensions": {"Attributes": {
        "list": {"AttributeType": "INCLUSIVE", "Values": ["spring"]}}}})
    made["segment_seconds"] = time.perf_counter() - started
    made.update(a=a_creds, project_id=a_project, segment_id=segment["Id"])
    if with_b:
        b_creds, _ = _tenant(ctx, admin, "b")
        from pinfold.email import configuration_sets

        configuration_sets.create(ctx, caller_for_credentials(ctx, b_creds), {
            "ConfigurationSetName": "receipts", "DeliveryOptions": {"SendingPoolName": TIMED_POOL}})
        made["b"] = b_creds
    ctx.close()
    made["rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return made


def _tenant(ctx, admin, name: str) -> tuple[dict, str]:
    """An ma-mp tenant (its own account and project) in production with the identity news@<name>.example.com;
    its account credentials and project id."""
    from pinfold import onboarding
    from pinfold.email import account as email_account
    from pinfold.email import identities as email_identities
    from tests.service.helpers import caller_for_credentials

    placed = onboarding.onboard(ctx, admin, tenant_id=name, model="ma-mp")["tenant"]
    creds = onboarding.create_access_key(ctx, admin, scope="account", account_id=placed["account_id"])
    caller = caller_for_credentials(ctx, creds)
    identity = f"news@{name}.example.com"
    email_identities.create(ctx, caller, {"EmailIdentity": identity})
    email_identities.confirm(ctx, admin, identity, account_id=caller.account_id, region=caller.region)
    email_account.set_production(ctx, admin, caller.account_id, max_24h=10_000_000, max_rate=1_000_000)
    return creds, placed["project_id"]


def _channel(ctx, caller, project_id: str) -> None:
    from pinfold.messaging import channels

    identity = f"arn:aws:ses:{caller.region}:{caller.account_id}:identity/news@a.example.com"
    channels.update_email(ctx, caller, project_id, {"FromAddress": "news@a.example.com", "Identity": identity,
                                                    "Enabled": True})


def _endpoints(ctx, caller, project_id: str, count: int) -> None:
    """EMAIL endpoints, CHUNK to a transaction, through the upsert the import job uses."""
    from pinfold.audience import endpoints
    from pinfold.projects import projects

    for first in range(0, count, CHUNK):
        items = [(f"e{n:07d}", {"ChannelType": "EMAIL", "Address": f"r{n}@example.org",
                                "Attributes": {"list": ["spring"], "name": [f"Reader {n}"], "code": [f"C{n:07d}"]}})
                 for n in range(first, min(count, first + CHUNK))]
        with ctx.db.write() as conn:
            endpoints.upsert_in(conn, caller, projects.require(conn, caller, project_id), items)


# --- one run (a process of its own) ---------------------------------------------------------------------

def campaign_request(segment_id: str) -> dict:
    return {"Name": "spring", "SegmentId": segment_id, "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
            "MessageConfiguration": {"EmailMessage": {
                "Title": "Spring, {{Attributes.name}}", "HtmlBody": HTML,
                "Body": "Hello {{Attributes.name}}, your code is {{Attributes.code}}"}}}


def run(data_dir: Path, database_url: str, relay: str, pools: str, made: dict, sender: dict | None,
        lake_wait: float, pump_after: bool = False, layout: tuple[str, ...] = ("all",)) -> dict:
    """Start what `pinfold serve` runs in the background, then (after B alone, when `sender` is given)
    tenant A's campaign; wait until every message is relayed and the pump has emptied the outbox.
    `pump_after` (a diagnostic) holds the event pump back until the last message is relayed. `layout` is
    PINFOLD_SERVICES for this process (the server), then for each `pinfold worker` to start beside it."""
    ctx = _context(data_dir, database_url, relay, pools, layout[0])
    env = {"PINFOLD_DATA_DIR": str(data_dir), "PINFOLD_DATABASE_URL": database_url, "PINFOLD_EMAIL_RELAY": relay,
           "PINFOLD_EMAIL_POOLS": pools, "PINFOLD_LOG_LEVEL": "warning"}
    with pinfold_workers([{**env, "PINFOLD_SERVICES": services} for services in layout[1:]]) as helpers:
        figures = _run(ctx, made, sender, lake_wait, pump_after)
        figures["workers_rss_kib"] = [peak_rss_kib(helper.pid) or 0 for helper in helpers]
    return figures


def _run(ctx, made: dict, sender: dict | None, lake_wait: float, pump_after: bool) -> dict:
    from pinfold import bootstrap
    from pinfold.campaigns import campaigns
    from pinfold.core import runtime
    from tests.service.helpers import caller_for_credentials

    runtime.settle()  # as `pinfold serve` and `pinfold worker` do once started
    services = bootstrap.background(ctx, feedback_listener=False)
    if pump_after:
        services["pump"].stop()
    b = None
    if sender is not None:
        b = Sender(ctx, caller_for_credentials(ctx, made["b"]), sender["rate"]).start()
        time.sleep(sender["alone_seconds"])
    started = time.time()
    campaign = campaigns.create(ctx, caller_for_credentials(ctx, made["a"]), made["project_id"],
                                campaign_request(made["segment_id"]))
    _wait_for_campaign(ctx, campaign["Id"], started)
    figures = _campaign_figures(ctx, campaign["Id"])
    figures["rss_relayed_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # before the pump catches up
    if b is not None:
        b.stop()
        while _waiting(ctx, lane=0):
            time.sleep(0.1)
        figures.update(b_sends=b.sent, b_recorded=_sent_at(ctx, [sent[0] for sent in b.sent]))
    if pump_after:
        services["pump"] = bootstrap.event_pump(ctx).start()
    figures.update(_drain_pump(ctx, lake_wait))
    bootstrap.stop(services)
    ctx.close()
    figures.update(started=started, rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   children_rss_kib=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return figures


def _wait_for_campaign(ctx, campaign_id: str, started: float) -> None:
    """Until the campaign has COMPLETED (every endpoint planned) and its lane holds no message."""
    from pinfold.campaigns.store import campaigns as campaign_store

    shown = time.time()
    while True:
        with ctx.db.read() as conn:
            state = campaign_store.get_by_id(conn, campaign_id)["state"]
        waiting = _waiting(ctx, lane=1)
        if state == "COMPLETED" and not waiting:
            return
        if state in ("INVALID", "DELETED"):
            raise RuntimeError(f"the campaign became {state}")
        if time.time() - shown >= PROGRESS_SECONDS:
            shown = time.time()
            print(f"    ... {shown - started:.0f} s: campaign {state}, {_successful(ctx, campaign_id):,} endpoints "
                  f"queued, {waiting:,} messages waiting", flush=True)
        time.sleep(0.5)


def _waiting(ctx, *, lane: int) -> int:
    """Counted from the due index: SQLite uses a partial index only for its own condition written out
    (WAITING_SQL), never for `status IN (?, ?)`, so a bound list scanned every message twice a second."""
    import sqlalchemy as sa

    from pinfold.db.tables import email_messages as messages
    from pinfold.sending.queue import WAITING_SQL

    with ctx.db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(messages).where(
            messages.c.lane == lane, WAITING_SQL)).scalar_one()


def _successful(ctx, campaign_id: str) -> int:
    from pinfold.campaigns.store import activities

    with ctx.db.read() as conn:
        return sum(row["counts"]["SuccessfulEndpointCount"] for row in activities.of_campaign(conn, campaign_id))


def _campaign_figures(ctx, campaign_id: str) -> dict:
    """When the campaign's messages were queued and relayed (sent_at: when the relay acknowledged them and
    their outcome was recorded), how many by status, and its activities' counts and end."""
    import sqlalchemy as sa

    from pinfold.campaigns.store import activities
    from pinfold.db.tables import email_messages as messages

    mine = messages.c.lane == 1
    with ctx.db.read() as conn:
        first_queued, first_sent, last_sent = conn.execute(sa.select(
            sa.func.min(messages.c.created_at), sa.func.min(messages.c.sent_at), sa.func.max(messages.c.sent_at))
            .where(mine)).one()
        statuses = dict(conn.execute(sa.select(messages.c.status, sa.func.count()).where(mine)
                                     .group_by(messages.c.status)).all())
        rows = activities.of_campaign(conn, campaign_id)
        tenths = _tenths(conn, mine, first_sent, last_sent)
    counts = {key: value for row in rows for key, value in row["counts"].items() if not key.startswith("_")}
    return {"first_queued": first_queued, "first_sent": first_sent, "last_sent": last_sent, "statuses": statuses,
            "delivered": statuses.get("delivered", 0), "planned": max(row["ended_at"] for row in rows),
            "activity_counts": counts, "tenths": tenths}


def _tenths(conn, mine, first: float | None, last: float | None) -> list[float]:
    """Messages/s in each tenth of the time from the first message relayed to the last: whether the rate
    holds through a run or falls as it goes."""
    import sqlalchemy as sa

    from pinfold.db.tables import email_messages as messages

    if first is None or last is None or last <= first:
        return []
    width = (last - first) / 10
    counts = [0] * 10
    for (sent,) in conn.execute(sa.select(messages.c.sent_at).where(mine, messages.c.sent_at.is_not(None))):
        counts[min(int((sent - first) / width), 9)] += 1  # the last message falls on the last tenth's far edge
    return [count / width for count in counts]


def _sent_at(ctx, message_ids: list[str]) -> dict[str, float]:
    import sqlalchemy as sa

    from pinfold.db.tables import email_messages as messages

    found: dict[str, float] = {}
    with ctx.db.read() as conn:
        for first in range(0, len(message_ids), 500):
            query = sa.select(messages.c.id, messages.c.sent_at).where(
                messages.c.id.in_(message_ids[first:first + 500]))
            found.update({row.id: row.sent_at for row in conn.execute(query) if row.sent_at is not None})
    return found


def _drain_pump(ctx, wait: float) -> dict:
    """Wait (at most `wait` s) until every sink has every outbox record; the outbox's size and the time."""
    from pinfold.events import store as events_store

    deadline = time.time() + wait
    while True:
        with ctx.db.read() as conn:
            lag = max((lag for _, lag in events_store.lags(conn)), default=0)
            # The pump trims what every sink has: the newest seq any sink reached counts those too.
            written = max([events_store.last_seq(conn)] + [sink["delivered_seq"] for sink in events_store.sinks(conn)])
        if not lag or time.time() > deadline:
            return {"outbox_records": written, "pump_lag": lag, "pump_drained": time.time() if not lag else None}
        time.sleep(0.5)


class Sender:
    """Tenant B: SendEmail through the use case at a steady rate on a thread of its own, each call at its
    appointed time (a late call does not make the next ones early). `sent` holds (MessageId, call time, answer
    time)."""

    def __init__(self, ctx, caller, rate: float) -> None:
        self.ctx, self.caller, self.interval = ctx, caller, 1.0 / rate
        self.sent: list[tuple[str, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tenant-b", daemon=True)

    def start(self) -> Sender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        from pinfold.email.send import send_email

        due = time.time()
        while not self._stop.is_set():
            self._stop.wait(max(0.0, due - time.time()))
            called = time.time()
            answer = send_email(self.ctx, self.caller, {
                "FromEmailAddress": "news@b.example.com", "ConfigurationSetName": "receipts",
                "Destination": {"ToAddresses": [f"buyer{len(self.sent)}@example.net"]}, "Content": {"Simple": RECEIPT}})
            self.sent.append((answer["MessageId"], called, time.time()))
            due = max(due + self.interval, time.time())  # behind: go on from now, no burst


# --- what the sinks and the lake received ---------------------------------------------------------------

class dumping_sink:
    """An smtp-sink that writes each message to a file of its own in `folder` (its mtime: when it arrived)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self.process = subprocess.Popen(["/usr/sbin/smtp-sink", *user, "-d", f"{self.folder}/m.",
                                         f"127.0.0.1:{port}", "64"])
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(10)


def arrivals(folder: Path) -> dict[str, float]:
    """Each dumped message's X-Pinfold-Message-Id and when its file was last written."""
    found = {}
    for path in folder.iterdir():
        with path.open("rb") as dump:
            head = dump.read(16_384)
        for line in head.split(b"\n"):
            if line.lower().startswith(b"x-pinfold-message-id:"):
                found[line.split(b":", 1)[1].strip().decode()] = path.stat().st_mtime_ns / 1e9
                break
    return found


def latencies(sends: list[tuple[str, float, float]], arrived: dict[str, float], started: float,
              ended: float) -> dict[str, list[float]]:
    """B's latencies (seconds) for its calls before A's campaign started and while it ran."""
    missing = [message_id for message_id, *_ in sends if message_id not in arrived]
    if missing:
        raise RuntimeError(f"{len(missing)} of tenant B's {len(sends)} messages never arrived, e.g. {missing[0]}")
    alone = [arrived[message_id] - called for message_id, called, _ in sends if called < started]
    during = [arrived[message_id] - called for message_id, called, _ in sends if started <= called <= ended]
    return {"alone": alone, "during A's campaign": during}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]  # nearest rank


def lake_counts(lake: Path) -> dict[str, int]:
    import duckdb

    try:
        rows = duckdb.sql(f"SELECT event_type, count(*) FROM read_parquet('{lake}/events/**/*.parquet') "
                          "GROUP BY 1 ORDER BY 1").fetchall()
    except duckdb.IOException:  # no file yet
        return {}
    return dict(rows)
