"""Event streams: PutEventStream, GetEventStream, DeleteEventStream.

A project's stream chooses where its records go besides the lake (see events/sinks/streams.py): a
Kinesis ARN publishes to the NATS JetStream stream of that name, a Firehose ARN writes Parquet at
that delivery stream's location. Many projects may share one stream. In a shared (sa-sp) project the
stream carries every tenant's records, so only the operator may see or change it.
"""

from __future__ import annotations

from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller
from pinfold.core.errors import Forbidden, NotFound
from pinfold.events import store
from pinfold.events.destinations import destination
from pinfold.projects import projects as project_service


def _project(conn, caller: Caller, project_id: str) -> dict:
    project = project_service.require(conn, caller, project_id)
    if caller.endpoint_tenant is not None:
        raise Forbidden("The event stream of a shared project carries every tenant's events; "
                        "only the operator can see or change it")
    return project


def _response(row: dict) -> dict:
    return {"ApplicationId": row["project_id"], "DestinationStreamArn": row["destination_stream_arn"],
            "RoleArn": row["role_arn"], "LastModifiedDate": row["modified_at"], "LastUpdatedBy": row["modified_by"]}


def put(ctx: Context, caller: Caller, project_id: str, request: dict) -> dict:
    target = destination(request.get("DestinationStreamArn"))
    row = {"project_id": project_id, "destination_stream_arn": target.arn, "role_arn": request.get("RoleArn") or "",
           "modified_at": ids.iso_now(), "modified_by": caller.principal_id}
    with ctx.db.write() as conn:
        _project(conn, caller, project_id)
        store.put(conn, row)
        # The stream receives what is recorded from now on, not what the outbox still holds.
        store.ensure_sink(conn, target.arn, store.last_seq(conn))
    return _response(row)


def _stream(conn, caller: Caller, project_id: str) -> dict:
    _project(conn, caller, project_id)
    row = store.get(conn, project_id)
    if row is None:
        raise NotFound("Resource not found")  # AWS's words; the path names the application
    return row


def get(ctx: Context, caller: Caller, project_id: str) -> dict:
    with ctx.db.read() as conn:
        return _response(_stream(conn, caller, project_id))


def delete(ctx: Context, caller: Caller, project_id: str) -> dict:
    with ctx.db.write() as conn:
        row = _stream(conn, caller, project_id)
        store.delete(conn, project_id)
    return _response(row)
