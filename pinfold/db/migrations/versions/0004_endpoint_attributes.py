"""Segment resolution by index: every endpoint's attribute values in their own table, and its
EffectiveDate as a number (on the endpoint and, so recency narrows while scanning values, on each value).

Revision ID: 0004
Revises: 0003
"""

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("endpoints", sa.Column("effective_at", sa.BigInteger))
    op.create_table(
        "endpoint_attributes",
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("endpoint_id", sa.Text, nullable=False),
        sa.Column("effective_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("project_id", "field", "value", "endpoint_id", postgresql_include=["effective_at"]),
        sqlite_with_rowid=False,
    )
    _backfill()


def _backfill() -> None:
    """Fill both from the endpoints already stored, a page at a time."""
    conn = op.get_bind()
    endpoints = sa.table("endpoints", sa.column("project_id"), sa.column("id"), sa.column("document"),
                         sa.column("effective_at"))
    attributes = sa.table("endpoint_attributes", sa.column("project_id"), sa.column("field"), sa.column("value"),
                          sa.column("endpoint_id"), sa.column("effective_at"))
    last = ("", "")
    while True:
        page = conn.execute(
            sa.select(endpoints.c.project_id, endpoints.c.id, endpoints.c.document)
            .where(sa.tuple_(endpoints.c.project_id, endpoints.c.id) > last)
            .order_by(endpoints.c.project_id, endpoints.c.id).limit(1000)
        ).all()
        if not page:
            return
        for project_id, endpoint_id, document in page:
            doc = json.loads(document) if isinstance(document, str) else document
            effective_at = effective_micros(doc)
            conn.execute(endpoints.update().where(endpoints.c.project_id == project_id, endpoints.c.id == endpoint_id)
                         .values(effective_at=effective_at))
            rows = [{"project_id": project_id, "field": f"{section}.{name}", "value": value, "endpoint_id": endpoint_id,
                     "effective_at": effective_at}
                    for section, holder in (("Attributes", doc), ("UserAttributes", doc.get("User") or {}))
                    for name, values in (holder.get(section) or {}).items() for value in set(values)]
            if rows:
                conn.execute(attributes.insert(), rows)
        last = (page[-1].project_id, page[-1].id)


def effective_micros(doc: dict) -> int | None:
    """The endpoint's EffectiveDate in microseconds since the epoch (a frozen copy of the store's rule)."""
    try:
        moment = datetime.fromisoformat(doc.get("EffectiveDate"))
    except (TypeError, ValueError):
        return None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def downgrade() -> None:
    op.drop_table("endpoint_attributes")
    op.drop_column("endpoints", "effective_at")
