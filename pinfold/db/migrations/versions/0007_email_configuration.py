"""SES v2 configuration sets with their event destinations, operator webhooks for EventBridge
destinations, and SES email templates.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "configuration_sets",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("sending_enabled", sa.Boolean, nullable=False),
        # NULL: the account's suppression settings apply (SES's "no override").
        sa.Column("suppression", Json),
        sa.Column("options", Json, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "configuration_set_event_destinations",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("configuration_set", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("matching_event_types", Json, nullable=False),
        sa.Column("definition", Json, nullable=False),
        sa.Column("sink", sa.String(16), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "event_bus_webhooks",
        sa.Column("event_bus_arn", sa.String(512), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret_ciphertext", sa.Text),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    op.create_table(
        "email_templates",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("subject", sa.Text),
        sa.Column("html", sa.Text),
        sa.Column("text", sa.Text),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("email_templates")
    op.drop_table("event_bus_webhooks")
    op.drop_table("configuration_set_event_destinations")
    op.drop_table("configuration_sets")
