"""Builders for service-level tests: an organization, an operator and tenant callers."""

from __future__ import annotations

from pinfold import onboarding as tenants
from pinfold.core.access import Caller
from pinfold.tenancy import identity, organization


def operator(ctx) -> Caller:
    """The organization administrator, from real bootstrap credentials (one per test context)."""
    if getattr(ctx, "test_operator", None) is None:
        ctx.test_operator = caller_for_credentials(ctx, organization.bootstrap(ctx))
    return ctx.test_operator


def caller_for_credentials(ctx, creds: dict, region: str | None = None) -> Caller:
    """The Caller that a request signed with these credentials would become."""
    _secret, principal = identity.lookup_key(ctx, creds["aws_access_key_id"])
    return identity.caller_for(principal, region=region or creds["region"], request_id="req-test")


def onboard(ctx, admin: Caller, tenant_id: str, model: str) -> tuple[dict, Caller]:
    result = tenants.onboard(ctx, admin, tenant_id=tenant_id, model=model)
    return result["tenant"], caller_for_credentials(ctx, result["credentials"])


def account_caller(ctx, admin: Caller, account_id: str) -> Caller:
    creds = tenants.create_access_key(ctx, admin, scope="account", account_id=account_id)
    return caller_for_credentials(ctx, creds)

