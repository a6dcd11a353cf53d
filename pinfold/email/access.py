"""Who may see and who may administer the SES resources an account shares among its tenants.

Callers that reach their whole account (organization and account scopes, ma-mp tenants) administer
its SES resources. Callers confined to one project (project scope, sa-sp and sa-mp tenants) share
the account: they see only the SES tenant linked to their registry tenant and the resources
associated with it, and change nothing account-wide. What they may not see looks absent (NotFound),
never forbidden.
"""

from __future__ import annotations

from pinfold.core.access import Caller
from pinfold.core.errors import Forbidden, NotFound
from pinfold.email.store import tenants as ses_tenants


def is_admin(caller: Caller) -> bool:
    """True for callers that reach their whole account and so administer its SES resources."""
    return caller.pinned_project() is None


def contact_list_owner(caller: Caller) -> str | None:
    """Whose contact lists a caller creates and sees: None for the account's own (seeing all), else
    its confinement (`tenant:<id>` or `project:<id>`)."""
    if is_admin(caller):
        return None
    if caller.tenant is not None:
        return f"tenant:{caller.tenant.tenant_id}"
    return f"project:{caller.project_id}"


def require_admin(caller: Caller, action: str) -> None:
    """Forbidden unless the caller administers the account; `action` completes "they cannot ..."."""
    if not is_admin(caller):
        raise Forbidden(f"These credentials are confined to one project and share the account's email resources "
                        f"with other tenants: they cannot {action}; an account administrator can")


def check_can_administer(caller: Caller, what: str) -> None:
    """Forbidden unless the caller administers the account; `what` names the resources (plural)."""
    if not is_admin(caller):
        raise Forbidden(f"These credentials are confined to one project; {what} are administered with "
                        "account credentials")


def own_tenant(conn, caller: Caller) -> dict | None:
    """The SES tenant a confined caller acts as (its registry tenant's), or None."""
    if caller.tenant is None:
        return None
    found = ses_tenants.for_registry_tenant(conn, caller.tenant.tenant_id)
    if found is None or (found["account_id"], found["region"]) != (caller.account_id, caller.region):
        return None
    return found


def require_tenant(conn, caller: Caller, name: str) -> dict:
    """The SES tenant if the caller may see it; NotFound otherwise, exactly as for a missing one."""
    row = ses_tenants.get(conn, caller.account_id, caller.region, name)
    if row is not None and not is_admin(caller):
        mine = own_tenant(conn, caller)
        row = row if mine is not None and mine["name"] == row["name"] else None
    if row is None:
        raise NotFound(f"Tenant {name} does not exist")
    return row


def visible_arns(conn, caller: Caller) -> set[str] | None:
    """None when the caller sees its whole account; else the ARNs associated with its SES tenant."""
    if is_admin(caller):
        return None
    tenant = own_tenant(conn, caller)
    if tenant is None:
        return set()
    return set(ses_tenants.resources(conn, caller.account_id, caller.region, tenant["name"]))


def may_use(conn, caller: Caller, arn: str) -> bool:
    """Whether the caller may see and use the SES resource `arn`."""
    visible = visible_arns(conn, caller)
    return visible is None or arn in visible


def visible_row(conn, caller: Caller, repository, name: str, missing: str) -> dict:
    """A configuration set's or template's row if the caller may see it; NotFound (never Forbidden)
    otherwise, so resources of other tenants look absent."""
    found = repository.row(conn, caller.account_id, caller.region, name)
    if found is None or not may_use(conn, caller, repository.arn(caller.account_id, caller.region, name)):
        raise NotFound(missing)
    return found
