"""Custom channels: the webhook call queue and the call-rate limiters.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

JsonText = sa.JSON()  # stored and read back whole: plain json on PostgreSQL

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custom_calls",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("message", JsonText, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("remote_id", sa.String(256)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("sent_at", sa.Float),
        sa.Column("lane", sa.SmallInteger, nullable=False),
        sa.Column("activity_id", sa.String(32)),
    )
    waiting, leased = "status IN ('queued', 'sending')", "status = 'sending'"
    op.create_index("ix_custom_calls_due", "custom_calls", ["lane", "due_at"], sqlite_where=sa.text(waiting),
                    postgresql_where=sa.text(waiting))
    op.create_index("ix_custom_calls_leased", "custom_calls", ["lane", "due_at"], sqlite_where=sa.text(leased),
                    postgresql_where=sa.text(leased))
    named = "activity_id IS NOT NULL"
    op.create_index("ix_custom_calls_activity", "custom_calls", ["activity_id"], sqlite_where=sa.text(named),
                    postgresql_where=sa.text(named))
    op.create_index("ix_custom_calls_created", "custom_calls", ["created_at"])
    op.create_table(
        "custom_call_rates",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("tat", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("custom_call_rates")
    op.drop_table("custom_calls")
