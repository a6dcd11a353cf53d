"""SES tenants: CreateTenant, GetTenant, ListTenants, DeleteTenant, resource associations, and the
tenant's suppression attributes. Who may see and administer them is services.ses_access
(email_identities and email_account still import is_admin, own_tenant and require_admin from here).
"""

from __future__ import annotations

import re
import time
import uuid

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.arns import parse_arn, ses_arn, ses_identity_arn, ses_tenant_arn
from pinfold.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from pinfold.core.paging import after_key, limit_of, page_of
from pinfold.core.tags import check_tags
from pinfold.db.database import lock_keys
from pinfold.email.access import is_admin, own_tenant, require_admin, require_tenant
from pinfold.email.rules import sending_status
from pinfold.email.store import configuration_sets, suppression
from pinfold.email.store import identities as email_identities
from pinfold.email.store import templates as ses_templates
from pinfold.email.store import tenants as ses_tenants
from pinfold.projects import store as tag_store

MAX_TENANTS = 10_000
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_RESOURCE_TYPES = {"identity": "EMAIL_IDENTITY", "configuration-set": "CONFIGURATION_SET", "template": "EMAIL_TEMPLATE"}
REASONS = ("BOUNCE", "COMPLAINT")


# --- shared by the SES services -------------------------------------------------------------------

def tag_list(tags: dict[str, str]) -> list[dict]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def tags_of(request: dict) -> dict[str, str]:
    tags = {item["Key"]: item["Value"] for item in request.get("Tags") or []}
    check_tags(tags)
    return tags


# --- tenants ----------------------------------------------------------------------------------------

def tenant_arn(row: dict) -> str:
    return ses_tenant_arn(row["region"], row["account_id"], row["name"], row["id"])


def _info(row: dict) -> dict:
    return {"TenantName": row["name"], "TenantId": row["id"], "TenantArn": tenant_arn(row),
            "CreatedTimestamp": row["created_at"], "SendingStatus": sending_status.of_tenant(row)}


def _response(conn, row: dict) -> dict:
    return {**_info(row), "Tags": tag_list(tag_store.get_tags(conn, tenant_arn(row))),
            "SuppressionAttributes": {"SuppressedReasons": list(row["suppressed_reasons"]),
                                      "SuppressionScope": row["suppression_scope"]}}


def _suppression_attributes(given: dict | None) -> tuple[str, list[str]]:
    given = given or {}
    scope = given.get("SuppressionScope") or "ACCOUNT"
    reasons = list(dict.fromkeys(given.get("SuppressedReasons") or []))
    return scope, reasons


def create(ctx: Context, caller: Caller, request: dict) -> dict:
    require_admin(caller, "create SES tenants")
    name = request["TenantName"]
    if not _NAME.match(name):
        raise InvalidInput("TenantName must be 1-64 letters, digits, '-' or '_'", field="TenantName")
    tags = tags_of(request)
    scope, reasons = _suppression_attributes(request.get("SuppressionAttributes"))
    with ctx.db.write() as conn:
        lock_keys(conn, "ses-tenants", [f"{caller.account_id}/{caller.region}"])
        if ses_tenants.get(conn, caller.account_id, caller.region, name) is not None:
            raise Conflict(f"Tenant {name} already exists")
        if ses_tenants.count(conn, caller.account_id, caller.region) >= MAX_TENANTS:
            raise LimitExceeded(f"Tenant limit exceeded: at most {MAX_TENANTS} tenants per account and region")
        row = {"account_id": caller.account_id, "region": caller.region, "name": name,
               "id": "tn-" + uuid.uuid4().hex, "sending_status": "ENABLED", "suppression_scope": scope,
               "suppressed_reasons": reasons, "created_at": time.time(),
               "registry_tenant_id": ses_tenants.registry_match(conn, caller.account_id, caller.region, name)}
        ses_tenants.insert(conn, row)
        if tags:
            tag_store.put_tags(conn, tenant_arn(row), tags)
        return _response(conn, row)


def get(ctx: Context, caller: Caller, name: str) -> dict:
    with ctx.db.read() as conn:
        return _response(conn, require_tenant(conn, caller, name))


def list_page(ctx: Context, caller: Caller, filters: dict | None, page_size: int | None,
              token: str | None) -> dict:
    limit, after = limit_of(page_size or None), after_key(token, "tenants")
    filters = filters or {}
    with ctx.db.read() as conn:
        only = None
        if not is_admin(caller):
            mine = own_tenant(conn, caller)
            if mine is None:
                return {"Tenants": []}
            only = mine["name"]
        rows = ses_tenants.list_page(conn, caller.account_id, caller.region, after=after, limit=limit + 1, only=only,
                                     name_contains=filters.get("TENANT_NAME_CONTAINS"),
                                     sending_status=filters.get("SENDING_STATUS"))
    rows, token = page_of(rows, limit, "tenants", lambda row: row["name"])
    return {"Tenants": [_info(row) for row in rows], "NextToken": token}


def delete(ctx: Context, caller: Caller, name: str) -> None:
    """Delete the tenant, its associations and its own suppression list (the resources stay)."""
    require_admin(caller, "delete SES tenants")
    with ctx.db.write() as conn:
        row = require_tenant(conn, caller, name)
        ses_tenants.delete(conn, caller.account_id, caller.region, name)
        suppression.delete_list(conn, caller.account_id, caller.region, name)
        tag_store.delete_tags(conn, tenant_arn(row))


def put_suppression_attributes(ctx: Context, caller: Caller, name: str, reasons: list[str] | None,
                               scope: str | None) -> None:
    # A tenant choosing its own scope could stop honouring the account list everyone's reputation rests on.
    require_admin(caller, "change a tenant's suppression attributes")
    with ctx.db.write() as conn:
        require_tenant(conn, caller, name)
        ses_tenants.update(conn, caller.account_id, caller.region, name, suppression_scope=scope or "ACCOUNT",
                           suppressed_reasons=list(dict.fromkeys(reasons or [])))


# --- resource associations --------------------------------------------------------------------------

def _resource(conn, caller: Caller, resource_arn: str) -> tuple[str, str]:
    """(canonical ARN, resource type) of an existing identity, configuration set or template."""
    arn = parse_arn(resource_arn)
    kind, _slash, name = arn.resource.partition("/")
    if arn.service != "ses" or kind not in _RESOURCE_TYPES or not name:
        raise InvalidInput(f"ResourceArn must name an SES identity, configuration set or template: {resource_arn}",
                           field="ResourceArn")
    missing = NotFound(f"Resource not found: {resource_arn}")
    if (arn.account_id, arn.region) != (caller.account_id, caller.region):
        raise missing
    if kind == "identity":
        found = email_identities.get(conn, caller.account_id, caller.region, name)
        name = found["identity"] if found else name
    elif kind == "configuration-set":
        found = configuration_sets.get(conn, caller.account_id, caller.region, name)
    else:
        found = ses_templates.row(conn, caller.account_id, caller.region, name)
    if found is None:
        raise missing
    return ses_arn(caller.region, caller.account_id, kind, name), _RESOURCE_TYPES[kind]


def identity_arn(account_id: str, region: str, identity: str) -> str:
    return ses_identity_arn(region, account_id, identity.lower())


def associate(ctx: Context, caller: Caller, name: str, resource_arn: str) -> None:
    require_admin(caller, "associate resources with SES tenants")
    with ctx.db.write() as conn:
        require_tenant(conn, caller, name)
        ses_tenants.lock_resource(conn, _canonical(resource_arn))  # before its existence is checked
        arn, kind = _resource(conn, caller, resource_arn)
        lock_keys(conn, "ses-tenant-resources", [f"{caller.account_id}/{caller.region}/{name}"])
        if arn in ses_tenants.resources(conn, caller.account_id, caller.region, name):
            raise Conflict(f"Resource {arn} is already associated with tenant {name}")
        ses_tenants.associate(conn, caller.account_id, caller.region, name, arn, kind, time.time())


def dissociate(ctx: Context, caller: Caller, name: str, resource_arn: str) -> None:
    require_admin(caller, "remove resources from SES tenants")
    with ctx.db.write() as conn:
        require_tenant(conn, caller, name)
        arn = _canonical(resource_arn)
        if not ses_tenants.dissociate(conn, caller.account_id, caller.region, name, arn):
            raise NotFound(f"Resource {resource_arn} is not associated with tenant {name}")


def _canonical(resource_arn: str) -> str:
    """Identity names compare without case, so their ARNs are kept lowercased."""
    arn = parse_arn(resource_arn)
    kind, _slash, name = arn.resource.partition("/")
    return identity_arn(arn.account_id, arn.region, name) if kind == "identity" else str(arn)


def list_resources(ctx: Context, caller: Caller, name: str, filters: dict | None, page_size: int | None,
                   token: str | None) -> dict:
    limit, after = limit_of(page_size or None), after_key(token, "tenant-resources")
    with ctx.db.read() as conn:
        require_tenant(conn, caller, name)
        rows = ses_tenants.resources_page(conn, caller.account_id, caller.region, name, after=after,
                                          limit=limit + 1, resource_type=(filters or {}).get("RESOURCE_TYPE"))
    rows, token = page_of(rows, limit, "tenant-resources", lambda row: row["resource_arn"])
    return {"TenantResources": [{"ResourceType": row["resource_type"], "ResourceArn": row["resource_arn"]}
                                for row in rows],
            "NextToken": token}


def list_resource_tenants(ctx: Context, caller: Caller, resource_arn: str, page_size: int | None,
                          token: str | None) -> dict:
    limit, after = limit_of(page_size or None), after_key(token, "resource-tenants")
    with ctx.db.read() as conn:
        arn, _kind = _resource(conn, caller, resource_arn)
        only = None
        if not is_admin(caller):
            mine = own_tenant(conn, caller)
            if mine is None:
                return {"ResourceTenants": []}
            only = mine["name"]
        rows = ses_tenants.resource_tenants_page(conn, caller.account_id, caller.region, arn, after=after,
                                                 limit=limit + 1, only=only)
    rows, token = page_of(rows, limit, "resource-tenants", lambda row: row["tenant_name"])
    return {"ResourceTenants": [{"TenantName": row["tenant_name"], "TenantId": row["tenant_id"],
                                 "ResourceArn": row["resource_arn"], "AssociatedTimestamp": row["associated_at"]}
                                for row in rows],
            "NextToken": token}
