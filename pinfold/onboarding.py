"""The operator's cross-feature use cases: the tenant registry (onboarding in each tenancy model,
status changes, offboarding), deleting a project with everything in it, and minting credentials."""

from __future__ import annotations

import re

from pinfold.audience import segments as segment_service
from pinfold.audience.store import endpoints
from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import DEFAULT_TENANT_ATTRIBUTE, Caller, check_model
from pinfold.core.arns import project_arn
from pinfold.core.errors import Conflict, InvalidInput, NotFound
from pinfold.events import store as streams
from pinfold.messaging import templates as template_service
from pinfold.messaging.store import channels
from pinfold.projects import projects as project_service
from pinfold.projects import store as projects
from pinfold.tenancy import identity, organization
from pinfold.tenancy.store import accounts, identities, tenants

_TENANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SHARED_PROJECT_NAME = "shared-tenants"


def onboard(ctx: Context, caller: Caller, *, tenant_id: str, model: str, name: str | None = None,
            region: str | None = None, attribute_key: str | None = None, attribute_value: str | None = None,
            metadata: dict | None = None) -> dict:
    """Place a new tenant as its model dictates and return the placement with tenant credentials."""
    caller.require_organization_admin()
    check_model(model)
    if not _TENANT_ID.match(tenant_id):
        raise InvalidInput("Tenant id must be 1-64 letters, digits, '-' or '_'", field="tenant_id")
    region = region or ctx.settings.region
    if region not in ctx.settings.served_regions:  # its credentials could sign for nothing Pinfold serves
        raise InvalidInput(f"Region {region[:64]!r} is not served here (PINFOLD_REGION, PINFOLD_REGIONS)",
                           field="region")
    with ctx.db.write() as conn:
        if tenants.get_tenant(conn, tenant_id) is not None:
            raise Conflict(f"Tenant {tenant_id} already exists in the registry")
        placement = _place(ctx, conn, model, tenant_id, name or tenant_id, region, attribute_key, attribute_value)
        now = ids.iso_now()
        row = {"id": tenant_id, "name": name or tenant_id, "model": model, "region": region, "status": "active",
               "metadata": metadata or {}, "created_at": now, "updated_at": now, **placement}
        tenants.insert_tenant(conn, **row)
        creds = identity.issue_credentials(
            ctx, conn, name=f"tenant-{tenant_id}", account_id=row["account_id"], scope="tenant",
            project_id=row["project_id"], tenant_id=tenant_id,
        )
    return {"tenant": public(row), "credentials": {**creds, "region": region}}


def _place(ctx: Context, conn, model: str, tenant_id: str, name: str, region: str,
           attribute_key: str | None, attribute_value: str | None) -> dict:
    if model == "sa-sp":
        return _place_shared_project(ctx, conn, tenant_id, region, attribute_key, attribute_value)
    if attribute_key or attribute_value:
        raise InvalidInput("A tenant attribute applies only to the sa-sp model", field="attribute_key")
    if model == "sa-mp":
        account_id = organization.shared_account(ctx, conn)
    else:
        account_id = organization.create_account(ctx, conn, name=f"tenant {tenant_id}")["id"]
    project = project_service.insert(ctx, conn, account_id=account_id, region=region, name=name,
                                     tags={"tenant": tenant_id})
    return {"account_id": account_id, "project_id": project["id"], "attribute_key": None, "attribute_value": None}


def _place_shared_project(ctx: Context, conn, tenant_id: str, region: str, attribute_key: str | None,
                          attribute_value: str | None) -> dict:
    account_id = organization.shared_account(ctx, conn)
    project = _shared_project(conn, account_id, region)
    if project is None:
        project = project_service.insert(
            ctx, conn, account_id=account_id, region=region, name=SHARED_PROJECT_NAME,
            tenant_attribute_key=attribute_key or DEFAULT_TENANT_ATTRIBUTE,
        )
    key = project["tenant_attribute_key"]
    if attribute_key and attribute_key != key:
        raise InvalidInput(
            f"The shared project {project['id']} tells tenants apart by {key!r}; every sa-sp tenant uses it",
            field="attribute_key",
        )
    value = attribute_value or tenant_id
    if len(value) > 100:
        raise InvalidInput("The tenant attribute value must be at most 100 characters", field="attribute_value")
    if tenants.attribute_value_taken(conn, project["id"], value):
        raise Conflict(f"Another tenant in the shared project already uses {key}={value!r}")
    return {"account_id": account_id, "project_id": project["id"], "attribute_key": key, "attribute_value": value}


def _shared_project(conn, account_id: str, region: str) -> dict | None:
    for row in projects.list_projects(conn, account_id, region, after=None, limit=100_000):
        if row["tenant_attribute_key"]:
            return row
    return None


def public(row: dict) -> dict:
    """A registry row as the admin API and CLI show it."""
    return {
        "tenant_id": row["id"], "name": row["name"], "model": row["model"], "account_id": row["account_id"],
        "region": row["region"], "project_id": row["project_id"], "attribute_key": row["attribute_key"],
        "attribute_value": row["attribute_value"], "status": row["status"], "metadata": row["metadata"],
        "created_at": row["created_at"], "updated_at": row["updated_at"],
    }


def list_all(ctx: Context, caller: Caller, *, status: str | None = None, model: str | None = None) -> list[dict]:
    caller.require_organization_admin()
    with ctx.db.read() as conn:
        return [public(row) for row in tenants.list_tenants(conn, status=status, model=model)]


def show(ctx: Context, caller: Caller, tenant_id: str) -> dict:
    caller.require_organization_admin()
    with ctx.db.read() as conn:
        return public(_require(conn, tenant_id))


def _require(conn, tenant_id: str) -> dict:
    row = tenants.get_tenant(conn, tenant_id)
    if row is None:
        raise NotFound(f"Tenant {tenant_id} is not in the registry")
    return row


def set_status(ctx: Context, caller: Caller, tenant_id: str, status: str) -> dict:
    """Suspend (keys refused, data kept) or resume a tenant."""
    caller.require_organization_admin()
    expected = {"suspended": "active", "active": "suspended"}[status]
    with ctx.db.write() as conn:
        row = _require(conn, tenant_id)
        if row["status"] != expected:
            raise Conflict(f"Tenant {tenant_id} is {row['status']}; only a {expected} tenant can become {status}")
        row.update(status=status, updated_at=ids.iso_now())
        tenants.update_tenant(conn, tenant_id, status=status, updated_at=row["updated_at"])
    ctx.key_cache.clear()
    return public(row)


def offboard(ctx: Context, caller: Caller, tenant_id: str) -> dict:
    """Remove the tenant's data as its model dictates, revoke its keys, keep the registry row."""
    caller.require_organization_admin()
    with ctx.db.write() as conn:
        row = _require(conn, tenant_id)
        if row["status"] == "offboarded":
            raise Conflict(f"Tenant {tenant_id} is already offboarded")
        now = ids.iso_now()
        revoked = identities.revoke_keys(conn, revoked_at=now, tenant_id=tenant_id)
        removed = {**_remove_data(conn, row, now), "revoked_keys": revoked}
        row.update(status="offboarded", updated_at=now)
        tenants.update_tenant(conn, tenant_id, status="offboarded", updated_at=now)
    ctx.key_cache.clear()
    return {"tenant": public(row), "removed": removed}


def _remove_data(conn, row: dict, now: str) -> dict:
    if row["model"] == "sa-sp":
        count = endpoints.delete_for_tenant(conn, row["project_id"], row["attribute_value"])
        project = projects.get_project_by_id(conn, row["project_id"])
        return {"endpoints": count, "segments": segment_service.remove_tenant_segments(conn, project, row["id"]),
                "templates": template_service.remove_tenant_templates(conn, row["account_id"], row["id"])}
    if row["model"] == "sa-mp":
        remove_project(conn, projects.get_project_by_id(conn, row["project_id"]))
        return {"projects": [row["project_id"]],
                "templates": template_service.remove_tenant_templates(conn, row["account_id"], row["id"])}
    removed = []
    for project_id in projects.list_account_project_ids(conn, row["account_id"]):
        remove_project(conn, projects.get_project_by_id(conn, project_id))
        removed.append(project_id)
    accounts.update_account(conn, row["account_id"], status="closed")
    identities.revoke_keys(conn, revoked_at=now, account_id=row["account_id"])
    return {"projects": removed, "account_closed": row["account_id"]}


# --- projects and credentials: what reaches across features -------------------------------------

def delete_project(ctx: Context, caller: Caller, project_id: str) -> dict:
    """DeleteApp: the project and everything in it, unless a tenant still lives there."""
    caller.check_can_delete_project(project_id)
    with ctx.db.write() as conn:
        row = project_service.require(conn, caller, project_id)
        holders = tenants.active_in_project(conn, project_id)
        if holders:
            raise Conflict(
                f"Project {project_id} is where tenant {holders[0]} lives; offboard the tenant instead"
            )
        tags = projects.get_tags(conn, project_arn(row["region"], row["account_id"], row["id"]))
        remove_project(conn, row)
    return project_service.response(row, tags)


def remove_project(conn, row: dict) -> None:
    """Delete a project with everything every feature keeps in it."""
    segment_service.remove_project_segments(conn, row)
    endpoints.delete_project(conn, row["id"])
    streams.delete(conn, row["id"])
    channels.delete_project(conn, row["id"])
    projects.delete_tags(conn, project_arn(row["region"], row["account_id"], row["id"]))
    projects.delete_project(conn, row["id"])


def create_access_key(ctx: Context, caller: Caller, *, scope: str, account_id: str | None = None,
                      project_id: str | None = None, name: str = "operator") -> dict:
    """Mint credentials for an account, a project or the organization; administrators only."""
    caller.require_organization_admin()
    with ctx.db.write() as conn:
        management = organization.require_organization(conn)["management_account_id"]
        account_id = account_id or management
        organization.require_account(conn, account_id)
        if scope == "organization" and account_id != management:
            raise InvalidInput("Organization keys belong to the management account", field="account_id")
        if scope == "project":
            project = projects.get_project_by_id(conn, project_id or "")
            if project is None or project["account_id"] != account_id:
                raise NotFound(f"Project {project_id} does not exist in account {account_id}")
        return identity.issue_credentials(
            ctx, conn, name=name, account_id=account_id, scope=scope, project_id=project_id
        )
