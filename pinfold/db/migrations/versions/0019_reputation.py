"""Reputation: bounce, complaint and send counts per scope and hour, each scope's judged levels, the
record of every pause and resume, the tally's cursor, the pause switches and policies of registry
tenants and SES tenants, tenants' own email quotas and SMS spend limits in a shared account, and quota
increase requests.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

JsonText = sa.JSON()

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reputation_counts",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("hour", sa.BigInteger, primary_key=True),
        sa.Column("sends", sa.BigInteger, nullable=False),
        sa.Column("bounces", sa.BigInteger, nullable=False),
        sa.Column("complaints", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "reputation_levels",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("bounce_level", sa.String(8), nullable=False),
        sa.Column("complaint_level", sa.String(8), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "reputation_history",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("detail", JsonText, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_reputation_history_key", "reputation_history", ["scope", "key", "at"])
    op.create_table(
        "reputation_cursor",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "tenant_quotas",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("max_24h", sa.BigInteger, nullable=False),
        sa.Column("max_rate", sa.Float, nullable=False),
        sa.Column("sent_in_window", sa.BigInteger, nullable=False),
        sa.Column("rate_tat", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "tenant_send_counts",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("minute", sa.BigInteger, primary_key=True),
        sa.Column("sent", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "sms_tenant_spend",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("dollars", sa.Float, nullable=False),
    )
    op.create_table(
        "quota_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("max_24h", sa.BigInteger, nullable=False),
        sa.Column("max_rate", sa.Float, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.Float, nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.Float),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_quota_requests_account", "quota_requests", ["account_id", "requested_at"])
    for table in ("tenants", "ses_tenants"):
        op.add_column(table, sa.Column("reputation_policy", sa.String(16), nullable=False, server_default="STANDARD"))
    op.add_column("tenants", sa.Column("sending_paused", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("tenants", sa.Column("sms_spend_limit", sa.Float))
    op.add_column("ses_tenants", sa.Column("managed_status", sa.String(16), nullable=False, server_default="ENABLED"))


def downgrade() -> None:
    with op.batch_alter_table("ses_tenants") as table:
        table.drop_column("managed_status")
        table.drop_column("reputation_policy")
    with op.batch_alter_table("tenants") as table:
        table.drop_column("sending_paused")
        table.drop_column("reputation_policy")
    op.drop_column("tenants", "sms_spend_limit")
    op.drop_table("quota_requests")
    op.drop_table("sms_tenant_spend")
    op.drop_table("tenant_send_counts")
    op.drop_table("tenant_quotas")
    op.drop_table("reputation_cursor")
    op.drop_table("reputation_history")
    op.drop_table("reputation_levels")
    op.drop_table("reputation_counts")
