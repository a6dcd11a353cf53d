"""Projects (Pinpoint "apps"): create, read, page, and their settings. Deleting one reaches every
feature that keeps data in it, so it is a cross-feature use case (onboarding.delete_project)."""

from __future__ import annotations

from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import APPLICATION_NOT_FOUND, Caller
from pinfold.core.arns import project_arn
from pinfold.core.errors import LimitExceeded, NotFound
from pinfold.core.paging import decode_token, encode_token, page_size
from pinfold.core.tags import check_tags
from pinfold.projects import store as projects
from pinfold.projects.rules import check_settings
from pinfold.tenancy.organization import project_cap
from pinfold.tenancy.store import accounts


def response(row: dict, tags: dict[str, str]) -> dict:
    """A stored project as Pinpoint's ApplicationResponse."""
    return {
        "Arn": project_arn(row["region"], row["account_id"], row["id"]),
        "Id": row["id"],
        "Name": row["name"],
        "tags": tags,
        "CreationDate": row["created_at"],
    }


def require(conn, caller: Caller, project_id: str) -> dict:
    """The project if the caller may reach it; otherwise NotFound, exactly as for a missing one."""
    caller.check_project(project_id)
    row = projects.get_project(conn, caller.account_id, caller.region, project_id)
    if row is None:
        raise NotFound(APPLICATION_NOT_FOUND)
    return row


def insert(ctx: Context, conn, *, account_id: str, region: str, name: str,
           tags: dict[str, str] | None = None, tenant_attribute_key: str | None = None) -> dict:
    """Create a project after checking the account's projects-per-region cap."""
    account = accounts.get_account(conn, account_id)
    cap = project_cap(ctx, account)
    if projects.count_projects(conn, account_id, region) >= cap:
        raise LimitExceeded(
            f"Project limit exceeded: account {account_id} already has {cap} projects in {region} "
            f"(the cap is {cap}; an administrator can raise it with `pinfold accounts set-project-cap`)"
        )
    now = ids.iso_now()
    row = {
        "id": ids.new_project_id(), "account_id": account_id, "region": region, "name": name,
        "created_at": now, "settings": {}, "settings_modified_at": now,
        "tenant_attribute_key": tenant_attribute_key,
    }
    projects.insert_project(conn, **row)
    if tags:
        projects.put_tags(conn, project_arn(region, account_id, row["id"]), tags)
    return row


def create(ctx: Context, caller: Caller, request: dict) -> dict:
    caller.check_can_create_projects()
    tags = request.get("tags") or {}
    check_tags(tags)
    with ctx.db.write() as conn:
        row = insert(ctx, conn, account_id=caller.account_id, region=caller.region,
                     name=request["Name"], tags=tags)
    return response(row, tags)


def get(ctx: Context, caller: Caller, project_id: str) -> dict:
    with ctx.db.read() as conn:
        row = require(conn, caller, project_id)
        return response(row, projects.get_tags(conn, project_arn(row["region"], row["account_id"], row["id"])))


def list_page(ctx: Context, caller: Caller, raw_page_size: str | None, token: str | None) -> dict:
    """One page of ApplicationsResponse; confined callers see only the project they may reach."""
    size = page_size(raw_page_size)
    with ctx.db.read() as conn:
        rows = projects.list_projects(
            conn, caller.account_id, caller.region, after=decode_token(token), limit=size + 1,
            only=caller.pinned_project(),
        )
        arns = [project_arn(row["region"], row["account_id"], row["id"]) for row in rows[:size]]
        tags = projects.get_tags_of(conn, arns)
        items = [response(row, tags[arn]) for row, arn in zip(rows[:size], arns, strict=True)]
    page = {"Item": items}
    if len(rows) > size:
        page["NextToken"] = encode_token((rows[size - 1]["created_at"], rows[size - 1]["id"]))
    return page


def get_settings(ctx: Context, caller: Caller, project_id: str) -> dict:
    with ctx.db.read() as conn:
        row = require(conn, caller, project_id)
    return _settings_response(row["id"], row["settings"], row["settings_modified_at"])


def update_settings(ctx: Context, caller: Caller, project_id: str, request: dict) -> dict:
    """Apply a WriteApplicationSettingsRequest: members given replace the stored ones."""
    check_settings(request)
    with ctx.db.write() as conn:
        row = require(conn, caller, project_id)
        settings = {**row["settings"], **{k: v for k, v in request.items() if v is not None}}
        modified = ids.iso_now()
        projects.update_settings(conn, project_id, settings, modified)
    return _settings_response(project_id, settings, modified)


def _settings_response(project_id: str, settings: dict, modified: str) -> dict:
    shown = ("CampaignHook", "Limits", "QuietTime", "JourneyLimits")
    return {"ApplicationId": project_id, "LastModifiedDate": modified,
            **{k: settings[k] for k in shown if k in settings}}
