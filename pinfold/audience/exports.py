"""Export jobs: a project's (or one segment's) endpoints as JSON lines, in GetEndpoint's shape.

A job writes one object, `<S3UrlPrefix>/<job id>.gz`: gzip-compressed JSON lines, as Pinpoint
writes them and as code that reads exports expects. It streams; a job picked up again after a crash
writes that object again from the start, so an export is never left half written.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator

import orjson

from pinfold.audience import jobs, storage
from pinfold.audience import segments as segment_service
from pinfold.audience.jobs import Progress
from pinfold.audience.store import endpoints as endpoint_store
from pinfold.audience.store import jobs as store
from pinfold.context import Context
from pinfold.core import sources
from pinfold.core.access import Caller
from pinfold.core.errors import NotFound

REPORT_EVERY = 10_000  # endpoints between progress reports (and heartbeats)


def create(ctx: Context, caller: Caller, project_id: str, request: dict) -> dict:
    """CreateExportJob: record the job; a runner writes the file."""
    storage.authorize(ctx, caller, request["S3UrlPrefix"], field="S3UrlPrefix")
    segment_id, version = request.get("SegmentId"), request.get("SegmentVersion")
    if segment_id:
        with ctx.db.read() as conn:
            _project, segment = segment_service.require(conn, caller, project_id, segment_id)
        if version is not None and not 1 <= version <= segment["version"]:
            raise NotFound(f"Resource not found: version {version} of segment {segment_id}")
    definition = {k: request[k] for k in ("RoleArn", "S3UrlPrefix", "SegmentId", "SegmentVersion")
                  if request.get(k) is not None}
    return jobs.response(jobs.insert(ctx, caller, project_id, "EXPORT", definition, segment_id=segment_id))


def get(ctx: Context, caller: Caller, project_id: str, job_id: str) -> dict:
    return jobs.get(ctx, caller, project_id, job_id, "EXPORT")


def list_page(ctx: Context, caller: Caller, project_id: str, raw_size: str | None, token: str | None,
              segment_id: str | None = None) -> dict:
    return jobs.list_page(ctx, caller, project_id, "EXPORT", raw_size, token, segment_id)


def object_url(prefix: str, job: dict) -> str:
    return f"{prefix.rstrip('/')}/{job['id']}.gz"


def run(ctx: Context, job: dict, caller: Caller | None, on_progress: Progress) -> None:
    project, caller = jobs.project_and_caller(ctx, job, caller)
    progress = {**jobs.fresh_progress(), "TotalPieces": 1}  # a rerun starts over: the object is rewritten
    job["progress"] = progress
    with ctx.db.write() as conn:
        store.update(conn, job["id"], status="PROCESSING", progress=progress, heartbeat_at=time.time())
    # The object's own URL is checked too: a symlink planted where it will be written must not lead out.
    prefix = storage.authorize(ctx, caller, job["definition"]["S3UrlPrefix"], field="S3UrlPrefix")
    target = storage.authorize(ctx, caller, object_url(prefix, job), field="S3UrlPrefix")
    lines = _lines(ctx, job, _endpoints(ctx, caller, job), on_progress)
    sources.write_object(target, _gzipped(lines), sources.S3Settings.of(ctx.settings), within=prefix)
    progress["CompletedPieces"] = 1
    jobs.finish(ctx, job, "COMPLETED")



def _endpoints(ctx: Context, caller: Caller, job: dict) -> Iterator[dict]:
    project_id, definition = job["project_id"], job["definition"]
    if definition.get("SegmentId"):
        yield from segment_service.members(ctx, caller, project_id, definition["SegmentId"],
                                           definition.get("SegmentVersion"))
        return
    confined = caller.endpoint_tenant
    with ctx.db.read() as conn:
        for row in endpoint_store.iter_with_attributes(conn, project_id, confined[1] if confined else None):
            yield {**row.document, "ApplicationId": project_id}


def _gzipped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks as one gzip stream, compressed as they come (memory stays bounded)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: a gzip header and trailer
    for chunk in chunks:
        if packed := compressor.compress(chunk):
            yield packed
    yield compressor.flush()


def _lines(ctx: Context, job: dict, endpoints: Iterator[dict], on_progress: Progress) -> Iterator[bytes]:
    """One JSON line per endpoint, reporting progress (and keeping the job's heartbeat) as it goes."""
    progress = job["progress"]
    for endpoint in endpoints:
        yield orjson.dumps(endpoint) + b"\n"
        progress["TotalProcessed"] += 1
        if progress["TotalProcessed"] % REPORT_EVERY == 0:
            with ctx.db.write() as conn:
                store.update(conn, job["id"], progress=progress, heartbeat_at=time.time())
            on_progress(progress)
