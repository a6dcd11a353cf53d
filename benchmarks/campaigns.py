"""Campaigns: a large email campaign into Postfix's smtp-sink, and one tenant's sends beside another's campaign.

Usage: .venv/bin/python benchmarks/campaigns.py [--database sqlite|postgres] [--endpoints N]
                                              [--fair-endpoints N] [--fair-rate R] [--alone-seconds S]
                                              [--baseline-messages N] [--workers N] [--split]
                                              [--skip-bulk] [--skip-fairness]

1. Baseline: `smtp-source -s 4 -m N -l 4096` into a fresh smtp-sink (what this machine's SMTP path carries).
2. Setup (reported, not part of the ratio): tenant A (an account in production with a verified identity and
   a project whose email channel sends from it), N endpoints written 5,000 a transaction through the upsert
   the import job uses, and a dimensional segment every one of them matches.
3. Run: an IMMEDIATE email campaign (a ~4 KB templated HTML message) created through the use case, run by the
   background services `pinfold serve` starts (bootstrap.background: the campaign scheduler, a sending worker
   per lane relaying into the sink over 4 connections, the event pump into the lake). Reported: time from
   CreateCampaign to the first message relayed, messages/s from the first queued to the last relayed, the
   ratio to smtp-source (target >= 0.3), peak RSS (target < 1 GiB) and the event records written.
4. Fairness: tenant B (another account, same database and process) calls SendEmail at a steady rate, first
   alone, then while tenant A's campaign of --fair-endpoints messages runs. B's mail goes through a
   configuration set whose sending pool is a second smtp-sink that keeps each message in a file: B's latency
   is from the SendEmail call to that file's last write. Reported: p50/p99 alone and during, and the rise of
   p99 (target < 20%).
Layouts: by default one process runs everything `pinfold serve` runs; `--workers N` adds N `pinfold worker`
processes running everything too (leases pick who pumps and schedules; all of them send); `--split` keeps
transactional sending in the run process (the server) and gives the pump, the scheduler and campaign sending to
the workers (PINFOLD_SERVICES). Setup and each run are separate processes, so a run's peak memory is its own.
Needs Postfix's smtp-sink and smtp-source (`apt-get install postfix`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import campaign_parts as parts  # noqa: E402
from benchmarks.servers import POSTGRES_ADMIN_URL, postgres_database, postgres_settings  # noqa: E402
from benchmarks.smtp_adapter import smtp_sink, smtp_source  # noqa: E402

RATIO_TARGET = 0.3
MEMORY_TARGET_MIB = 1024
P99_RISE_TARGET = 0.20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-admin-url", default=POSTGRES_ADMIN_URL,
                        help="the PostgreSQL server a run's database is made on (its `postgres` database)")
    parser.add_argument("--endpoints", type=int, default=1_000_000, help="the bulk campaign's audience")
    parser.add_argument("--fair-endpoints", type=int, default=200_000, help="tenant A's campaign in the fairness run")
    parser.add_argument("--fair-rate", type=float, default=10.0, help="tenant B's SendEmail calls per second")
    parser.add_argument("--alone-seconds", type=float, default=60.0, help="how long B sends with A idle")
    parser.add_argument("--baseline-messages", type=int, default=0,
                        help="smtp-source's message count (default: the campaign's, at most 200,000)")
    parser.add_argument("--lake-wait", type=float, default=900.0,
                        help="after the last message, wait at most this long for the pump to empty the outbox")
    parser.add_argument("--pump-after", action="store_true",
                        help="diagnostic: start the event pump only once the last message is relayed")
    parser.add_argument("--workers", type=int, default=0,
                        help="`pinfold worker` processes running everything beside the run's own services")
    parser.add_argument("--split", action="store_true",
                        help="the run process keeps transactional sending (and jobs); a worker runs the pump, the "
                             "campaign scheduler and campaign sending")
    parser.add_argument("--services", nargs="+", metavar="SERVICES",
                        help="any other layout: PINFOLD_SERVICES of the run process, then of each worker to start")
    parser.add_argument("--skip-bulk", action="store_true")
    parser.add_argument("--skip-fairness", action="store_true")
    args = parser.parse_args()
    args.layout = tuple(args.services or (parts.SPLIT if args.split else ("all",) + ("all",) * args.workers))
    layout = "; ".join([f"run process (the server): {args.layout[0]}"]
                       + [f"`pinfold worker`: {services}" for services in args.layout[1:]])
    database = args.database if args.database == "sqlite" else postgres_settings(args.postgres_admin_url)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start, database {database}, "
          f"commit {parts.commit()}; {layout}", flush=True)
    with ExitStack() as stack:
        port = stack.enter_context(smtp_sink())
        baseline_count = args.baseline_messages or min(args.endpoints, 200_000)
        baseline = smtp_source(port, baseline_count, 4, keep_connection=False)
        print(f"smtp-source -s 4 -m {baseline_count} -l 4096: {baseline:,.0f} msg/s", flush=True)
        if not args.skip_bulk:
            bulk(stack, args, port, baseline)
        if not args.skip_fairness:
            fairness(stack, args, port, baseline)


def _store(stack: ExitStack, args) -> tuple[Path, str]:
    """A fresh data directory, and a fresh PostgreSQL database when asked for (both removed at exit)."""
    postgres = args.database == "postgres"
    database_url = stack.enter_context(postgres_database(args.postgres_admin_url)) if postgres else ""
    data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pinfold-campaigns-")))
    return data_dir, database_url


def _in_child(function, *args):
    """Run `function(*args)` in a fresh spawned process (its memory is its own) and return its result."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def bulk(stack: ExitStack, args, port: int, baseline: float) -> None:
    data_dir, database_url = _store(stack, args)
    relay = f"smtp://127.0.0.1:{port}?starttls=off&connections=4"
    made = _in_child(parts.setup, data_dir, database_url, args.endpoints, False)
    print(f"setup: {args.endpoints:,} endpoints in {made['endpoint_seconds']:.1f} s "
          f"({args.endpoints / made['endpoint_seconds']:,.0f}/s), segment in {made['segment_seconds']:.2f} s, "
          f"setup process peak RSS {made['rss_kib'] / 1024:.0f} MiB", flush=True)
    ran = _in_child(parts.run, data_dir, database_url, relay, "", made, None, args.lake_wait, args.pump_after,
                    args.layout)
    _report_run(ran, args.endpoints, baseline)
    _report_records(ran, data_dir)


def _report_run(ran: dict, count: int, baseline: float) -> None:
    if ran["delivered"] != count:
        raise RuntimeError(f"{ran['delivered']:,} of {count:,} campaign messages were delivered: {ran['statuses']}")
    rate = count / (ran["last_sent"] - ran["first_queued"])
    ratio = rate / baseline
    peak_mib = ran["rss_kib"] / 1024
    print(f"campaign of {count:,}: first message relayed {ran['first_sent'] - ran['started']:.2f} s after "
          f"CreateCampaign; all planned after {ran['planned'] - ran['started']:.1f} s; last relayed after "
          f"{ran['last_sent'] - ran['started']:.1f} s")
    print("  msg/s in each tenth of that time: " + ", ".join(f"{rate:,.0f}" for rate in ran["tenths"]))
    print(f"  {rate:,.0f} msg/s from the first queued to the last relayed; ratio to smtp-source {ratio:.2f}x "
          f"(target >= {RATIO_TARGET}x: {'met' if ratio >= RATIO_TARGET else 'MISSED'})")
    print(f"  peak RSS {peak_mib:.0f} MiB ({ran['rss_relayed_kib'] / 1024:.0f} MiB when the last message was relayed; "
          f"children {ran['children_rss_kib'] / 1024:.0f} MiB; target < "
          f"{MEMORY_TARGET_MIB} MiB: {'met' if peak_mib < MEMORY_TARGET_MIB else 'MISSED'}); "
          f"activity counts {ran['activity_counts']}", flush=True)
    if ran["workers_rss_kib"]:
        peaks = ", ".join(f"{kib / 1024:.0f} MiB" for kib in ran["workers_rss_kib"])
        print(f"  beside it, {len(ran['workers_rss_kib'])} `pinfold worker` process(es), peak RSS {peaks} "
              f"(target < {MEMORY_TARGET_MIB} MiB each: "
              f"{'met' if max(ran['workers_rss_kib']) / 1024 < MEMORY_TARGET_MIB else 'MISSED'})", flush=True)


def _report_records(ran: dict, data_dir: Path) -> None:
    lake = parts.lake_counts(data_dir / "lake")
    drained = (f"the pump emptied it {ran['pump_drained'] - ran['last_sent']:.1f} s after the last message"
               if ran["pump_drained"] else f"the pump had {ran['pump_lag']:,} records left when the wait ended")
    print(f"  outbox: {ran['outbox_records']:,} records written; {drained}; in the lake by type: {lake}",
          flush=True)


def fairness(stack: ExitStack, args, port: int, baseline: float) -> None:
    data_dir, database_url = _store(stack, args)
    dumps = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pinfold-sink-b-")))
    os.chmod(dumps, 0o777)  # smtp-sink runs as nobody when started by root
    timed_port = stack.enter_context(parts.dumping_sink(dumps))
    relay = f"smtp://127.0.0.1:{port}?starttls=off&connections=4"
    pools = f"{parts.TIMED_POOL}=smtp://127.0.0.1:{timed_port}?starttls=off&connections=4"
    made = _in_child(parts.setup, data_dir, database_url, args.fair_endpoints, True)
    print(f"fairness setup: {args.fair_endpoints:,} endpoints for tenant A in {made['endpoint_seconds']:.1f} s",
          flush=True)
    sender = {"rate": args.fair_rate, "alone_seconds": args.alone_seconds}
    ran = _in_child(parts.run, data_dir, database_url, relay, pools, made, sender, args.lake_wait, args.pump_after,
                    args.layout)
    _report_run(ran, args.fair_endpoints, baseline)
    phases = parts.latencies(ran["b_sends"], parts.arrivals(dumps), ran["started"], ran["last_sent"])
    recorded = parts.latencies(ran["b_sends"], ran["b_recorded"], ran["started"], ran["last_sent"])
    answered = parts.latencies(ran["b_sends"], {message_id: returned for message_id, _, returned in ran["b_sends"]},
                               ran["started"], ran["last_sent"])
    for name, values in phases.items():
        print(f"  tenant B {name}: {len(values)} SendEmail calls; to the sink {_spread(values)}; "
              f"to Pinfold's sent_at {_spread(recorded[name])}; SendEmail answered {_spread(answered[name])}")
    rise = parts.percentile(phases["during A's campaign"], 99) / parts.percentile(phases["alone"], 99) - 1
    print(f"  tenant B's p99 rose {rise * 100:+.0f}% during A's campaign (target < {P99_RISE_TARGET * 100:.0f}%: "
          f"{'met' if rise < P99_RISE_TARGET else 'MISSED'})", flush=True)


def _spread(values: list[float]) -> str:
    p50, p99 = (parts.percentile(values, p) * 1000 for p in (50, 99))
    return f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(values) * 1000:.0f} ms"


if __name__ == "__main__":
    main()
