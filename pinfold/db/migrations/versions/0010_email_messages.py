"""Outgoing email: what was asked for (a batch) and each message's delivery state.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JsonText = sa.JSON()  # stored and read back whole: plain json on PostgreSQL


def upgrade() -> None:
    op.create_table(
        "email_batches",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),  # "" for account-level (SES) sends
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("ses_tenant", sa.String(64)),
        sa.Column("configuration_set", sa.String(64)),
        sa.Column("definition", JsonText, nullable=False),  # sender, content or template, tags
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "email_messages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("batch_id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("recipient", JsonText, nullable=False),  # to, cc, bcc, endpoint_id, substitutions
        # queued → sending → delivered | bounced | suppressed | failed (rendering) | soft_bounced
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", sa.Float, nullable=False),  # queued: next attempt; sending: lease expiry
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.Float),  # first handed to the relay (the _email.send moment)
        sa.Column("detail", sa.Text),
        sa.Column("mail", JsonText),  # the mail object of its event records, kept for later feedback
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_email_messages_due", "email_messages", ["due_at"],
                    sqlite_where=sa.text("status IN ('queued', 'sending')"),
                    postgresql_where=sa.text("status IN ('queued', 'sending')"))
    op.create_index("ix_email_messages_batch", "email_messages", ["batch_id"])
    op.create_index("ix_email_messages_created", "email_messages", ["created_at"])


def downgrade() -> None:
    op.drop_table("email_messages")
    op.drop_table("email_batches")
