"""Segments and their immutable versions.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("segment_type", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("modified_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_segments_project", "segments", ["project_id", "created_at", "id"])
    op.create_table(
        "segment_versions",
        sa.Column("segment_id", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("definition", Json, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("segment_versions")
    op.drop_table("segments")
