"""Reputation tracking's cost: SendEmail throughput with the reputation tally off and on, alternated, in one run.

Usage: .venv/bin/python benchmarks/reputation.py [--database sqlite|postgres] [--messages N] [--clients K]
                                                [--rounds R]

Every run is a fresh `pinfold serve` (a new data directory and, on PostgreSQL, a new database) on its
embedded defaults, so mail goes to the built-in mailbox simulator, with PINFOLD_REPUTATION_TRACKING off
or on. Rounds go off-on, then on-off, and so on, so a steady drift of the machine falls on both sides
alike. In each run K boto3 client processes (after one warm-up call each, released together) make N
SendEmail calls of one recipient each with a key of an ma-mp tenant (sending.py's sender: its account
in production, its identity verified), so the tally counts every record in the account and in the
tenant. They go to success@ the simulator and every 50th to bounce@ (2%, under the 5% at which the tally
first finds anything; it counts mail to the simulator, PINFOLD_REPUTATION_COUNT_SIMULATOR being on by
default). A run lasts from the release until every message is delivered or bounced and, with tracking
on, until the tally's counts for the account hold every send and bounce (with it off they must stay
empty). Reported per run: accepted/s, messages/s to the end and to the last delivery, the tally's lag
behind the last delivery, the server's CPU per message (all its threads, from the release to the end;
PostgreSQL's backends are not in it) and its peak RSS; then the mean rate on over the mean rate off, to
the end (target: a cost under 5%) and to the last delivery, and each round's ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.load import Plan, run_phase  # noqa: E402
from benchmarks.sending import HTML, _counts, _sender, _waiting  # noqa: E402
from benchmarks.servers import Target, pinfold_server, postgres_database  # noqa: E402
from benchmarks.workloads import shares  # noqa: E402

TARGET = 0.05  # the most throughput tracking may cost
BOUNCE_EVERY = 50
SENDER = "news@shop.example.com"  # the identity sending.py's setup verifies
SIMULATOR = "simulator.amazonses.com"
POLL_SECONDS = 0.05
WAIT_SECONDS = 600.0


class SesTarget(Target):
    """The same server and credentials, for SES v2 clients (Target's clients speak Pinpoint)."""

    def client(self):
        import boto3
        from botocore.config import Config

        config = Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=120)
        return boto3.client("sesv2", endpoint_url=self.endpoint_url, region_name=self.region,
                            aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key, config=config)


def _send(local_part: str) -> dict:
    return {"FromEmailAddress": SENDER, "Destination": {"ToAddresses": [f"{local_part}@{SIMULATOR}"]},
            "Content": {"Simple": {"Subject": {"Data": "Your receipt"},
                                   "Body": {"Html": {"Data": HTML}, "Text": {"Data": "Thanks"}}}}}


def plans(messages: int, clients: int) -> tuple[list[Plan], int]:
    """Each client's calls (a warm-up to success@, then its share) and how many of all go to bounce@.
    Bounces sit mid-way between multiples of 50, so no client opens with one."""
    found, first = [], 0
    for k, share in enumerate(shares(messages, clients)):
        calls = [_send(f"bounce+{n}" if n % BOUNCE_EVERY == BOUNCE_EVERY // 2 else f"success+{n}")
                 for n in range(first, first + share)]
        found.append(Plan("send_email", warmup=[_send(f"success+warmup{k}")], calls=calls))
        first += share
    return found, sum(1 for n in range(messages) if n % BOUNCE_EVERY == BOUNCE_EVERY // 2)


def _until(done, what: str) -> float:
    deadline = time.monotonic() + WAIT_SECONDS
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {WAIT_SECONDS:.0f} s")
        time.sleep(POLL_SECONDS)
    return time.monotonic()


def _tallied(ctx, key: str) -> tuple[int, int]:
    """(sends, bounces) the tally has counted for the account `key` (account/region), over every day."""
    from pinfold.reputation.store import counts

    with ctx.db.read() as conn:
        days = counts.daily(conn, "account", key, since_hour=0).values()
    return sum(day[0] for day in days), sum(day[1] for day in days)


def tenant_target(ctx, server) -> tuple[SesTarget, str]:
    """sending.py's sender with a key of the tenant's own, so every record carries the tenant; returns the
    target and the account's key in the tally (account/region)."""
    from pinfold.tenancy import identity
    from tests.service.helpers import caller_for_credentials

    admin = caller_for_credentials(ctx, {"aws_access_key_id": server.target.access_key_id,
                                         "region": server.target.region})
    caller, placed = _sender(ctx, admin, dkim=False)
    with ctx.db.write() as conn:
        creds = identity.issue_credentials(ctx, conn, name="bench-tenant", account_id=caller.account_id,
                                           scope="tenant", project_id=placed["project_id"],
                                           tenant_id=placed["tenant_id"])
    target = SesTarget(server.target.endpoint_url, caller.region, creds["aws_access_key_id"],
                       creds["aws_secret_access_key"])
    return target, f"{caller.account_id}/{caller.region}"


def one_run(database: str, tracking: bool, work: list[Plan], bounces: int) -> dict:
    """A fresh server with tracking on or off, the calls of `work`, and the figures of the run."""
    from pinfold.config import Settings
    from pinfold.context import Context

    sent = sum(len(plan.warmup) + len(plan.calls) for plan in work)
    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_database()) if database == "postgres" else ""
        server = stack.enter_context(pinfold_server(database_url, PINFOLD_REPUTATION_TRACKING=str(tracking).lower()))
        ctx = Context.open(Settings(data_dir=server.data_dir, database_url=database_url), migrate=False)
        stack.callback(ctx.close)
        target, account = tenant_target(ctx, server)
        released: list[tuple[float, float]] = []

        def server_cpu() -> float:  # run_phase samples it as the calls are released and after the last
            released.append((time.monotonic(), server.cpu_seconds()))
            return released[-1][1]

        timing = run_phase(target, work, server_cpu)
        started, cpu_at_start = released[0]
        delivered = _until(lambda: not _waiting(ctx), "the last delivery")
        ended = _until(lambda: _tallied(ctx, account) == (sent, bounces), "the tally's counts") if tracking \
            else delivered
        cpu = server.cpu_seconds() - cpu_at_start
        peak = server.peak_rss_kib()
        outcomes, tallied = _counts(ctx), _tallied(ctx, account)
    if outcomes != {"delivered": sent - bounces, "bounced": bounces}:
        raise RuntimeError(f"unexpected outcomes: {outcomes}")
    if tallied != ((sent, bounces) if tracking else (0, 0)):
        raise RuntimeError(f"the tally counted {tallied} with tracking {'on' if tracking else 'off'}")
    measured = timing.calls
    return {"tracking": tracking, "accepted": measured / timing.seconds, "rate": measured / (ended - started),
            "delivered_rate": measured / (delivered - started), "tally_lag": ended - delivered,
            "cpu_ms": 1000 * cpu / sent, "peak_rss_kib": peak}


def _show(run: dict) -> None:
    lag = f", the tally {run['tally_lag']:.2f} s behind the last delivery" if run["tracking"] else ""
    print(f"tracking {'on ' if run['tracking'] else 'off'}: {run['accepted']:6,.0f} accepted/s, "
          f"{run['rate']:6,.0f} msg/s to the end (delivered {run['delivered_rate']:,.0f}/s){lag}; "
          f"server {run['cpu_ms']:.2f} ms CPU/message, peak RSS {(run['peak_rss_kib'] or 0) / 1024:.0f} MiB",
          flush=True)


def summarize(runs: list[dict]) -> dict:
    """Means of each side, the ratio on/off to the end and to the last delivery, each round's ratio, CPU."""
    off = [run for run in runs if not run["tracking"]]
    on = [run for run in runs if run["tracking"]]

    def mean(side: list[dict], key: str) -> float:
        return statistics.mean(run[key] for run in side)

    ratio = mean(on, "rate") / mean(off, "rate")
    return {"off": mean(off, "rate"), "on": mean(on, "rate"), "ratio": ratio, "cost": 1 - ratio,
            "delivered_ratio": mean(on, "delivered_rate") / mean(off, "delivered_rate"),
            "by_round": [round(one["rate"] / other["rate"], 3) for one, other in zip(on, off, strict=True)],
            "cpu_ms_off": mean(off, "cpu_ms"), "cpu_ms_on": mean(on, "cpu_ms")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--messages", type=int, default=5_000, help="SendEmail calls measured in each run")
    parser.add_argument("--clients", type=int, default=4, help="boto3 client processes")
    parser.add_argument("--rounds", type=int, default=4, help="pairs of runs: off-on, on-off, ...")
    args = parser.parse_args()
    work, bounces = plans(args.messages, args.clients)
    runs = []
    for round_ in range(args.rounds):
        for tracking in ((False, True) if round_ % 2 == 0 else (True, False)):
            runs.append(one_run(args.database, tracking, work, bounces))
            _show(runs[-1])
    summary = summarize(runs)
    print(f"SendEmail ({args.database}, {args.clients} clients, {args.messages:,} messages a run, {bounces} to "
          f"bounce@), means of {args.rounds}: off {summary['off']:,.0f} msg/s, on {summary['on']:,.0f} msg/s")
    verdict = "met" if summary["cost"] < TARGET else "MISSED"
    print(f"ratio on/off: {summary['ratio']:.3f}x, cost {summary['cost']:.1%} (target < {TARGET:.0%}: {verdict}); "
          f"delivered alone {summary['delivered_ratio']:.3f}x; by round "
          f"{', '.join(f'{ratio:.2f}x' for ratio in summary['by_round'])}")
    print(f"server CPU per message {summary['cpu_ms_off']:.2f} -> {summary['cpu_ms_on']:.2f} ms "
          f"({summary['cpu_ms_on'] / summary['cpu_ms_off'] - 1:+.1%})")
    print(json.dumps({"database": args.database, "messages": args.messages, "clients": args.clients,
                      "rounds": args.rounds, "bounces": bounces, "target": TARGET,
                      **{key: round(value, 4) if isinstance(value, float) else value for key, value in summary.items()},
                      "runs": [{key: round(value, 3) if isinstance(value, float) else value
                                for key, value in run.items()} for run in runs]}))


if __name__ == "__main__":
    main()
