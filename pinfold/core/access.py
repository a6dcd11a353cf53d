"""Who is calling and what that caller may reach: the tenancy rules, with no I/O.

Every service function receives a `Caller` explicitly; there is no ambient "current tenant".
"""

from __future__ import annotations

from dataclasses import dataclass

from pinfold.core.errors import Forbidden, InvalidInput, NotFound

MODELS = ("sa-sp", "sa-mp", "ma-mp")
SCOPES = ("organization", "account", "project", "tenant")
DEFAULT_TENANT_ATTRIBUTE = "TenantId"
# Pinpoint's words for a project that is missing, deleted, or (here) out of the caller's reach.
APPLICATION_NOT_FOUND = "Application not found"


@dataclass(frozen=True)
class TenantScope:
    """What a tenant-scoped caller is confined to, from its registry entry."""

    tenant_id: str
    model: str
    project_id: str
    attribute_key: str | None = None  # sa-sp only
    attribute_value: str | None = None


@dataclass(frozen=True)
class Caller:
    principal_id: str
    account_id: str
    region: str
    scope: str  # one of SCOPES
    project_id: str | None = None  # project scope
    tenant: TenantScope | None = None  # tenant scope
    request_id: str = ""

    @property
    def is_organization_admin(self) -> bool:
        return self.scope == "organization"

    @property
    def tenant_id(self) -> str | None:
        return self.tenant.tenant_id if self.tenant else None

    @property
    def endpoint_tenant(self) -> tuple[str, str] | None:
        """(attribute key, value) that confines this caller's endpoints, or None for no filter."""
        if self.tenant and self.tenant.model == "sa-sp":
            return self.tenant.attribute_key, self.tenant.attribute_value
        return None

    def pinned_project(self) -> str | None:
        """The one project this caller may reach, or None when it may reach its whole account."""
        if self.scope == "project":
            return self.project_id
        if self.tenant and self.tenant.model != "ma-mp":
            return self.tenant.project_id
        return None

    def check_project(self, project_id: str) -> None:
        """Raise NotFound (not Forbidden: the project must look absent) if it is out of reach."""
        pinned = self.pinned_project()
        if pinned is not None and pinned != project_id:
            raise NotFound(APPLICATION_NOT_FOUND)

    def check_can_create_projects(self) -> None:
        if self.pinned_project() is not None:
            raise Forbidden("These credentials are confined to one project and cannot create projects")

    def check_can_delete_project(self, project_id: str) -> None:
        self.check_project(project_id)
        if self.scope == "project" or (self.tenant and self.tenant.project_id == project_id):
            raise Forbidden("These credentials cannot delete the project they are confined to")

    def require_organization_admin(self) -> None:
        if not self.is_organization_admin:
            raise Forbidden("This action needs organization administrator credentials")


def stamp_tenant(update: dict, caller: Caller) -> dict:
    """In sa-sp, put the caller's tenant attribute on an endpoint update; refuse any other value.

    The refusal reads the same whatever foreign value was given, so it reveals no other tenant.
    """
    confined = caller.endpoint_tenant
    if confined is None:
        return update
    key, value = confined
    attributes = dict(update.get("Attributes") or {})
    given = attributes.get(key)
    if given is not None and list(given) != [value]:
        raise InvalidInput(
            f"Attributes.{key} is managed by Pinfold for tenant credentials: omit it or set it to [{value!r}]",
            field=f"Attributes.{key}",
        )
    attributes[key] = [value]
    return {**update, "Attributes": attributes}


# --- who owns a resource --------------------------------------------------------------------------
# A resource made with tenant credentials records its tenant (and carries the brief's `tenant` tag,
# so reports can tell tenants apart); a caller confined to a tenant sees only its own.

TENANT_TAG = "tenant"
NOBODY = ""  # the owner of what a project key may change among account resources: nothing


def project_resource_owner(caller: Caller) -> str | None:
    """The tenant that owns what this caller makes inside a project (segments; campaigns and journeys
    later): its own in a shared project (sa-sp); None elsewhere, where the project is the boundary."""
    return caller.tenant_id if caller.endpoint_tenant is not None else None


def account_resource_owner(caller: Caller) -> str | None:
    """The tenant whose account-level resources (message templates) these credentials manage in a
    shared account; None: all of them. A key confined to one project shares its account with others
    but is no tenant: it may read the operator's resources and change none (NOBODY)."""
    if caller.tenant is not None and caller.tenant.model in ("sa-sp", "sa-mp"):
        return caller.tenant_id
    return NOBODY if caller.pinned_project() is not None else None


def tenant_value_of(doc: dict, attribute_key: str | None) -> str | None:
    """The tenant an endpoint belongs to in a shared project (the first value of its attribute)."""
    if not attribute_key:
        return None
    values = doc.get("Attributes", {}).get(attribute_key) or []
    return values[0] if values else None


def check_model(model: str) -> None:
    if model not in MODELS:
        raise InvalidInput(f"Unknown tenancy model {model!r}; use one of {', '.join(MODELS)}", field="model")
