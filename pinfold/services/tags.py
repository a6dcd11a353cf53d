"""Resource tags (TagResource, UntagResource, ListTagsForResource) for any taggable ARN."""

from __future__ import annotations

from pinfold.domain.access import Caller
from pinfold.domain.arns import parse_arn
from pinfold.domain.errors import Forbidden, NotFound
from pinfold.domain.tags import check_tags
from pinfold.services import projects as project_service
from pinfold.services.context import Context
from pinfold.store import projects

_TAGGABLE = {"apps"}  # campaigns, segments, journeys and templates join as their issues land


def _require_resource(conn, caller: Caller, resource_arn: str) -> str:
    """The canonical ARN if it names a resource the caller can reach; NotFound otherwise."""
    arn = parse_arn(resource_arn)
    missing = NotFound(f"Resource not found: {resource_arn}")
    if arn.service != "mobiletargeting" or arn.resource_type not in _TAGGABLE:
        raise missing
    if arn.account_id != caller.account_id or arn.region != caller.region:
        raise missing
    project_service.require(conn, caller, arn.resource_id)
    return str(arn)


def _check_can_write(caller: Caller) -> None:
    # The sa-sp project belongs to everyone in it, so one tenant may not relabel it.
    if caller.endpoint_tenant is not None:
        raise Forbidden("Tenant credentials in a shared project cannot change the project's tags")


def tag(ctx: Context, caller: Caller, resource_arn: str, values: dict[str, str]) -> None:
    _check_can_write(caller)
    with ctx.db.write() as conn:
        arn = _require_resource(conn, caller, resource_arn)
        check_tags({**projects.get_tags(conn, arn), **values})
        projects.put_tags(conn, arn, values)


def untag(ctx: Context, caller: Caller, resource_arn: str, keys: list[str]) -> None:
    _check_can_write(caller)
    with ctx.db.write() as conn:
        projects.delete_tags(conn, _require_resource(conn, caller, resource_arn), keys)


def list_tags(ctx: Context, caller: Caller, resource_arn: str) -> dict[str, str]:
    with ctx.db.read() as conn:
        return projects.get_tags(conn, _require_resource(conn, caller, resource_arn))
