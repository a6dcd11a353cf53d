"""`pinfold segments ...` and `pinfold import`: who is in a segment, and importing endpoints now.

`import` is a root command; `pinfold.cli.main` registers it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from pinfold.audience import segments as segment_service
from pinfold.cli.common import AsJson, DataDir, operator, print_result, run
from pinfold.core import runtime

segments_app = typer.Typer(help="Who is in a segment.", no_args_is_help=True)

TenantView = typer.Option(None, "--tenant", help="See the segment as this tenant's credentials would")


@segments_app.command("size")
def segment_size(project: str, segment: str, version: int | None = None, tenant: str | None = TenantView,
                 data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """How many endpoints a segment (or one of its versions) holds."""
    def count(ctx):
        viewer = segment_service.operator_view(ctx, operator(ctx), project, tenant)
        return segment_service.size(ctx, viewer, project, segment, version)

    size = run(data_dir, count)
    typer.echo(json.dumps({"size": size}) if as_json else str(size))


@segments_app.command("preview")
def segment_preview(project: str, segment: str, limit: int = 20, tenant: str | None = TenantView,
                    data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """The first endpoints of a segment, in id order."""
    def first(ctx):
        viewer = segment_service.operator_view(ctx, operator(ctx), project, tenant)
        return segment_service.preview(ctx, viewer, project, segment, limit)

    rows = run(data_dir, first)
    if as_json:
        print_result(rows, True)
        return
    table = [{"id": r["Id"], "channel": r.get("ChannelType"), "address": r.get("Address"),
              "user": r.get("User", {}).get("UserId")} for r in rows]
    print_result(table, False, ("id", "channel", "address", "user"))


def import_file(source: str = typer.Argument(..., help="A local file or folder, file://..., or s3://bucket/prefix"),
                project: str = typer.Option(..., help="The project (application) id"),
                segment_name: str | None = typer.Option(None, help="Also define an imported segment"),
                fmt: str = typer.Option("", "--format", help="CSV or JSON (default: from the file name)"),
                data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Run an import job now, with a progress bar; prints the finished job."""
    from pinfold.audience import imports, jobs
    from pinfold.bootstrap import JOB_RUNNERS

    url = source if "://" in source else Path(source).resolve().as_uri()
    request = {"S3Url": url, "Format": (fmt or ("JSON" if url.endswith((".json", ".jsonl")) else "CSV")).upper(),
               "RoleArn": "", "DefineSegment": bool(segment_name), "SegmentName": segment_name}

    def run_import(ctx):
        viewer = segment_service.operator_view(ctx, operator(ctx), project)
        job = imports.create(ctx, viewer, project, {k: v for k, v in request.items() if v is not None},
                             run_here=True)
        runtime.settle()
        with typer.progressbar(length=1, label="importing", file=sys.stderr) as bar:
            def show(progress: dict) -> None:
                bar.length = max(progress["TotalPieces"], 1)
                bar.update(progress["CompletedPieces"] - bar.pos)

            return jobs.run_job(ctx, JOB_RUNNERS, job["Id"], viewer, show)

    finished = run(data_dir, run_import)
    print_result(finished, True)
    if finished["JobStatus"] != "COMPLETED":
        raise typer.Exit(1)
