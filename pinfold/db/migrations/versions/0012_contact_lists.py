"""SES v2 contact lists (with their topics) and the contacts on them.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "contact_lists",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        # Who may see the list: NULL for the account's own, else the confined creator's tenant or project.
        sa.Column("owner", sa.String(80)),
        sa.Column("description", sa.Text),
        sa.Column("topics", Json, nullable=False),  # [{TopicName, DisplayName, Description, DefaultSubscriptionStatus}]
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "contacts",
        sa.Column("account_id", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("contact_list", sa.String(64), primary_key=True),
        sa.Column("address_key", sa.String(320), primary_key=True),  # the address, lower-cased
        sa.Column("email_address", sa.String(320), nullable=False),  # as first given
        sa.Column("topic_preferences", Json, nullable=False),  # {topic name: OPT_IN | OPT_OUT}
        sa.Column("unsubscribe_all", sa.Boolean, nullable=False),
        sa.Column("attributes_data", sa.Text),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("contacts")
    op.drop_table("contact_lists")
