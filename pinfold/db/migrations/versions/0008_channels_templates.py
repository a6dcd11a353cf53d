"""Project channels (one JSON document per channel type) and account message templates with versions.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("project_id", sa.String(32), primary_key=True),
        sa.Column("channel_type", sa.String(24), primary_key=True),
        sa.Column("document", Json, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("modified_at", sa.String(32), nullable=False),
        sa.Column("modified_by", sa.Text, nullable=False),
    )
    op.create_table(
        "templates",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("template_type", sa.String(8), nullable=False),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("active_version", sa.Integer, nullable=False),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("last_assigned", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("modified_at", sa.String(32), nullable=False),
    )
    op.create_index("ux_templates_name", "templates", ["account_id", "region", "name", "template_type"], unique=True)
    op.create_index("ix_templates_tenant", "templates", ["tenant_id"])
    op.create_table(
        "template_versions",
        sa.Column("template_id", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("document", Json, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("modified_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("template_versions")
    op.drop_table("templates")
    op.drop_table("channels")
