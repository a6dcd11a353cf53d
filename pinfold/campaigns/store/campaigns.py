"""Campaigns: one row per campaign (its latest version, state and next due time) and every version's
definition."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import campaign_endpoint_counts, campaign_triggers, campaign_versions, campaigns, projects

_CAMPAIGN = sa.select(campaigns).where(campaigns.c.id == sa.bindparam("id"),
                                       campaigns.c.project_id == sa.bindparam("p"))
_VERSION = sa.select(campaign_versions).where(campaign_versions.c.campaign_id == sa.bindparam("id"),
                                              campaign_versions.c.version == sa.bindparam("version"))


def insert(conn: Connection, campaign: dict, definition: dict) -> None:
    """A new campaign with its first version (`campaign["version"]`)."""
    conn.execute(campaigns.insert(), campaign)
    add_version(conn, campaign["id"], campaign["version"], definition, campaign["modified_at"])


def add_version(conn: Connection, campaign_id: str, version: int, definition: dict, at: str) -> None:
    conn.execute(campaign_versions.insert(), {"campaign_id": campaign_id, "version": version,
                                              "definition": definition, "created_at": at})


def update(conn: Connection, campaign_id: str, **values) -> None:
    """Set columns of the campaign row (version, segment_id, frequency, state, runs, next_run_at, modified_at)."""
    conn.execute(campaigns.update().where(campaigns.c.id == campaign_id).values(**values))


def get(conn: Connection, project_id: str, campaign_id: str) -> dict | None:
    row = conn.execute(_CAMPAIGN, {"id": campaign_id, "p": project_id}).mappings().first()
    return dict(row) if row else None


def get_by_id(conn: Connection, campaign_id: str, *, for_update: bool = False) -> dict | None:
    query = sa.select(campaigns).where(campaigns.c.id == campaign_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def get_version(conn: Connection, campaign_id: str, version: int) -> dict | None:
    row = conn.execute(_VERSION, {"id": campaign_id, "version": version}).mappings().first()
    return dict(row) if row else None


def list_page(conn: Connection, project_id: str, *, tenant_id: str | None, after: tuple[str, str] | None,
              limit: int) -> list[dict]:
    """A page of a project's campaigns, oldest first; `tenant_id` confines it to one sa-sp tenant's."""
    query = sa.select(campaigns).where(campaigns.c.project_id == project_id)
    if tenant_id is not None:
        query = query.where(campaigns.c.tenant_id == tenant_id)
    if after is not None:
        query = query.where(sa.tuple_(campaigns.c.created_at, campaigns.c.id) > sa.tuple_(*after))
    query = query.order_by(campaigns.c.created_at, campaigns.c.id).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def versions_page(conn: Connection, campaign_id: str, *, after: int, limit: int) -> list[dict]:
    """A page of one campaign's versions, oldest first, after version number `after`."""
    query = (sa.select(campaign_versions)
             .where(campaign_versions.c.campaign_id == campaign_id, campaign_versions.c.version > after)
             .order_by(campaign_versions.c.version).limit(limit))
    return [dict(row) for row in conn.execute(query).mappings()]


def due(conn: Connection, now: float, limit: int) -> list[dict]:
    """Campaigns the scheduler should look at now, most overdue first."""
    query = (sa.select(campaigns).where(sa.text("next_run_at IS NOT NULL"), campaigns.c.next_run_at <= now)
             .order_by(campaigns.c.next_run_at).limit(limit))
    return [dict(row) for row in conn.execute(query).mappings()]


def using_segment(conn: Connection, segment_id: str) -> list[dict]:
    """The campaigns that target a segment (deleting it marks them DELETED)."""
    return [dict(row) for row in conn.execute(sa.select(campaigns).where(campaigns.c.segment_id == segment_id))
            .mappings()]


def of_frequency(conn: Connection, project_id: str, frequency: str) -> list[dict]:
    """A project's campaigns of one frequency (EVENT campaigns for the trigger)."""
    query = sa.select(campaigns).where(campaigns.c.project_id == project_id, campaigns.c.frequency == frequency)
    return [dict(row) for row in conn.execute(query).mappings()]


def delete(conn: Connection, campaign_id: str) -> None:
    conn.execute(campaign_versions.delete().where(campaign_versions.c.campaign_id == campaign_id))
    conn.execute(campaigns.delete().where(campaigns.c.id == campaign_id))


def project_campaign_ids(conn: Connection, project_id: str, tenant_id: str | None = None) -> list[str]:
    query = sa.select(campaigns.c.id).where(campaigns.c.project_id == project_id)
    if tenant_id is not None:
        query = query.where(campaigns.c.tenant_id == tenant_id)
    return list(conn.execute(query).scalars())


# --- quotas and removal (the API's) ------------------------------------------------------------------

ACTIVE_STATES = ("SCHEDULED", "EXECUTING", "PENDING_NEXT_RUN")


def count_active(conn: Connection, account_id: str, region: str) -> int:
    """Active campaigns (SCHEDULED, EXECUTING, PENDING_NEXT_RUN) in every project of an account and region."""
    query = (sa.select(sa.func.count()).select_from(campaigns.join(projects, projects.c.id == campaigns.c.project_id))
             .where(projects.c.account_id == account_id, projects.c.region == region,
                    campaigns.c.state.in_(ACTIVE_STATES)))
    return conn.execute(query).scalar_one()


def count_event_campaigns(conn: Connection, project_id: str, frequency: str = "EVENT") -> int:
    """A project's campaigns of `frequency` (EVENT or IN_APP_EVENT) that have not completed."""
    query = sa.select(sa.func.count()).select_from(campaigns).where(
        campaigns.c.project_id == project_id, campaigns.c.frequency == frequency, campaigns.c.state != "COMPLETED")
    return conn.execute(query).scalar_one()


def delete_runs_data(conn: Connection, campaign_id: str) -> None:
    """A deleted campaign's per-endpoint counts and pending triggers."""
    conn.execute(campaign_endpoint_counts.delete().where(campaign_endpoint_counts.c.campaign_id == campaign_id))
    conn.execute(campaign_triggers.delete().where(campaign_triggers.c.campaign_id == campaign_id))
