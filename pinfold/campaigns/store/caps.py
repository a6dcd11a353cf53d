"""Per-endpoint message counts of one campaign, kept only for campaigns with a Daily or Total limit."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import campaign_endpoint_counts as counts


def of_endpoints(conn: Connection, campaign_id: str, endpoint_ids: list[str]) -> dict[str, dict]:
    """The counts held for these endpoints, by endpoint id (endpoints never counted are absent)."""
    if not endpoint_ids:
        return {}
    query = sa.select(counts).where(counts.c.campaign_id == campaign_id, counts.c.endpoint_id.in_(endpoint_ids))
    return {row["endpoint_id"]: dict(row) for row in conn.execute(query).mappings()}


def save(conn: Connection, campaign_id: str, rows: list[dict]) -> None:
    """Write endpoints' counts as given (endpoint_id, total, day, day_count), over what was there."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(counts)
    statement = statement.on_conflict_do_update(
        index_elements=["campaign_id", "endpoint_id"],
        set_={"total": statement.excluded.total, "day": statement.excluded.day,
              "day_count": statement.excluded.day_count})
    conn.execute(statement, [{**row, "campaign_id": campaign_id} for row in rows])


def delete_campaign(conn: Connection, campaign_id: str) -> None:
    conn.execute(counts.delete().where(counts.c.campaign_id == campaign_id))
