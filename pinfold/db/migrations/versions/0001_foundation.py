"""Foundation: organization, accounts, identities, projects, endpoints, tags, tenants, event outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(34), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("management_account_id", sa.String(12), nullable=False),
        sa.Column("shared_account_id", sa.String(12)),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(12), primary_key=True),
        sa.Column("organization_id", sa.String(34), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("project_cap", sa.Integer),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "principals",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("project_id", sa.String(32)),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_principals_tenant", "principals", ["tenant_id"])
    op.create_index("ix_principals_account", "principals", ["account_id"])
    op.create_table(
        "access_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("principal_id", sa.String(32), nullable=False),
        sa.Column("secret_ciphertext", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32)),
    )
    op.create_index("ix_access_keys_principal", "access_keys", ["principal_id"])
    op.create_table(
        "projects",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("settings", Json, nullable=False),
        sa.Column("settings_modified_at", sa.String(32), nullable=False),
        sa.Column("tenant_attribute_key", sa.String(50)),
    )
    op.create_index(
        "ix_projects_account_region", "projects", ["account_id", "region", "created_at", "id"]
    )
    op.create_table(
        "tags",
        sa.Column("resource_arn", sa.String(512), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "endpoints",
        sa.Column("project_id", sa.String(32), primary_key=True),
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("channel_type", sa.String(24)),
        sa.Column("address", sa.Text),
        sa.Column("user_id", sa.Text),
        sa.Column("tenant_value", sa.String(100)),
        sa.Column("document", Json, nullable=False),
    )
    op.create_index("ix_endpoints_user", "endpoints", ["project_id", "user_id"])
    op.create_index("ix_endpoints_tenant", "endpoints", ["project_id", "tenant_value"])
    op.create_index(
        "ux_endpoints_channel_address", "endpoints", ["project_id", "address", "channel_type"],
        unique=True,
        sqlite_where=sa.text("address IS NOT NULL"),
        postgresql_where=sa.text("address IS NOT NULL"),
    )
    op.create_table(
        "event_outbox",
        sa.Column("seq", Seq, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("arrival_ms", sa.BigInteger, nullable=False),
        sa.Column("record", Json, nullable=False),
    )
    op.create_index("ix_event_outbox_project", "event_outbox", ["project_id", "seq"])
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("model", sa.String(8), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("attribute_key", sa.String(50)),
        sa.Column("attribute_value", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("metadata", Json, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_tenants_project", "tenants", ["project_id"])
    op.create_index("ix_tenants_account", "tenants", ["account_id"])


def downgrade() -> None:
    for table in (
        "tenants", "event_outbox", "endpoints", "tags", "projects",
        "access_keys", "principals", "accounts", "organizations",
    ):
        op.drop_table(table)
