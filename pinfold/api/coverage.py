"""Implementation coverage, counted from the botocore service models."""

from __future__ import annotations

from pinfold.api.gateway import HANDLER_TABLES
from pinfold.api.protocol import load_services


def report() -> list[dict]:
    rows = []
    for spec in load_services().values():
        names = set(spec.model.operation_names)
        done = sorted(names & set(HANDLER_TABLES[spec.name]))
        rows.append({"service": spec.name, "implemented": len(done), "total": len(names),
                     "percent": f"{100 * len(done) / len(names):.0f}%", "operations": done})
    return rows
