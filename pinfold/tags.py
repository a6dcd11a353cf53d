"""Resource tags (TagResource, UntagResource, ListTagsForResource) for any taggable Pinpoint ARN.

It reaches every feature that has taggable resources (projects, segments, templates, campaigns), so
it sits above them all, beside onboarding."""

from __future__ import annotations

from pinfold.audience import segments as segment_service
from pinfold.campaigns import campaigns as campaign_service
from pinfold.context import Context
from pinfold.core.access import TENANT_TAG, Caller
from pinfold.core.arns import parse_arn
from pinfold.core.errors import Forbidden, NotFound
from pinfold.core.tags import check_tags
from pinfold.messaging import templates as template_service
from pinfold.projects import projects as project_service
from pinfold.projects import store as projects


def _require_resource(conn, caller: Caller, resource_arn: str) -> tuple[str, str]:
    """(canonical ARN, kind) if the ARN names a resource the caller can reach; NotFound otherwise."""
    arn = parse_arn(resource_arn)
    parts = arn.resource.split("/")
    missing = NotFound(f"Resource not found: {resource_arn}")
    if arn.service != "mobiletargeting" or arn.account_id != caller.account_id or arn.region != caller.region:
        raise missing
    if len(parts) == 2 and parts[0] == "apps":
        project_service.require(conn, caller, parts[1])
        return str(arn), "project"
    if len(parts) == 4 and parts[0] == "apps" and parts[2] == "segments":
        segment_service.require(conn, caller, parts[1], parts[3])
        return str(arn), "segment"
    if len(parts) == 4 and parts[0] == "apps" and parts[2] == "campaigns":
        campaign_service.require(conn, caller, parts[1], parts[3])
        return str(arn), "campaign"
    if len(parts) == 3 and parts[0] == "templates":
        writable = template_service.require_for_tags(conn, caller, parts[1], parts[2])
        return str(arn), "template" if writable else "read-only template"
    raise missing  # journeys join when they land


def _check_can_write(caller: Caller, kind: str, keys) -> None:
    """sa-sp tenants may not relabel the shared project, nor move a segment or campaign to another tenant."""
    if kind == "read-only template":
        raise Forbidden("Templates made by the operator are read-only for tenant credentials")
    if kind == "template" and caller.tenant is not None and TENANT_TAG in keys and caller.tenant.model == "sa-mp":
        raise Forbidden(f"The {TENANT_TAG!r} tag is set by Pinfold for tenant credentials")
    if caller.endpoint_tenant is None:
        return
    if kind == "project":
        raise Forbidden("Tenant credentials in a shared project cannot change the project's tags")
    if TENANT_TAG in keys:
        raise Forbidden(f"The {TENANT_TAG!r} tag is set by Pinfold for tenant credentials")


def tag(ctx: Context, caller: Caller, resource_arn: str, values: dict[str, str]) -> None:
    with ctx.db.write() as conn:
        arn, kind = _require_resource(conn, caller, resource_arn)
        _check_can_write(caller, kind, values)
        check_tags({**projects.get_tags(conn, arn), **values})
        projects.put_tags(conn, arn, values)


def untag(ctx: Context, caller: Caller, resource_arn: str, keys: list[str]) -> None:
    with ctx.db.write() as conn:
        arn, kind = _require_resource(conn, caller, resource_arn)
        _check_can_write(caller, kind, keys)
        projects.delete_tags(conn, arn, keys)


def list_tags(ctx: Context, caller: Caller, resource_arn: str) -> dict[str, str]:
    with ctx.db.read() as conn:
        return projects.get_tags(conn, _require_resource(conn, caller, resource_arn)[0])
