"""What the operator does about reputation: resume a paused registry tenant, choose a tenant's policy,
and read a scope's history. Every pause and resume is recorded with who made it."""

from __future__ import annotations

import time

from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput, NotFound
from pinfold.reputation.rules import levels
from pinfold.reputation.store import counts as store
from pinfold.tenancy.store import tenants as registry


def _tenant(conn, tenant_id: str) -> dict:
    tenant = registry.get_tenant(conn, tenant_id)
    if tenant is None:
        raise NotFound(f"Tenant {tenant_id[:64]} is not in the registry")
    return tenant


def resume_tenant(ctx: Context, caller: Caller, tenant_id: str) -> dict:
    """Let a paused tenant send again (`pinfold tenants resume-sending T`). The findings that paused it
    stay judged, as SES's reinstated tenants' do: it is paused again only once its rate has fallen
    below the level and crossed it anew, not by the bounces already counted."""
    caller.require_organization_admin()
    now = time.time()
    with ctx.db.write() as conn:
        tenant = _tenant(conn, tenant_id)
        if not tenant["sending_paused"]:
            return {"tenant_id": tenant_id, "sending_paused": False, "changed": False}
        registry.update_tenant(conn, tenant_id, sending_paused=False, updated_at=ids.iso_now())
        store.record(conn, [{"id": ids.new_event_id(), "scope": "tenant", "key": tenant_id, "action": "RESUMED",
                             "actor": caller.principal_id, "detail": {}, "at": now}])
    return {"tenant_id": tenant_id, "sending_paused": False, "changed": True}


def set_policy(ctx: Context, caller: Caller, tenant_id: str, policy: str) -> dict:
    """STANDARD (pause at a high-severity finding), STRICT (at any finding) or NONE (never)."""
    caller.require_organization_admin()
    try:
        chosen = levels.check_policy(policy)
    except ValueError as error:
        raise InvalidInput(str(error), field="policy") from None
    with ctx.db.write() as conn:
        _tenant(conn, tenant_id)
        registry.update_tenant(conn, tenant_id, reputation_policy=chosen, updated_at=ids.iso_now())
    return {"tenant_id": tenant_id, "reputation_policy": chosen}


def history(ctx: Context, caller: Caller, scope: str, key: str, *, limit: int = 100) -> list[dict]:
    caller.require_organization_admin()
    with ctx.db.read() as conn:
        return store.history_of(conn, scope, key, limit=limit)


def tenant_history(ctx: Context, caller: Caller, tenant_id: str, *, limit: int = 100) -> list[dict]:
    """A tenant's findings, pauses and resumes for both channels (its email and SMS scopes), newest first."""
    found = history(ctx, caller, "tenant", tenant_id, limit=limit) + history(ctx, caller, "sms_tenant", tenant_id,
                                                                              limit=limit)
    return sorted(found, key=lambda row: row["at"], reverse=True)[:limit]
