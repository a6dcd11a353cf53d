"""Background jobs and imported-segment membership.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("job_type", sa.String(16), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("principal_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("definition", Json, nullable=False),
        sa.Column("progress", Json, nullable=False),
        sa.Column("segment_id", sa.String(32)),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("completed_at", sa.String(32)),
        sa.Column("heartbeat_at", sa.Float),
    )
    op.create_index("ix_jobs_project", "jobs", ["project_id", "job_type", "created_at", "id"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_table(
        "segment_members",
        sa.Column("segment_id", sa.String(32), primary_key=True),
        sa.Column("endpoint_id", sa.Text, primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("segment_members")
    op.drop_table("jobs")
