"""SMS: the account's SMS resources (numbers, sender ids, pools, opt-out lists, configuration sets,
verified destinations, settings), opted-out numbers, monthly spend, and the SMS sending queue.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

Json = sa.JSON().with_variant(JSONB(), "postgresql")  # queried inside: JSONB on PostgreSQL
JsonText = sa.JSON()  # stored and read back whole: plain json on PostgreSQL

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_resources",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("pool_id", sa.String(64)),
        sa.Column("document", Json, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_sms_resources_name", "sms_resources", ["kind", "name", "account_id", "region"])
    op.create_table(
        "sms_opted_out_numbers",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("list_name", sa.String(64), primary_key=True),
        sa.Column("number", sa.String(20), primary_key=True),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("end_user", sa.Boolean, nullable=False),
        sa.Column("opted_out_at", sa.Float, nullable=False),
        sa.Column("removed_at", sa.Float),
    )
    op.create_table(
        "sms_spend",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("dollars", sa.Float, nullable=False),
    )
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32)),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("message", JsonText, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("remote_id", sa.String(128)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("sent_at", sa.Float),
    )
    waiting = "status IN ('queued', 'sending')"
    op.create_index("ix_sms_messages_due", "sms_messages", ["due_at"], sqlite_where=sa.text(waiting),
                    postgresql_where=sa.text(waiting))
    op.create_index("ix_sms_messages_leased", "sms_messages", ["due_at"], sqlite_where=sa.text("status = 'sending'"),
                    postgresql_where=sa.text("status = 'sending'"))
    op.create_index("ix_sms_messages_remote", "sms_messages", ["remote_id"])
    op.create_index("ix_sms_messages_created", "sms_messages", ["created_at"])


def downgrade() -> None:
    op.drop_table("sms_messages")
    op.drop_table("sms_spend")
    op.drop_table("sms_opted_out_numbers")
    op.drop_index("ix_sms_resources_name", table_name="sms_resources")
    op.drop_table("sms_resources")
