"""Events waiting to trigger event-based campaigns (campaign_triggers): written by the pump's trigger
sink, taken by the scheduler. The unique (campaign, event, endpoint) key makes a record the pump
delivers twice trigger once."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import campaign_triggers as triggers
from pinfold.db.tables import campaigns

EVENT_ACTIVE_SQL = sa.text("frequency = 'EVENT' AND state IN ('SCHEDULED', 'EXECUTING', 'PENDING_NEXT_RUN')")


def add(conn: Connection, rows: list[dict]) -> None:
    """Record triggers (campaign_id, endpoint_id, event_id, event_ms, created_at); repeats are ignored."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(triggers).on_conflict_do_nothing(index_elements=["campaign_id", "event_id", "endpoint_id"]),
                 rows)


def peek(conn: Connection, campaign_id: str, limit: int) -> list[dict]:
    """Up to `limit` of a campaign's oldest triggers, left in place."""
    query = sa.select(triggers).where(triggers.c.campaign_id == campaign_id).order_by(triggers.c.seq).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def remove(conn: Connection, seqs: list[int]) -> int:
    """Delete these triggers; how many were still there (fewer: another scheduler took them)."""
    if not seqs:
        return 0
    return conn.execute(triggers.delete().where(triggers.c.seq.in_(seqs))).rowcount


def waiting_campaigns(conn: Connection) -> list[str]:
    """Campaigns with triggers waiting, oldest trigger first."""
    query = (sa.select(triggers.c.campaign_id, sa.func.min(triggers.c.seq).label("first"))
             .group_by(triggers.c.campaign_id).order_by("first"))
    return [row.campaign_id for row in conn.execute(query)]


def active_event_campaigns(conn: Connection) -> list[dict]:
    """Every event-based campaign that may still fire, with what the trigger sink needs to match."""
    query = sa.select(campaigns.c.id, campaigns.c.project_id, campaigns.c.tenant_id, campaigns.c.version,
                      campaigns.c.created_at).where(EVENT_ACTIVE_SQL)
    return [dict(row) for row in conn.execute(query).mappings()]


def delete_campaign(conn: Connection, campaign_id: str) -> None:
    conn.execute(triggers.delete().where(triggers.c.campaign_id == campaign_id))
