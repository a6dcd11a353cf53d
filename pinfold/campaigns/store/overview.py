"""The operator's reads over campaigns: a page of every project's campaigns (with their names, the
tenant each belongs to and whether their segment still exists), and the activities of one run."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import campaign_activities as activities
from pinfold.db.tables import campaign_versions, campaigns, projects, segments, tenants


def _owner():
    """The tenant a campaign belongs to: its sa-sp tenant, else the tenant placed in its project (sa-mp)
    or in its project's account (ma-mp); NULL for the organization's own projects."""
    placed = (sa.select(tenants.c.id)
              .where(tenants.c.status != "offboarded",
                     sa.or_(sa.and_(tenants.c.model == "sa-mp", tenants.c.project_id == campaigns.c.project_id),
                            sa.and_(tenants.c.model == "ma-mp", tenants.c.account_id == projects.c.account_id)))
              .order_by(tenants.c.id).limit(1).scalar_subquery())
    return sa.func.coalesce(campaigns.c.tenant_id, placed)


def page(conn: Connection, *, project_id: str | None = None, account_id: str | None = None,
         tenant_id: str | None = None, after: tuple[str, str] | None = None, limit: int) -> list[dict]:
    """Up to `limit` campaigns after `after` ((created_at, id)), oldest first, narrowed to a project,
    an account and an sa-sp tenant when given. Each row has the campaign's columns, `account_id`,
    `name` (its latest version's Name), `owner` (see _owner) and `segment_exists`."""
    segment_exists = sa.exists().where(segments.c.id == campaigns.c.segment_id)
    name = campaign_versions.c.definition["Name"].as_string()
    query = (sa.select(campaigns, projects.c.account_id, name.label("name"), _owner().label("owner"),
                       segment_exists.label("segment_exists"))
             .join(projects, projects.c.id == campaigns.c.project_id)
             .join(campaign_versions, sa.and_(campaign_versions.c.campaign_id == campaigns.c.id,
                                              campaign_versions.c.version == campaigns.c.version)))
    if project_id is not None:
        query = query.where(campaigns.c.project_id == project_id)
    if account_id is not None:
        query = query.where(projects.c.account_id == account_id)
    if tenant_id is not None:
        query = query.where(campaigns.c.tenant_id == tenant_id)
    if after is not None:
        query = query.where(sa.tuple_(campaigns.c.created_at, campaigns.c.id) > sa.tuple_(*after))
    query = query.order_by(campaigns.c.created_at, campaigns.c.id).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def run_activities(conn: Connection, campaign_id: str, run: int) -> list[dict]:
    """One run's activities (one per treatment), in treatment order."""
    query = (sa.select(activities).where(activities.c.campaign_id == campaign_id, activities.c.run == run)
             .order_by(activities.c.treatment_id))
    return [dict(row) for row in conn.execute(query).mappings()]


def recent_activities(conn: Connection, campaign_id: str, runs: int) -> list[dict]:
    """The activities of a campaign's last `runs` runs, oldest run first."""
    last = sa.select(sa.func.max(activities.c.run)).where(activities.c.campaign_id == campaign_id).scalar_subquery()
    query = (sa.select(activities).where(activities.c.campaign_id == campaign_id, activities.c.run > last - runs)
             .order_by(activities.c.run, activities.c.treatment_id))
    return [dict(row) for row in conn.execute(query).mappings()]
