"""Principals, access keys and request authentication."""

from __future__ import annotations

from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import SCOPES, Caller, TenantScope
from pinfold.core.errors import Forbidden, InvalidInput, UnrecognizedClient
from pinfold.tenancy.store import identities


def issue_credentials(ctx: Context, conn, *, name: str, account_id: str, scope: str,
                      project_id: str | None = None, tenant_id: str | None = None) -> dict:
    """Create a principal with one access key; the only time the secret is ever returned."""
    if scope not in SCOPES:
        raise InvalidInput(f"Unknown scope {scope!r}; use one of {', '.join(SCOPES)}", field="scope")
    principal_id, key_id, secret = ids.new_principal_id(), ids.new_access_key_id(), ids.new_secret_access_key()
    now = ids.iso_now()
    identities.insert_principal(
        conn, id=principal_id, name=name, account_id=account_id, scope=scope,
        project_id=project_id, tenant_id=tenant_id, created_at=now,
    )
    identities.insert_access_key(
        conn, id=key_id, principal_id=principal_id, secret_ciphertext=ctx.secrets.encrypt(secret),
        status="active", created_at=now,
    )
    return {
        "principal_id": principal_id,
        "scope": scope,
        "account_id": account_id,
        "region": ctx.settings.region,
        "aws_access_key_id": key_id,
        "aws_secret_access_key": secret,
    }


def lookup_key(ctx: Context, access_key_id: str) -> tuple[str, dict]:
    """The secret for an active key and the principal row; unknown or revoked keys are refused."""
    row = ctx.key_cache.get(access_key_id)
    if row is None:
        with ctx.db.read() as conn:
            row = identities.find_active_key(conn, access_key_id)
        if row is None:
            raise UnrecognizedClient("The security token included in the request is invalid.")
        ctx.key_cache.put(access_key_id, row)
    return ctx.secrets.decrypt(row["secret_ciphertext"]), row


def caller_for(principal: dict, *, region: str, request_id: str) -> Caller:
    """The Caller a verified request acts as; tenants that are not active are refused clearly."""
    tenant = None
    if principal["scope"] == "tenant":
        status = principal["tenant_status"]
        if status != "active":
            raise Forbidden(f"Tenant {principal['tenant_id']} is {status}; its credentials cannot be used")
        tenant = TenantScope(
            tenant_id=principal["tenant_id"],
            model=principal["tenant_model"],
            project_id=principal["tenant_project_id"],
            attribute_key=principal["tenant_attribute_key"],
            attribute_value=principal["tenant_attribute_value"],
        )
    return Caller(
        principal_id=principal["principal_id"],
        account_id=principal["account_id"],
        region=region,
        scope=principal["scope"],
        project_id=principal["project_id"],
        tenant=tenant,
        request_id=request_id,
    )
