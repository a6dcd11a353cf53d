"""Event streams (PutEventStream) and the pump's progress per sink.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_streams",
        sa.Column("project_id", sa.String(32), primary_key=True),
        sa.Column("destination_stream_arn", sa.Text, nullable=False),
        sa.Column("role_arn", sa.Text, nullable=False),
        sa.Column("modified_at", sa.String(32), nullable=False),
        sa.Column("modified_by", sa.Text, nullable=False),
    )
    op.create_index("ix_event_streams_destination", "event_streams", ["destination_stream_arn"])
    op.create_table(
        "event_sinks",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("delivered_seq", sa.BigInteger, nullable=False),
        # The batch being written (first and last outbox seq): after a crash it is written again
        # exactly, so its files are replaced rather than duplicated.
        sa.Column("inflight_first", sa.BigInteger),
        sa.Column("inflight_last", sa.BigInteger),
        sa.Column("failing_since", sa.Float),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("event_sinks")
    op.drop_table("event_streams")
