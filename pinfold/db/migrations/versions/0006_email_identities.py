"""SES v2 account state: email identities, sending quotas, suppression lists and SES tenants.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "email_identities",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("identity", sa.String(320), primary_key=True),
        sa.Column("identity_type", sa.String(16), nullable=False),
        sa.Column("verification_status", sa.String(24), nullable=False),
        sa.Column("verification_error", sa.String(32)),
        sa.Column("last_checked_at", sa.Float),
        sa.Column("last_success_at", sa.Float),
        sa.Column("dkim_origin", sa.String(24)),
        sa.Column("dkim_selector", sa.String(63)),
        sa.Column("dkim_public_key", sa.Text),
        sa.Column("dkim_private_ciphertext", sa.Text),
        sa.Column("dkim_key_length", sa.String(16)),
        sa.Column("dkim_key_created_at", sa.Float),
        sa.Column("dkim_status", sa.String(24)),
        sa.Column("dkim_signing_enabled", sa.Boolean, nullable=False),
        sa.Column("configuration_set", sa.String(64)),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "email_accounts",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("production_access", sa.Boolean, nullable=False),
        sa.Column("sending_enabled", sa.Boolean, nullable=False),
        sa.Column("max_24h", sa.Integer, nullable=False),
        sa.Column("max_rate", sa.Float, nullable=False),
        sa.Column("suppressed_reasons", Json, nullable=False),
        sa.Column("details", Json),
        sa.Column("rate_tat", sa.Float, nullable=False),
        sa.Column("sent_in_window", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "email_send_counts",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("minute", sa.BigInteger, primary_key=True),
        sa.Column("sent", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "suppressed_destinations",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("tenant_name", sa.String(64), primary_key=True),
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("message_id", sa.Text),
        sa.Column("feedback_id", sa.Text),
    )
    op.create_table(
        "ses_tenants",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("registry_tenant_id", sa.String(64)),
        sa.Column("sending_status", sa.String(16), nullable=False),
        sa.Column("suppression_scope", sa.String(16), nullable=False),
        sa.Column("suppressed_reasons", Json, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_ses_tenants_registry", "ses_tenants", ["registry_tenant_id"])
    op.create_table(
        "ses_tenant_resources",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("tenant_name", sa.String(64), primary_key=True),
        sa.Column("resource_arn", sa.String(512), primary_key=True),
        sa.Column("resource_type", sa.String(24), nullable=False),
        sa.Column("associated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_ses_tenant_resources_arn", "ses_tenant_resources", ["account_id", "region", "resource_arn"])


def downgrade() -> None:
    op.drop_table("ses_tenant_resources")
    op.drop_table("ses_tenants")
    op.drop_table("suppressed_destinations")
    op.drop_table("email_send_counts")
    op.drop_table("email_accounts")
    op.drop_table("email_identities")
