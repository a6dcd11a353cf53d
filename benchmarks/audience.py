"""Audience benchmark: a CSV import against a bare bulk insert, and segment resolution against DuckDB.

Usage: .venv/bin/python benchmarks/audience.py [--database sqlite|postgres] [--rows N]

1. Writes an N-row CSV (default 1,000,000; several attribute columns, a repeated column, a metric,
   demographic and location columns and an EffectiveDate spread over 60 days).
2. Import: `pinfold import` in its own process on a fresh store; rows/s and that process's peak RSS.
3. Baseline: the rows the import wrote (endpoints and their attribute-index rows), read back first
   in the file's order, then inserted by one executemany per table in one transaction into a fresh
   store with the same schema (same migrations, same indexes, same settings), in its own process;
   on SQLite the time includes checkpointing the log into the database file, as the import's does.
4. Resolution: a segment of two INCLUSIVE attribute filters and an ACTIVE DAY_7 recency filter,
   resolved by Pinfold (`segments.members`, everything it yields), against DuckDB answering the same
   question over the same rows loaded into DuckDB tables, in three shapes: Pinfold's own two tables,
   the JSON documents, and flat typed columns. Best of three runs each.

Prints a table, then the summary as one JSON line; also saves it under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.servers import BIN, postgres_database  # noqa: E402

IMPORT_RATIO_TARGET = 2.0
RESOLVE_RATIO_TARGET = 3.0
MEMORY_TARGET_MIB = 1024
PLANS = ["free", "basic", "pro", "gold", "team"]
CITIES = [f"city-{index:02d}" for index in range(50)]
LANGUAGES = ["en", "fr", "de", "es", "pt", "it"]
INTERESTS = ["news", "sport", "music", "travel", "food", "tech", "film", "books"]
PLATFORMS = ["ios", "android", "web"]
COUNTRIES = ["US", "FR", "DE", "GB", "BR", "JP", "IN", "ES"]
SEGMENT = {"Name": "gold-in-two-cities-active-7d", "Dimensions": {
    "Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]},
                   "city": {"AttributeType": "INCLUSIVE", "Values": ["city-01", "city-02"]}},
    "Behavior": {"Recency": {"Duration": "DAY_7", "RecencyType": "ACTIVE"}}}}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def write_csv(path: Path, rows: int, now: datetime) -> None:
    rng = random.Random(7)
    header = ["ChannelType", "Address", "Id", "User.UserId", "User.UserAttributes.tier", "Attributes.plan",
              "Attributes.city", "Attributes.lang", "Attributes.interests", "Attributes.interests",
              "Metrics.visits", "Demographic.Platform", "Location.Country", "EffectiveDate", "OptOut"]
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for index in range(rows):
            effective = now - timedelta(seconds=rng.randrange(60 * 86400))
            writer.writerow([
                "EMAIL", f"user{index}@example.com", f"ep-{index:08d}", f"user-{index}", str(index % 7),
                rng.choice(PLANS), rng.choice(CITIES), rng.choice(LANGUAGES), rng.choice(INTERESTS),
                rng.choice(INTERESTS), str(rng.randrange(100)), rng.choice(PLATFORMS), rng.choice(COUNTRIES),
                effective.strftime("%Y-%m-%dT%H:%M:%SZ"), "NONE",
            ])


def _env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {**os.environ, "PINFOLD_DATA_DIR": str(data_dir)}
    if database_url:
        env["PINFOLD_DATABASE_URL"] = database_url
    return env


def _settings(data_dir: Path, database_url: str):
    from pinfold.config import Settings

    return Settings(data_dir=data_dir, database_url=database_url)


def _measured(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run a process; its wall seconds, its own peak RSS in MiB (from wait4), and its stdout."""
    out = tempfile.TemporaryFile()
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    out.seek(0)
    text = out.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{text[-2000:]}")
    return seconds, usage.ru_maxrss // 1024, text


def run_import(csv_path: Path, data_dir: Path, database_url: str) -> dict:
    from pinfold.context import Context
    from pinfold.projects import projects
    from tests.service.helpers import operator

    env = _env(data_dir, database_url)
    ctx = Context.open(_settings(data_dir, database_url))
    project_id = projects.create(ctx, operator(ctx), {"Name": "audience-bench"})["Id"]  # bootstraps first
    ctx.close()
    seconds, peak_mib, out = _measured([str(BIN / "pinfold"), "import", str(csv_path), "--project", project_id], env)
    job = json.loads(out)
    if job["JobStatus"] != "COMPLETED" or job["TotalFailures"]:
        raise RuntimeError(f"import did not complete cleanly: {json.dumps(job)[:2000]}")
    return {"project_id": project_id, "seconds": seconds, "peak_rss_mib": peak_mib,
            "rows": job["TotalProcessed"]}


def run_baseline(source_url: str, data_dir: Path, database_url: str) -> dict:
    """Migrate a fresh store, then time the bare insert in a child process (`--insert-rows`)."""
    from pinfold.db.database import Database

    target_url = _settings(data_dir, database_url).resolved_database_url
    Database(target_url).migrate()
    argv = [sys.executable, __file__, "--insert-rows", source_url, target_url]
    _wall, peak_mib, out = _measured(argv, os.environ.copy())
    return {**json.loads(out), "peak_rss_mib": peak_mib}


def insert_rows(source_url: str, target_url: str) -> None:
    """The baseline itself: read every row out first, then one executemany per table, one commit."""
    import sqlalchemy as sa

    from pinfold.db.database import Database

    source, target = Database(source_url), Database(target_url)
    document = "document" if source.is_sqlite else "document::text"
    with source.read() as conn:
        endpoint_rows = conn.exec_driver_sql(
            f"SELECT project_id, id, channel_type, address, user_id, tenant_value, {document}, effective_at "
            "FROM endpoints").all()
        # In the order the file holds them (its ids ascend): index order would favour the baseline.
        attribute_rows = conn.exec_driver_sql(
            "SELECT project_id, field, value, endpoint_id, effective_at FROM endpoint_attributes "
            "ORDER BY endpoint_id, field, value").all()
    endpoint_rows = [tuple(row) for row in endpoint_rows]
    attribute_rows = [tuple(row) for row in attribute_rows]
    mark = "?" if target.is_sqlite else "%s"
    start = time.perf_counter()
    raw = target.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if target.is_sqlite:  # the engine runs pysqlite in autocommit mode and begins explicitly
            cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(
            "INSERT INTO endpoints (project_id, id, channel_type, address, user_id, tenant_value, document, "
            f"effective_at) VALUES ({', '.join([mark] * 8)})", endpoint_rows)
        cursor.executemany(
            "INSERT INTO endpoint_attributes (project_id, field, value, endpoint_id, effective_at) "
            f"VALUES ({', '.join([mark] * 5)})",
            attribute_rows)
        raw.commit()
        if target.is_sqlite:  # into the database file, as the import's own checkpoints leave it
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    seconds = time.perf_counter() - start
    with target.read() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM endpoints")).scalar_one()
    if stored != len(endpoint_rows):
        raise RuntimeError(f"baseline stored {stored} of {len(endpoint_rows)} rows")
    print(json.dumps({"seconds": seconds, "rows": len(endpoint_rows), "attribute_rows": len(attribute_rows)}))


def best_of(action, runs: int = 3) -> tuple[float, object]:
    """(the fastest of `runs` timings of `action()`, its last result)."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_resolution(data_dir: Path, database_url: str, project_id: str) -> dict:
    from pinfold.audience import segments
    from pinfold.context import Context
    from pinfold.tenancy import organization

    ctx = Context.open(_settings(data_dir, database_url))
    admin = organization.local_operator(ctx)
    segment_id = segments.create(ctx, admin, project_id, SEGMENT)["Id"]
    now = datetime.now(UTC)
    seconds, members = best_of(lambda: [doc["Id"] for doc in segments.members(ctx, admin, project_id, segment_id)])
    duck = _duckdb(ctx, project_id, now)
    ctx.close()
    for shape, figures in duck.items():
        if figures["members"] != len(members):
            raise RuntimeError(f"DuckDB ({shape}) found {figures['members']} members, Pinfold {len(members)}")
    return {"seconds": seconds, "members": len(members), "duckdb": duck}


def _duckdb(ctx, project_id: str, now: datetime) -> dict:
    """The same question, answered by DuckDB over the same rows loaded into its own tables."""
    import duckdb
    import pyarrow as pa

    from pinfold.audience.store.endpoints import micros

    document = "document" if ctx.db.is_sqlite else "document::text"
    with ctx.db.read() as conn:
        rows = conn.exec_driver_sql(f"SELECT id, effective_at, {document} FROM endpoints WHERE project_id = "
                                    f"'{project_id}'").all()
        values = conn.exec_driver_sql("SELECT field, value, endpoint_id, effective_at FROM endpoint_attributes "
                                      f"WHERE project_id = '{project_id}'").all()
    ids, effective, documents = (list(column) for column in zip(*rows, strict=True))
    fields, texts, owners, copies = (list(column) for column in zip(*values, strict=True))
    db = duckdb.connect()
    db.register("endpoint_rows", pa.table({"id": ids, "effective_at": effective, "document": documents}))
    db.register("value_rows", pa.table({"field": fields, "value": texts, "endpoint_id": owners,
                                        "effective_at": copies}))
    db.execute("CREATE TABLE endpoints AS SELECT id, effective_at, document::JSON AS document FROM endpoint_rows")
    db.execute("CREATE TABLE endpoint_attributes AS SELECT * FROM value_rows")
    db.execute("""CREATE TABLE flat AS SELECT id, effective_at,
                  from_json(document->'$.Attributes.plan', '["VARCHAR"]') AS plan,
                  from_json(document->'$.Attributes.city', '["VARCHAR"]') AS city FROM endpoints""")
    since = micros(now - timedelta(days=7))
    queries = {
        "same_tables": """SELECT e.id FROM endpoints e WHERE e.effective_at >= $since AND e.id IN (
                            SELECT endpoint_id FROM endpoint_attributes WHERE field = 'Attributes.plan'
                              AND value IN ('gold') AND effective_at >= $since
                            INTERSECT SELECT endpoint_id FROM endpoint_attributes WHERE field = 'Attributes.city'
                              AND value IN ('city-01', 'city-02') AND effective_at >= $since)""",
        "json_documents": """SELECT id FROM endpoints WHERE effective_at >= $since
                      AND list_has_any(from_json(document->'$.Attributes.plan', '["VARCHAR"]'), ['gold'])
                      AND list_has_any(from_json(document->'$.Attributes.city', '["VARCHAR"]'),
                                       ['city-01', 'city-02'])""",
        "flat_columns": """SELECT id FROM flat WHERE effective_at >= $since AND list_has_any(plan, ['gold'])
                           AND list_has_any(city, ['city-01', 'city-02'])""",
    }
    found = {}
    for shape, query in queries.items():
        seconds, result = best_of(lambda query=query: db.execute(query, {"since": since}).fetchall())
        found[shape] = {"seconds": seconds, "members": len(result)}
    db.close()
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--insert-rows", nargs=2, metavar=("SOURCE_URL", "TARGET_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.insert_rows:
        insert_rows(*args.insert_rows)
        return
    work = Path(tempfile.mkdtemp(prefix="pinfold-audience-"))
    try:
        with ExitStack() as stack:
            urls = (["", ""] if args.database == "sqlite"
                    else [stack.enter_context(postgres_database()) for _ in range(2)])
            summary = measure(work, args.rows, *urls, args.database)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(summary)


def measure(work: Path, rows: int, import_url: str, baseline_url: str, database: str) -> dict:
    now = datetime.now(UTC)
    csv_path = work / "audience.csv"
    log(f"writing {rows:,} rows to {csv_path.name}")
    write_csv(csv_path, rows, now)
    log("importing through `pinfold import`")
    imported = run_import(csv_path, work / "import", import_url)
    source_url = _settings(work / "import", import_url).resolved_database_url
    log("baseline: bare bulk insert of the same rows")
    baseline = run_baseline(source_url, work / "baseline", baseline_url)
    log("resolving the segment (Pinfold, then DuckDB)")
    resolution = run_resolution(work / "import", import_url, imported["project_id"])
    return {
        "benchmark": "audience", "database": database, "rows": rows, "machine": platform.machine(),
        "cpus": os.cpu_count(), "when": now.isoformat(timespec="seconds"),
        "import": {"seconds": round(imported["seconds"], 2), "rows_per_s": round(rows / imported["seconds"]),
                   "peak_rss_mib": imported["peak_rss_mib"]},
        "baseline_insert": {"seconds": round(baseline["seconds"], 2),
                            "rows_per_s": round(rows / baseline["seconds"]),
                            "attribute_rows": baseline["attribute_rows"]},
        "import_over_baseline": round(imported["seconds"] / baseline["seconds"], 2),
        "resolution": {"seconds": round(resolution["seconds"], 4), "members": resolution["members"]},
        "duckdb": {shape: round(figures["seconds"], 4) for shape, figures in resolution["duckdb"].items()},
        "resolution_over_duckdb": {shape: round(resolution["seconds"] / figures["seconds"], 2)
                                   for shape, figures in resolution["duckdb"].items()},
    }


def report(summary: dict) -> None:
    worst_resolution = max(summary["resolution_over_duckdb"].values())
    lines = [
        f"Audience benchmark on {summary['database']}, {summary['rows']:,} rows",
        f"  import            {summary['import']['seconds']:>8.2f} s  {summary['import']['rows_per_s']:>9,} rows/s"
        f"  peak RSS {summary['import']['peak_rss_mib']} MiB (target < {MEMORY_TARGET_MIB})",
        f"  bare insert       {summary['baseline_insert']['seconds']:>8.2f} s"
        f"  {summary['baseline_insert']['rows_per_s']:>9,} rows/s",
        f"  import / insert   {summary['import_over_baseline']:>8.2f} x  (target <= {IMPORT_RATIO_TARGET})",
        f"  resolve segment   {summary['resolution']['seconds']:>8.4f} s  {summary['resolution']['members']:,} members",
    ]
    for shape, seconds in summary["duckdb"].items():
        lines.append(f"  DuckDB {shape:<15} {seconds:>6.4f} s  Pinfold / DuckDB "
                     f"{summary['resolution_over_duckdb'][shape]:.2f} x")
    lines.append(f"  worst resolution ratio {worst_resolution:.2f} x (target <= {RESOLVE_RATIO_TARGET})")
    print("\n".join(lines))
    print(json.dumps(summary))
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (results / f"audience-{summary['database']}-{stamp}.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
