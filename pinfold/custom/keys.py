"""Custom-channel signing keys: one per project, and one per tenant in an sa-sp project (its tenants
run their own receivers), derived from the installation's master key so none is stored. The operator
hands a receiver's owner its key (`pinfold custom signing-key`); changing the master key changes them
all."""

from __future__ import annotations

from pinfold.context import Context
from pinfold.core.errors import NotFound
from pinfold.core.secrets import SecretBox
from pinfold.projects import store as project_store
from pinfold.tenancy.store import tenants as tenant_store


def signing_key(secrets: SecretBox, project_id: str, tenant_id: str | None = None) -> bytes:
    return secrets.derive_key(f"custom-channel:v1:{project_id}:{tenant_id or ''}")


def for_receiver(ctx: Context, project_id: str, tenant_id: str | None = None) -> str:
    """The key a receiver checks calls with, in hex (`pinfold custom signing-key`): NotFound for a
    project that does not exist or a tenant that is not one of its sa-sp tenants."""
    with ctx.db.read() as conn:
        project = project_store.get_project_by_id(conn, project_id)
        tenant = tenant_store.get_tenant(conn, tenant_id) if tenant_id else None
    if project is None:
        raise NotFound(f"Application not found: {project_id[:64]}")
    if tenant_id and (tenant is None or tenant["project_id"] != project_id or tenant["model"] != "sa-sp"):
        raise NotFound(f"Tenant {tenant_id[:64]} is not an sa-sp tenant of project {project_id}: calls for the "
                       "project's other tenants are signed with the project's key")
    return signing_key(ctx.secrets, project_id, tenant_id).hex()
