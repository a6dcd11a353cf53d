"""An email address identity's dkim_signing_enabled now says whether it follows its domain's DKIM
signing (true) or has opted out (false). It was unused for addresses and stored false: set it true so
addresses keep the signing they had.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE email_identities SET dkim_signing_enabled = true WHERE identity_type = 'EMAIL_ADDRESS'")


def downgrade() -> None:
    op.execute("UPDATE email_identities SET dkim_signing_enabled = false WHERE identity_type = 'EMAIL_ADDRESS'")
