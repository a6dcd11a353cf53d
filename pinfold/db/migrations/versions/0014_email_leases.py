"""An index of the email messages a sending worker holds (status 'sending'), by lease expiry: a dead
worker's messages are claimed again first, without walking the whole queue to find them.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_email_messages_leased", "email_messages", ["due_at"],
                    sqlite_where=sa.text("status = 'sending'"), postgresql_where=sa.text("status = 'sending'"))


def downgrade() -> None:
    op.drop_index("ix_email_messages_leased", table_name="email_messages")
