"""Event ingest benchmark: PutEvents through boto3 into the lake, against pyarrow writing the same records.

Usage: .venv/bin/python benchmarks/events.py [--database sqlite|postgres] [--clients N] [--requests R]

1. One `pinfold serve` (lake files roll after 1 s instead of 10, so the end of the run is not
   mostly waiting), N client processes each sending R PutEvents requests of 100 events.
2. Two rates: events accepted per second (the API answered), and events in the lake per second
   (from the first request until the last record is in a Parquet file, counted with DuckDB).
3. Baseline, same run: the records the lake holds, read back into Python rows, then written by
   pyarrow alone (`Table.from_pylist` with the lake's schema + `write_table`, zstd) in files of
   20,000 records, the lake's roll size. The ratio is Pinfold's lake rate over that rate.

Prints a table, then the summary as one JSON line; also saves it under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.servers import Target, pinfold_server, postgres_database  # noqa: E402

EVENTS_PER_REQUEST = 100
ROLL_ROWS = 20_000


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _send(target: Target, project: str, client: int, requests: int, start_at: float) -> float:
    """One client process: R requests of 100 events; returns when its last request was answered."""
    pinpoint = target.client()
    while time.time() < start_at:
        time.sleep(0.001)
    for request in range(requests):
        endpoint = f"c{client}-{request % 50}"
        events = {f"e{n}": {"EventType": "level.complete", "Timestamp": "2026-11-26T10:00:00Z",
                            "Attributes": {"level": str(n % 20), "client": str(client)}, "Metrics": {"score": n}}
                  for n in range(EVENTS_PER_REQUEST)}
        response = pinpoint.put_events(ApplicationId=project, EventsRequest={"BatchItem": {endpoint: {
            "Endpoint": {"ChannelType": "EMAIL", "Address": f"{endpoint}@example.com"}, "Events": events}}})
        statuses = {item["StatusCode"] for item in response["EventsResponse"]["Results"][endpoint]
                    ["EventsItemResponse"].values()}
        if statuses != {202}:
            raise RuntimeError(f"events refused: {statuses}")
    return time.time()


def _lake_count(lake: Path) -> int:
    import duckdb

    try:
        return duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake}/events/**/*.parquet')").fetchall()[0][0]
    except duckdb.IOException:  # no file yet
        return 0


def ingest(database_url: str, clients: int, requests: int) -> dict:
    total = clients * requests * EVENTS_PER_REQUEST
    with pinfold_server(database_url, PINFOLD_LAKE_ROLL_SECONDS="1") as server:
        project = server.target.client().create_app(CreateApplicationRequest={"Name": "events-bench"})
        project = project["ApplicationResponse"]["Id"]
        lake = server.data_dir / "lake"
        start = time.time() + 2  # every client connected and waiting
        with ProcessPoolExecutor(clients) as pool:
            done = [pool.submit(_send, server.target, project, n, requests, start) for n in range(clients)]
            accepted = max(future.result() for future in done)
        while (count := _lake_count(lake)) < total:
            if time.time() - accepted > 120:
                raise RuntimeError(f"only {count} of {total} records reached the lake")
            time.sleep(0.05)
        in_lake = time.time()
        records = _read_back(lake)
    if len(records) != total:
        raise RuntimeError(f"the lake holds {len(records)} records, {total} were sent")
    return {"events": total, "accepted_per_s": total / (accepted - start), "in_lake_per_s": total / (in_lake - start),
            "seconds_to_lake": in_lake - start, "records": records}


def _read_back(lake: Path) -> list[dict]:
    import pyarrow.dataset as ds

    table = ds.dataset(str(lake / "events"), format="parquet", partitioning="hive").to_table()
    return table.drop_columns([name for name in ("account", "project", "date", "hour") if name in table.column_names]
                              ).to_pylist()


def pyarrow_baseline(records: list[dict]) -> float:
    """Seconds for pyarrow alone to write the records as Parquet files of ROLL_ROWS records."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pinfold.events.sinks.lake import SCHEMA

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        for index, first in enumerate(range(0, len(records), ROLL_ROWS)):
            table = pa.Table.from_pylist(records[first:first + ROLL_ROWS], schema=SCHEMA)
            pq.write_table(table, f"{folder}/part-{index}.parquet", compression="zstd")
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=250, help="PutEvents requests per client")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if args.database == "postgres" else ""
        log(f"{args.clients} clients x {args.requests} requests x {EVENTS_PER_REQUEST} events ({args.database})")
        measured = ingest(url, args.clients, args.requests)
    log("baseline: pyarrow writing the same records")
    seconds = pyarrow_baseline(measured.pop("records"))
    baseline = measured["events"] / seconds
    summary = {
        "benchmark": "events", "database": args.database, "clients": args.clients, "cpus": os.cpu_count(),
        "events": measured["events"],
        "accepted_per_s": round(measured["accepted_per_s"]), "in_lake_per_s": round(measured["in_lake_per_s"]),
        "seconds_to_lake": round(measured["seconds_to_lake"], 2),
        "pyarrow_per_s": round(baseline), "lake_over_pyarrow": round(measured["in_lake_per_s"] / baseline, 3),
    }
    print(f"Event ingest on {args.database}, {summary['events']:,} events, {args.clients} clients\n"
          f"  accepted by PutEvents   {summary['accepted_per_s']:>9,} events/s\n"
          f"  in the lake             {summary['in_lake_per_s']:>9,} events/s ({summary['seconds_to_lake']} s)\n"
          f"  pyarrow writing alone   {summary['pyarrow_per_s']:>9,} events/s\n"
          f"  lake / pyarrow          {summary['lake_over_pyarrow']:>9} x")
    print(json.dumps(summary))
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / f"events-{args.database}-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(
        json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
