"""Import jobs: endpoints from CSV or JSON-lines objects under a file:// or s3:// prefix.

A job streams every object, writes endpoints in chunks, and commits each chunk together with its
progress and a checkpoint (object, line). A runner that dies mid-job leaves the job PROCESSING with
a stale heartbeat; the next runner resumes after the last committed chunk, so nothing is applied
twice or silently skipped. A bad row never sinks the job: it becomes a failure naming its file and
line. An object that is not CSV or JSON lines fails the job, saying which and why.
"""

from __future__ import annotations

import time
import uuid

from pinfold.audience import endpoints as endpoint_service
from pinfold.audience import jobs, storage
from pinfold.audience import segments as segment_service
from pinfold.audience.jobs import Progress
from pinfold.audience.rules.imports import ParsedRow, RowFailure, UserIdsRow, parse_file
from pinfold.audience.store import endpoints as endpoint_store
from pinfold.audience.store import jobs as store
from pinfold.context import Context
from pinfold.core import sources
from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput, PinfoldError

CHUNK = 5000


def create(ctx: Context, caller: Caller, project_id: str, request: dict, *, run_here: bool = False) -> dict:
    """CreateImportJob: record the job for a runner (or, with `run_here`, for the caller to run now)."""
    storage.authorize(ctx, caller, request["S3Url"], field="S3Url")
    if request.get("DefineSegment") and not (request.get("SegmentName") or request.get("SegmentId")):
        raise InvalidInput("DefineSegment needs a SegmentName (or the SegmentId to import into)", field="SegmentName")
    if request.get("SegmentId"):
        with ctx.db.read() as conn:
            _project, segment = segment_service.require(conn, caller, project_id, request["SegmentId"])
        if segment["segment_type"] != "IMPORT":
            raise InvalidInput("SegmentId must name an imported segment", field="SegmentId")
    definition = {k: request.get(k) for k in ("DefineSegment", "ExternalId", "Format", "RegisterEndpoints", "RoleArn",
                                              "S3Url", "SegmentId", "SegmentName") if request.get(k) is not None}
    job = jobs.insert(ctx, caller, project_id, "IMPORT", definition, segment_id=request.get("SegmentId"),
                      run_here=run_here, prepare=lambda conn, project, job: _prepare(conn, caller, project, job))
    return jobs.response(job)


def _prepare(conn, caller: Caller, project: dict, job: dict) -> None:
    """Complete the definition as Pinpoint answers it at creation: ExternalId, and the SegmentId it defines.

    ExternalId is the deprecated account id field; without one, the project's account id is shown.
    """
    definition = job["definition"]
    definition.setdefault("ExternalId", project["account_id"])
    if definition.get("DefineSegment") and not job["segment_id"]:
        job["segment_id"] = segment_service.create_imported_in(conn, caller, project, definition["SegmentName"],
                                                               _segment_definition(definition, project))


def get(ctx: Context, caller: Caller, project_id: str, job_id: str) -> dict:
    return jobs.get(ctx, caller, project_id, job_id, "IMPORT")


def list_page(ctx: Context, caller: Caller, project_id: str, raw_size: str | None, token: str | None,
              segment_id: str | None = None) -> dict:
    return jobs.list_page(ctx, caller, project_id, "IMPORT", raw_size, token, segment_id)


def run(ctx: Context, job: dict, caller: Caller | None, on_progress: Progress) -> None:
    project, caller = jobs.project_and_caller(ctx, job, caller)
    definition, progress, s3 = job["definition"], job["progress"], sources.S3Settings.of(ctx.settings)
    objects = sources.list_objects(storage.authorize(ctx, caller, definition["S3Url"], field="S3Url"), s3)
    progress["TotalPieces"] = len(objects)
    segment_id = job["segment_id"] or _define_segment(ctx, caller, project, job)
    with ctx.db.write() as conn:
        store.update(conn, job["id"], status="PROCESSING", progress=progress, segment_id=segment_id,
                     heartbeat_at=time.time())
    job.update(segment_id=segment_id, status="PROCESSING")
    start = progress["checkpoint"]
    for index in range(start["object"], len(objects)):
        skip_to = start["line"] if index == start["object"] else 0
        rows = parse_file(objects[index].url, sources.read_lines(objects[index], s3), definition["Format"])
        _import_object(ctx, caller, project, job, rows, index, skip_to, on_progress)
    jobs.finish(ctx, job, "COMPLETED", on_commit=lambda conn: _record_size(conn, job))
    ctx.db.settle(("endpoints", "endpoint_attributes", "segment_members"), progress["TotalProcessed"])



def _record_size(conn, job: dict) -> None:
    if job.get("segment_id"):  # the whole segment, which earlier imports into it may have filled too
        counts = store.member_channel_counts(conn, job["project_id"], job["segment_id"])
        segment_service.record_import_size(conn, job["segment_id"], sum(counts.values()), counts)


def _define_segment(ctx: Context, caller: Caller, project: dict, job: dict) -> str | None:
    """The segment of a job queued before segments were made at creation (an upgrade's leftovers)."""
    definition = job["definition"]
    if not definition.get("DefineSegment"):
        return None
    return segment_service.create_imported(ctx, caller, project["id"], definition["SegmentName"],
                                           _segment_definition(definition, project))


def _segment_definition(definition: dict, project: dict) -> dict:
    """The ImportDefinition of the segment an import job defines, before any row is imported."""
    return {"ExternalId": definition.get("ExternalId", project["account_id"]), "Format": definition["Format"],
            "RoleArn": definition.get("RoleArn", ""), "S3Url": definition["S3Url"], "Size": 0, "ChannelCounts": {}}


def _import_object(ctx, caller, project, job, rows, index: int, skip_to: int, on_progress: Progress) -> None:
    chunk: list = []
    for row in rows:
        if row.line <= skip_to:
            continue
        chunk.append(row)
        if len(chunk) >= CHUNK:
            _commit_chunk(ctx, caller, project, job, chunk, {"object": index, "line": chunk[-1].line})
            on_progress(job["progress"])
            chunk = []
    _commit_chunk(ctx, caller, project, job, chunk, {"object": index + 1, "line": 0}, object_done=True)
    on_progress(job["progress"])


def _commit_chunk(ctx, caller: Caller, project: dict, job: dict, chunk: list, checkpoint: dict, *,
                  object_done: bool = False) -> None:
    """Write a chunk's endpoints and segment members with the job's progress, in one transaction."""
    progress = job["progress"]
    failures = [f"{r.file}:{r.line}: {r.reason}" for r in chunk if isinstance(r, RowFailure)]
    with ctx.db.write() as conn:
        rows = [r for r in chunk if isinstance(r, ParsedRow)]
        written = _write_rows(conn, caller, project, rows, failures)
        members = [doc["Id"] for doc in written]
        for row in (r for r in chunk if isinstance(r, UserIdsRow)):
            members += _user_endpoints(conn, caller, project["id"], row, failures)
        if job["segment_id"] and members:
            store.add_members(conn, job["segment_id"], members)
        for doc in written:
            channel = doc.get("ChannelType") or "NONE"
            progress["ChannelCounts"][channel] = progress["ChannelCounts"].get(channel, 0) + 1
        progress["TotalProcessed"] += len(chunk)
        progress["TotalFailures"] += len(failures)
        progress["Failures"] = (progress["Failures"] + failures)[:jobs.MAX_FAILURES_SHOWN]
        progress["CompletedPieces"] += 1 if object_done else 0
        progress["checkpoint"] = checkpoint
        store.update(conn, job["id"], progress=progress, heartbeat_at=time.time())


def _write_rows(conn, caller: Caller, project: dict, rows: list[ParsedRow], failures: list[str]) -> list[dict]:
    """Upsert the rows; if the chunk as a whole is refused, row by row so each failure names its line."""
    rows = _complete_or_known(conn, project["id"], rows, failures)
    if not rows:
        return []
    items = [(_endpoint_id(conn, project["id"], row.item), row.item) for row in rows]
    try:
        with conn.begin_nested():
            return endpoint_service.upsert_in(conn, caller, project, items)
    except PinfoldError:
        pass
    written = []
    for row, item in zip(rows, items, strict=True):
        try:
            with conn.begin_nested():
                written += endpoint_service.upsert_in(conn, caller, project, [item])
        except PinfoldError as error:
            failures.append(f"{row.file}:{row.line}: {error.message}")
    return written


def _complete_or_known(conn, project_id: str, rows: list[ParsedRow], failures: list[str]) -> list[ParsedRow]:
    """Rows that may be written: a new endpoint needs a ChannelType and an Address, as Pinpoint's guide says.

    A row with an Id but no channel or address can only update an endpoint that exists already.
    """
    partial = [row for row in rows if not (row.item.get("ChannelType") and row.item.get("Address"))]
    if not partial:
        return rows
    known = set(endpoint_store.get_many(conn, project_id, [row.item["Id"] for row in partial]))
    known.update(row.item.get("Id") for row in rows if row.item.get("ChannelType") and row.item.get("Address"))
    refused = {id(row) for row in partial if row.item["Id"] not in known}
    failures += [f"{row.file}:{row.line}: endpoint {row.item['Id'][:60]!r} does not exist, and a new endpoint "
                 "needs both ChannelType and Address" for row in partial if id(row) in refused]
    return [row for row in rows if id(row) not in refused]


def _endpoint_id(conn, project_id: str, item: dict) -> str:
    """A row's endpoint id: its Id, else the endpoint already holding its address, else a stable new one."""
    if item.get("Id"):
        return item["Id"]
    pair = (item["ChannelType"], item["Address"])
    holder = endpoint_store.address_holders(conn, project_id, [pair]).get(pair)
    return holder or uuid.uuid5(uuid.NAMESPACE_URL, f"{project_id}/{pair[0]}/{pair[1]}").hex


def _user_endpoints(conn, caller: Caller, project_id: str, row: UserIdsRow, failures: list[str]) -> list[str]:
    confined = caller.endpoint_tenant
    found = []
    for user_id in row.user_ids:
        docs = endpoint_store.by_user(conn, project_id, user_id, confined[1] if confined else None)
        if not docs:
            failures.append(f"{row.file}:{row.line}: user {user_id!r} has no endpoints in this project")
        found += [doc["Id"] for doc in docs]
    return found
