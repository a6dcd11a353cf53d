"""SES tenants (CreateTenant) per account and region, their resource associations, and their link to
Pinfold's tenant registry (a registry tenant's credentials act as the SES tenant linked to it)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.core.errors import Conflict
from pinfold.db.database import lock_keys
from pinfold.db.tables import ses_tenant_resources as resources_table
from pinfold.db.tables import ses_tenants as tenants_table
from pinfold.db.tables import tenants as registry


def _key(table: sa.Table, account_id: str, region: str):
    return sa.and_(table.c.account_id == account_id, table.c.region == region)


def insert(conn: Connection, row: dict) -> None:
    conn.execute(tenants_table.insert().values(**row))


def get(conn: Connection, account_id: str, region: str, name: str) -> dict | None:
    query = sa.select(tenants_table).where(_key(tenants_table, account_id, region), tenants_table.c.name == name)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def update(conn: Connection, account_id: str, region: str, name: str, **values) -> None:
    conn.execute(tenants_table.update().where(_key(tenants_table, account_id, region), tenants_table.c.name == name)
                 .values(**values))


def delete(conn: Connection, account_id: str, region: str, name: str) -> None:
    """Remove the tenant and its associations (the resources themselves stay)."""
    conn.execute(resources_table.delete().where(_key(resources_table, account_id, region),
                                                resources_table.c.tenant_name == name))
    conn.execute(tenants_table.delete().where(_key(tenants_table, account_id, region), tenants_table.c.name == name))


def count(conn: Connection, account_id: str, region: str) -> int:
    query = sa.select(sa.func.count()).select_from(tenants_table).where(_key(tenants_table, account_id, region))
    return conn.execute(query).scalar()


def list_page(conn: Connection, account_id: str, region: str, *, after: str | None, limit: int,
              only: str | None = None, name_contains: str | None = None,
              sending_status: str | None = None) -> list[dict]:
    """Tenants in name order after `after`; `only` confines the page to that one name."""
    query = sa.select(tenants_table).where(_key(tenants_table, account_id, region))
    if after is not None:
        query = query.where(tenants_table.c.name > after)
    if only is not None:
        query = query.where(tenants_table.c.name == only)
    if name_contains:
        query = query.where(tenants_table.c.name.contains(name_contains, autoescape=True))
    if sending_status:  # the aggregate status (email/rules/sending_status.py)
        customer, managed = tenants_table.c.sending_status, tenants_table.c.managed_status
        query = query.where({
            "DISABLED": sa.or_(customer == "DISABLED", sa.and_(customer == "ENABLED", managed == "DISABLED")),
            "ENABLED": sa.and_(customer == "ENABLED", managed != "DISABLED"),
        }.get(sending_status, customer == sending_status))
    rows = conn.execute(query.order_by(tenants_table.c.name).limit(limit)).mappings()
    return [dict(row) for row in rows]


def registry_match(conn: Connection, account_id: str, region: str, name: str) -> str | None:
    """The registry tenant (not offboarded, not yet linked) of this account and region whose id is
    `name`. Only the id links: display names are not unique and could name another tenant's id."""
    query = sa.select(registry.c.id).where(
        registry.c.account_id == account_id, registry.c.region == region, registry.c.status != "offboarded",
        registry.c.id == name,
        ~sa.exists().where(tenants_table.c.registry_tenant_id == registry.c.id))
    return conn.execute(query).scalar()


def for_registry_tenant(conn: Connection, tenant_id: str) -> dict | None:
    """The SES tenant a registry tenant's credentials act as: the one linked to it, else an unlinked one
    in its account and region named after its id (created before the tenant was onboarded)."""
    linked = conn.execute(sa.select(tenants_table).where(tenants_table.c.registry_tenant_id == tenant_id)
                          .order_by(tenants_table.c.created_at)).mappings().first()
    if linked is not None:
        return dict(linked)
    entry = conn.execute(sa.select(registry).where(registry.c.id == tenant_id)).mappings().first()
    if entry is None or entry["status"] == "offboarded":
        return None
    query = sa.select(tenants_table).where(
        _key(tenants_table, entry["account_id"], entry["region"]), tenants_table.c.registry_tenant_id.is_(None),
        tenants_table.c.name == entry["id"])
    found = conn.execute(query).mappings().first()
    return dict(found) if found else None


def lock_resource(conn: Connection, resource_arn: str) -> None:
    """Until the transaction ends, no association of this resource is made or checked by anyone else:
    an association and the resource's deletion cannot cross (PostgreSQL; SQLite has one writer)."""
    lock_keys(conn, "ses-tenant-resource", [resource_arn])


def refuse_if_associated(conn: Connection, account_id: str, region: str, resource_arn: str, what: str) -> None:
    """Before deleting a resource: Conflict while any SES tenant uses it, and no association can slip
    in between this check and the delete (the resource's lock is held to the end of the transaction)."""
    lock_resource(conn, resource_arn)
    tenants = resource_tenants(conn, account_id, region, resource_arn)
    if tenants:
        noun = "tenant" if len(tenants) == 1 else "tenants"
        raise Conflict(f"{what} is associated with {noun} {', '.join(sorted(tenants))}; remove the "
                       "association (DeleteTenantResourceAssociation) first")


def associate(conn: Connection, account_id: str, region: str, name: str, resource_arn: str, resource_type: str,
              now: float) -> None:
    conn.execute(resources_table.insert().values(account_id=account_id, region=region, tenant_name=name,
                                                 resource_arn=resource_arn, resource_type=resource_type,
                                                 associated_at=now))


def dissociate(conn: Connection, account_id: str, region: str, name: str, resource_arn: str) -> bool:
    statement = resources_table.delete().where(_key(resources_table, account_id, region),
                                               resources_table.c.tenant_name == name,
                                               resources_table.c.resource_arn == resource_arn)
    return conn.execute(statement).rowcount > 0


def resources(conn: Connection, account_id: str, region: str, name: str) -> set[str]:
    """ARNs of the identities, configuration sets and templates associated with the tenant."""
    query = sa.select(resources_table.c.resource_arn).where(_key(resources_table, account_id, region),
                                                            resources_table.c.tenant_name == name)
    return set(conn.execute(query).scalars())


def resources_page(conn: Connection, account_id: str, region: str, name: str, *, after: str | None, limit: int,
                   resource_type: str | None = None) -> list[dict]:
    query = sa.select(resources_table).where(_key(resources_table, account_id, region),
                                             resources_table.c.tenant_name == name)
    if after is not None:
        query = query.where(resources_table.c.resource_arn > after)
    if resource_type:
        query = query.where(resources_table.c.resource_type == resource_type)
    rows = conn.execute(query.order_by(resources_table.c.resource_arn).limit(limit)).mappings()
    return [dict(row) for row in rows]


def resource_tenants(conn: Connection, account_id: str, region: str, resource_arn: str) -> list[str]:
    """Names of the tenants a resource is associated with, in name order."""
    query = sa.select(resources_table.c.tenant_name).where(_key(resources_table, account_id, region),
                                                           resources_table.c.resource_arn == resource_arn)
    return list(conn.execute(query.order_by(resources_table.c.tenant_name)).scalars())


def resource_tenants_page(conn: Connection, account_id: str, region: str, resource_arn: str, *, after: str | None,
                          limit: int, only: str | None = None) -> list[dict]:
    """Associations of one resource with tenant name, tenant id and association time, in name order."""
    joined = resources_table.join(tenants_table, sa.and_(
        tenants_table.c.account_id == resources_table.c.account_id,
        tenants_table.c.region == resources_table.c.region, tenants_table.c.name == resources_table.c.tenant_name))
    query = (sa.select(resources_table.c.tenant_name, resources_table.c.resource_arn,
                       resources_table.c.associated_at, tenants_table.c.id.label("tenant_id"))
             .select_from(joined)
             .where(_key(resources_table, account_id, region), resources_table.c.resource_arn == resource_arn))
    if after is not None:
        query = query.where(resources_table.c.tenant_name > after)
    if only is not None:
        query = query.where(resources_table.c.tenant_name == only)
    rows = conn.execute(query.order_by(resources_table.c.tenant_name).limit(limit)).mappings()
    return [dict(row) for row in rows]
