"""Render a run's summary as a plain-text table, and save it as JSON."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _grid(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Columns sized to their widest cell; the first column left-aligned, the rest right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        first, *rest = cells
        return "  " + first.ljust(widths[0]) + "".join(c.rjust(w + 3) for c, w in zip(rest, widths[1:], strict=True))
    return [line(headers), *(line(row) for row in rows)]


def _alone(summary: dict) -> list[str]:
    batch, reads = summary["update_endpoints_batch"], summary["get_endpoint"]
    target = summary["targets"]["endpoints_per_s"]
    rows = [["UpdateEndpointsBatch", f"{batch['calls']}", f"{batch['seconds']:.3f}",
             f"{batch['endpoints_per_s']:,.0f} endpoints/s ({batch['requests_per_s']:,.1f} batches/s)",
             f"{batch['server_cpu_ms_per_call']:.2f}", f"{batch['client_cpu_ms_per_call']:.2f}"],
            ["GetEndpoint", f"{reads['calls']}", f"{reads['seconds']:.3f}",
             f"{reads['requests_per_s']:,.0f} requests/s",
             f"{reads['server_cpu_ms_per_call']:.2f}", f"{reads['client_cpu_ms_per_call']:.2f}"]]
    headers = ["Pinfold alone", "calls", "seconds", "throughput", "server CPU ms/call",
               "client CPU ms/call"]
    verdict = _met(batch["endpoints_per_s"] >= target)
    return [*_grid(headers, rows),
            f"  target: UpdateEndpointsBatch >= {target:,} endpoints/s ... {verdict}"]


def _versus(summary: dict) -> list[str]:
    target = summary["targets"]["ratio_vs_moto"]
    headers = ["Pinfold vs moto", "calls", "pinfold req/s", "moto req/s", "pinfold/moto",
               "pinfold CPU ms/call", "moto CPU ms/call", "moto/pinfold CPU"]
    rows, verdicts = [], []
    for name, row in summary["versus_moto"].items():
        ours, theirs = row["pinfold"], row["moto"]
        rows.append([name, f"{row['calls']}", f"{ours['requests_per_s']:,.0f}",
                     f"{theirs['requests_per_s']:,.0f}", _times(row["ratio"]),
                     f"{ours['server_cpu_ms_per_call']:.2f}", f"{theirs['server_cpu_ms_per_call']:.2f}",
                     _times(row["server_cpu_ratio_moto_over_pinfold"])])
        verdicts.append(f"{name} {_met(row['ratio'] >= target)}")
    return [*_grid(headers, rows), f"  target: pinfold/moto req/s >= {target:g}x ... {', '.join(verdicts)}"]


def table(summary: dict) -> str:
    """The human-readable report: Pinfold alone, Pinfold against moto, then memory."""
    memory = summary["peak_rss_kib"]
    notes = "".join([", QUICK (smoke counts)" if summary["quick"] else "",
                     ", PROFILED (py-spy attached)" if summary["profiled"] else ""])
    header = (f"Pinfold {summary['pinfold_revision']} benchmark: database={summary['database']}, "
              f"clients={summary['clients']} "
              f"(separate processes), cpus={summary['cpus']}, "
              f"1-min load before={summary['load_average_before']}{notes}")
    return "\n".join([
        header, "",
        *_alone(summary), "",
        *_versus(summary), "",
        f"Peak RSS (VmHWM): pinfold server {_mib(memory['pinfold'])}, moto server {_mib(memory['moto'])}",
        *([""] + observed_lines(summary["logging_and_metrics"]) if "logging_and_metrics" in summary else []),
    ])


def observed_lines(result: dict) -> list[str]:
    """The request path's cost of logging and metrics (benchmarks/observability.py)."""
    lines = [f"Logging and metrics on the request path ({result['operation']}, best of each, "
             f"target on/off >= {result['target']:.2f}):"]
    for name, label in (("over_http", "over HTTP (uvicorn, 1 client)"), ("in_process", "in process (worst case)")):
        run = result[name]
        lines.append(f"  {label:<31} off {run['off_requests_per_s']:8,.0f} requests/s   "
                     f"on {run['on_requests_per_s']:8,.0f} requests/s   on/off {run['ratio']:.2f}x")
    return lines


def save(summary: dict) -> Path:
    """Write the summary to results/latest-<database>[-quick][-profiled].json; return the path.

    Smoke and profiled runs get their own files so they never replace a real measurement.
    """
    RESULTS_DIR.mkdir(exist_ok=True)
    suffix = ("-quick" if summary["quick"] else "") + ("-profiled" if summary["profiled"] else "")
    path = RESULTS_DIR / f"latest-{summary['database']}{suffix}.json"
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path
