"""Benchmark one `pinfold serve` process, and compare it with moto's server on shared operations.

Usage: .venv/bin/python benchmarks/run.py [--database sqlite|postgres] [--clients N] [--quick] [--profile]
Prints a table, then the summary as one JSON line; also saves it under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import observability, profiling, report, workloads  # noqa: E402
from benchmarks.load import Timing  # noqa: E402
from benchmarks.phases import FULL, QUICK, Counts, Runner, log  # noqa: E402
from benchmarks.servers import moto_server, pinfold_server, postgres_database  # noqa: E402

ENDPOINTS_PER_S_TARGET = 10_000
RATIO_TARGET = 2.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="Pinfold's store; postgres makes a fresh database on 127.0.0.1:5432 (user postgres)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes (default 4)")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--profile", action="store_true",
                        help="sample Pinfold with py-spy during each of its phases (rates are then lower)")
    args = parser.parse_args(argv)
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    return args


def _phase(timing: Timing) -> dict:
    return {"calls": timing.calls, "seconds": round(timing.seconds, 4),
            "requests_per_s": round(timing.per_second, 1),
            "server_cpu_ms_per_call": round(timing.server_cpu_ms_per_call, 3),
            "client_cpu_ms_per_call": round(timing.client_cpu_ms_per_call, 3)}


def _versus(pinfold: Timing, moto: Timing) -> dict:
    """Throughput ratio (the target), with each side's figures; CPU per call is a second view."""
    cpu = moto.server_cpu_seconds / pinfold.server_cpu_seconds if pinfold.server_cpu_seconds else None
    return {"calls": pinfold.calls, "ratio": round(pinfold.per_second / moto.per_second, 2),
            "server_cpu_ratio_moto_over_pinfold": None if cpu is None else round(cpu, 2),
            "pinfold": _phase(pinfold), "moto": _phase(moto)}


def summarize(args: argparse.Namespace, counts: Counts, writes: Timing, reads: Timing,
              versus: dict[str, dict[str, Timing]], memory: dict[str, int | None],
              conditions: dict, observed: dict) -> dict:
    endpoints = writes.calls * workloads.BATCH_SIZE
    return {
        "database": args.database, "clients": args.clients, "quick": args.quick,
        "profiled": args.profile, "cpus": os.cpu_count(), "python": platform.python_version(),
        **conditions,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "counts": asdict(counts),
        "targets": {"endpoints_per_s": ENDPOINTS_PER_S_TARGET, "ratio_vs_moto": RATIO_TARGET},
        "update_endpoints_batch": {**_phase(writes), "endpoints": endpoints,
                                   "endpoints_per_s": round(endpoints / writes.seconds, 1)},
        "get_endpoint": _phase(reads),
        "versus_moto": {name: _versus(t["pinfold"], t["moto"]) for name, t in versus.items()},
        "peak_rss_kib": memory,
        "logging_and_metrics": observed,
    }


def _git(*argv: str) -> str:
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run(["git", "-C", str(repo), *argv], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def _conditions() -> dict:
    """What the run starts from: the code under test and how busy the machine already is."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = "+dirty" if _git("status", "--porcelain", "--", "pinfold") else ""
    return {"pinfold_revision": commit + dirty, "load_average_before": round(os.getloadavg()[0], 2)}


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so the finally blocks stop the servers and drop the database."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = QUICK if args.quick else FULL
    prefix = report.RESULTS_DIR / f"profile-{args.database}" if args.profile else None
    runner = Runner(clients=args.clients, counts=counts, profile_prefix=prefix)
    _stop_on_sigterm()
    conditions = _conditions()
    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_database()) if args.database == "postgres" else ""
        log(f"starting pinfold ({args.database}) and moto")
        pinfold = stack.enter_context(pinfold_server(database_url))
        moto = stack.enter_context(moto_server())
        writes, reads = runner.endpoints(pinfold)
        versus = runner.versus([pinfold, moto])
        # Read while both still run: VmHWM is the peak over each process's whole life.
        memory = {"pinfold": pinfold.peak_rss_kib(), "moto": moto.peak_rss_kib()}
    log("measuring the request path's cost of logging and metrics, in process")
    observed = observability.measure(calls=500 if args.quick else 3000, rounds=2 if args.quick else 3)
    summary = summarize(args, counts, writes, reads, versus, memory, conditions, observed)
    print(report.table(summary))
    for operation, path in runner.profiles.items():
        print(f"\nPinfold server profile during {operation}\n{profiling.hot_spots(path)}")
    print(f"\n(saved to {report.save(summary)})")
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
