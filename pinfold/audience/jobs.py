"""What import and export jobs share: their response shape, who may see them, listing, the
authority they run with, finishing, and the runner's dispatch by job type."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pinfold.audience import segments as segment_service
from pinfold.audience.store import jobs as store
from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller
from pinfold.core.errors import Forbidden, NotFound, PinfoldError
from pinfold.core.paging import decode_token, encode_token, page_size
from pinfold.projects import projects as project_service
from pinfold.projects import store as project_store
from pinfold.tenancy import identity
from pinfold.tenancy.store import identities

log = logging.getLogger("pinfold.jobs")
MAX_FAILURES_SHOWN = 100
Progress = Callable[[dict], None]
# What runs each job type (imports.run, exports.run), handed in by the bootstrap.
Runners = dict[str, Callable[[Context, dict, "Caller | None", Progress], None]]


def fresh_progress() -> dict:
    return {"TotalPieces": 0, "CompletedPieces": 0, "FailedPieces": 0, "TotalProcessed": 0, "TotalFailures": 0,
            "Failures": [], "ChannelCounts": {}, "checkpoint": {"object": 0, "line": 0}}


def response(job: dict) -> dict:
    """A job row as Pinpoint's ImportJobResponse or ExportJobResponse."""
    progress = job["progress"]
    shown = {key: progress[key] for key in ("TotalPieces", "CompletedPieces", "FailedPieces", "TotalProcessed",
                                            "TotalFailures", "Failures")}
    definition = {**job["definition"], **({"SegmentId": job["segment_id"]} if job["segment_id"] else {})}
    return {"Id": job["id"], "ApplicationId": job["project_id"], "Type": job["job_type"], "JobStatus": job["status"],
            "CreationDate": job["created_at"], "CompletionDate": job["completed_at"], "Definition": definition,
            **shown}


def insert(ctx: Context, caller: Caller, project_id: str, job_type: str, definition: dict, *,
           segment_id: str | None, run_here: bool = False, prepare=None) -> dict:
    """Record a job for a runner, or (`run_here`) already claimed by the caller, who runs it with run_job.

    `prepare(conn, project, job)` may complete the job (its segment, say) in the same transaction.
    """
    job = {"id": ids.new_project_id(), "job_type": job_type, "project_id": project_id,
           "principal_id": caller.principal_id, "status": "INITIALIZING" if run_here else "CREATED",
           "definition": definition, "progress": fresh_progress(), "segment_id": segment_id,
           "created_at": ids.iso_now(), "completed_at": None, "heartbeat_at": time.time() if run_here else None}
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        if prepare is not None:
            prepare(conn, project, job)
        store.insert(conn, job)
    return job


def _may_see(conn, caller: Caller, job: dict) -> bool:
    """In a shared project a tenant sees only jobs made with its own credentials."""
    if caller.endpoint_tenant is None:
        return True
    owner = identities.find_principal(conn, job["principal_id"])
    return owner is not None and owner["tenant_id"] == caller.tenant_id


def get(ctx: Context, caller: Caller, project_id: str, job_id: str, job_type: str) -> dict:
    with ctx.db.read() as conn:
        project_service.require(conn, caller, project_id)
        job = store.get(conn, job_id)
        if job is None or job["project_id"] != project_id or job["job_type"] != job_type \
                or not _may_see(conn, caller, job):
            raise NotFound(f"Resource not found: {job_type.lower()} job {job_id}")
        return response(job)


def list_page(ctx: Context, caller: Caller, project_id: str, job_type: str, raw_size: str | None,
              token: str | None, segment_id: str | None = None) -> dict:
    size = page_size(raw_size)
    with ctx.db.read() as conn:
        project_service.require(conn, caller, project_id)
        if segment_id is not None:
            segment_service.require(conn, caller, project_id, segment_id)
        rows = store.list_page(conn, project_id, job_type, after=decode_token(token), limit=size + 1,
                               segment_id=segment_id)
        rows = [row for row in rows if _may_see(conn, caller, row)]
    page = {"Item": [response(row) for row in rows[:size]]}
    if len(rows) > size:
        page["NextToken"] = encode_token((rows[size - 1]["created_at"], rows[size - 1]["id"]))
    return page


def project_and_caller(ctx: Context, job: dict, caller: Caller | None) -> tuple[dict, Caller]:
    """The job's project, and the caller to run it as (`caller` if given, else its creator as of now)."""
    with ctx.db.read() as conn:
        project = project_store.get_project_by_id(conn, job["project_id"])
    if project is None:
        raise NotFound(f"The project of this {job['job_type'].lower()} job no longer exists")
    return project, caller or caller_of(ctx, job, project)


def caller_of(ctx: Context, job: dict, project: dict) -> Caller:
    """The job's creator as a Caller now: a tenant suspended or offboarded since then stops the job."""
    with ctx.db.read() as conn:
        principal = identities.find_principal(conn, job["principal_id"])
    if principal is None:
        raise Forbidden("The credentials that created this job no longer exist")
    return identity.caller_for(principal, region=project["region"], request_id=f"job-{job['id']}")


def finish(ctx: Context, job: dict, status: str, failure: str | None = None, on_commit=None) -> None:
    """Mark the job done (or failed, recording why); `on_commit(conn)` runs in the same transaction."""
    progress = job["progress"]
    if failure:
        progress["Failures"] = (progress["Failures"] + [failure])[:MAX_FAILURES_SHOWN]
        progress["FailedPieces"] = max(1, progress["TotalPieces"] - progress["CompletedPieces"])
    with ctx.db.write() as conn:
        store.update(conn, job["id"], status=status, progress=progress, completed_at=ids.iso_now(),
                     heartbeat_at=time.time())
        if on_commit is not None:
            on_commit(conn)
    job.update(status=status, progress=progress)


def run_job(ctx: Context, runners: Runners, job_id: str, caller: Caller | None = None,
            on_progress: Progress | None = None) -> dict:
    """Run one job to its end (with `caller`: the one that created it with run_here); returns its response."""
    with ctx.db.read() as conn:
        job = store.get(conn, job_id)
    _run(ctx, runners, job, caller, on_progress)
    return response(job)


def run_next(ctx: Context, runners: Runners, on_progress: Progress | None = None) -> bool:
    """Claim one waiting (or abandoned) job and run it to its end; False if none was waiting."""
    with ctx.db.write() as conn:
        job = store.claim_next(conn, now=time.time(), stale_after=ctx.settings.job_stale_seconds)
    if job is None:
        return False
    _run(ctx, runners, job, None, on_progress)
    return True


def _run(ctx: Context, runners: Runners, job: dict, caller: Caller | None, on_progress: Progress | None) -> None:
    kind, started = job["job_type"].lower(), time.monotonic()
    resumed = job["progress"].get("checkpoint") not in (None, {"object": 0, "line": 0})
    log.info("%s job %s started in project %s%s", kind, job["id"], job["project_id"],
             " (resuming from its checkpoint)" if resumed else "")
    try:
        runners[job["job_type"]](ctx, job, caller, on_progress or (lambda _progress: None))
    except PinfoldError as error:
        finish(ctx, job, "FAILED", error.message)
    except BaseException:
        log.warning("%s job %s stopped after %.1f s; it resumes from its checkpoint", kind, job["id"],
                    time.monotonic() - started)
        raise
    # What failed is in GetImportJob's Failures, not here: it can quote the imported data.
    progress = job["progress"]
    log.log(logging.WARNING if job["status"] == "FAILED" else logging.INFO,
            "%s job %s ended %s after %.1f s: %d processed, %d failed", kind, job["id"], job["status"],
            time.monotonic() - started, progress["TotalProcessed"], progress["TotalFailures"])
