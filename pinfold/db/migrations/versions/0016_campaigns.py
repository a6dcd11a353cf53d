"""Campaigns: campaigns and their versions, activities (one per run per treatment), per-endpoint
counts for the Daily and Total limits, and the events waiting to trigger event-based campaigns.
The sending queues gain a lane (transactional or campaign, each claimed on its own) and the campaign
activity that queued a message, for its progress.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("segment_id", sa.String(32), nullable=False),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("next_run_at", sa.Float),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("modified_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_campaigns_project", "campaigns", ["project_id", "created_at", "id"])
    op.create_index("ix_campaigns_due", "campaigns", ["next_run_at"], sqlite_where=sa.text("next_run_at IS NOT NULL"),
                    postgresql_where=sa.text("next_run_at IS NOT NULL"))
    op.create_index("ix_campaigns_segment", "campaigns", ["segment_id"])
    op.create_table(
        "campaign_versions",
        sa.Column("campaign_id", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("definition", Json, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "campaign_activities",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("campaign_id", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("run", sa.Integer, nullable=False),
        sa.Column("treatment_id", sa.String(8), nullable=False),
        sa.Column("campaign_version", sa.Integer, nullable=False),
        sa.Column("segment_version", sa.Integer),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("result", sa.String(8)),
        sa.Column("scheduled_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("ended_at", sa.Float),
        sa.Column("cursor", sa.Text),
        sa.Column("counts", Json, nullable=False),
        sa.Column("lease_until", sa.Float),
        sa.UniqueConstraint("campaign_id", "run", "treatment_id", name="ux_campaign_activities_run"),
    )
    op.create_index("ix_campaign_activities_campaign", "campaign_activities", ["campaign_id", "run", "treatment_id"])
    open_states = "state IN ('PENDING', 'INITIALIZING', 'RUNNING')"
    op.create_index("ix_campaign_activities_open", "campaign_activities", ["scheduled_at"],
                    sqlite_where=sa.text(open_states), postgresql_where=sa.text(open_states))
    op.create_table(
        "campaign_endpoint_counts",
        sa.Column("campaign_id", sa.String(32), primary_key=True),
        sa.Column("endpoint_id", sa.Text, primary_key=True),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("day_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "campaign_triggers",
        sa.Column("seq", Seq, primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.String(32), nullable=False),
        sa.Column("endpoint_id", sa.Text, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_ms", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("campaign_id", "event_id", "endpoint_id", name="ux_campaign_triggers_event"),
        sqlite_autoincrement=True,
    )
    for table in ("email_messages", "sms_messages"):
        op.add_column(table, sa.Column("lane", sa.SmallInteger, nullable=False, server_default="0"))
        _lane_indexes(table, ["lane", "due_at"])
    op.add_column("email_batches", sa.Column("activity_id", sa.String(32)))
    op.add_column("sms_messages", sa.Column("activity_id", sa.String(32)))
    for table, name in (("email_batches", "ix_email_batches_activity"), ("sms_messages", "ix_sms_messages_activity")):
        op.create_index(name, table, ["activity_id"], sqlite_where=sa.text("activity_id IS NOT NULL"),
                        postgresql_where=sa.text("activity_id IS NOT NULL"))


def _lane_indexes(table: str, columns: list[str]) -> None:
    """The claim indexes of a sending queue, rebuilt over `columns`."""
    waiting, leased = "status IN ('queued', 'sending')", "status = 'sending'"
    for suffix, where in (("due", waiting), ("leased", leased)):
        name = f"ix_{table}_{suffix}"
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    op.drop_index("ix_sms_messages_activity", table_name="sms_messages")
    op.drop_index("ix_email_batches_activity", table_name="email_batches")
    op.drop_column("sms_messages", "activity_id")
    op.drop_column("email_batches", "activity_id")
    for table in ("email_messages", "sms_messages"):
        _lane_indexes(table, ["due_at"])
        op.drop_column(table, "lane")
    op.drop_table("campaign_triggers")
    op.drop_table("campaign_endpoint_counts")
    op.drop_table("campaign_activities")
    op.drop_table("campaign_versions")
    op.drop_table("campaigns")
