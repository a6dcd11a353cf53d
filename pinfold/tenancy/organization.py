"""The organization, its accounts, and the operator's account-level settings."""

from __future__ import annotations

from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller
from pinfold.core.errors import Conflict, InvalidInput, NotFound
from pinfold.tenancy import identity
from pinfold.tenancy.store import accounts


def bootstrap(ctx: Context, *, name: str = "Pinfold", if_needed: bool = False) -> dict | None:
    """Create the organization and its management account; return organization-admin credentials.

    With `if_needed`, an existing organization is left alone and None is returned.
    """
    with ctx.db.write() as conn:
        existing = accounts.get_organization(conn)
        if existing is not None:
            if if_needed:
                return None
            raise Conflict(
                f"The organization {existing['id']} already exists; mint more administrator keys "
                "with `pinfold admin keys create --scope organization`"
            )
        organization_id, account_id, now = ids.new_organization_id(), ids.new_account_id(), ids.iso_now()
        accounts.insert_organization(
            conn, id=organization_id, name=name, management_account_id=account_id, created_at=now
        )
        accounts.insert_account(
            conn, id=account_id, organization_id=organization_id, name=f"{name} management",
            role="management", status="active", created_at=now,
        )
        creds = identity.issue_credentials(
            ctx, conn, name="organization-admin", account_id=account_id, scope="organization"
        )
    return {"organization_id": organization_id, **creds}


def require_organization(conn) -> dict:
    organization = accounts.get_organization(conn)
    if organization is None:
        raise NotFound("Pinfold has no organization yet: run `pinfold admin bootstrap` first")
    return organization


def create_account(ctx: Context, conn, *, name: str, role: str = "member") -> dict:
    organization = require_organization(conn)
    account = {
        "id": ids.new_account_id(), "organization_id": organization["id"], "name": name,
        "role": role, "status": "active", "created_at": ids.iso_now(),
    }
    accounts.insert_account(conn, **account)
    return account


def shared_account(ctx: Context, conn) -> str:
    """The account that sa-sp and sa-mp tenants share, created on first use."""
    organization = require_organization(conn)
    if organization["shared_account_id"]:
        return organization["shared_account_id"]
    account = create_account(ctx, conn, name="shared tenants", role="shared")
    accounts.set_shared_account(conn, organization["id"], account["id"])
    return account["id"]


def project_cap(ctx: Context, account: dict) -> int:
    return account["project_cap"] if account["project_cap"] is not None else ctx.settings.default_project_cap


def set_project_cap(ctx: Context, caller: Caller, account_id: str, cap: int) -> dict:
    """Raise (or lower) an account's projects-per-region quota; organization administrators only."""
    caller.require_organization_admin()
    if cap < 1:
        raise InvalidInput("The project cap must be at least 1", field="cap")
    with ctx.db.write() as conn:
        account = require_account(conn, account_id)
        accounts.update_account(conn, account_id, project_cap=cap)
    return {**account, "project_cap": cap}


def list_accounts(ctx: Context, caller: Caller) -> list[dict]:
    caller.require_organization_admin()
    with ctx.db.read() as conn:
        rows = accounts.list_accounts(conn)
    return [{**row, "project_cap": project_cap(ctx, row)} for row in rows]


def require_account(conn, account_id: str) -> dict:
    account = accounts.get_account(conn, account_id)
    if account is None or account["status"] != "active":
        raise NotFound(f"Account {account_id} does not exist")
    return account


def local_operator(ctx: Context) -> Caller:
    """The operator at this machine: whoever can open the server's data acts for the organization."""
    with ctx.db.read() as conn:
        org = require_organization(conn)
    return Caller(principal_id="local-operator", account_id=org["management_account_id"],
                  region=ctx.settings.region, scope="organization")
