"""The outbox never reuses a sequence number on SQLite.

SQLite numbers a plain INTEGER PRIMARY KEY one past the highest row present, so once the pump had
trimmed the outbox empty, new records started again at 1, behind every sink's cursor, and were
never delivered. AUTOINCREMENT keeps numbers rising; the counter starts past every cursor.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COLUMNS = "seq, event_id, account_id, region, project_id, tenant_id, event_type, arrival_ms, record"


def _rebuild(autoincrement: str) -> None:
    op.execute("ALTER TABLE event_outbox RENAME TO event_outbox_old")
    op.execute("DROP INDEX IF EXISTS ix_event_outbox_project")
    op.execute(f"""CREATE TABLE event_outbox (
        seq INTEGER NOT NULL PRIMARY KEY {autoincrement},
        event_id VARCHAR(36) NOT NULL,
        account_id VARCHAR(12) NOT NULL,
        region VARCHAR(32) NOT NULL,
        project_id VARCHAR(32) NOT NULL,
        tenant_id VARCHAR(64),
        event_type VARCHAR(64) NOT NULL,
        arrival_ms BIGINT NOT NULL,
        record JSON NOT NULL,
        UNIQUE (event_id))""")
    op.execute(f"INSERT INTO event_outbox ({_COLUMNS}) SELECT {_COLUMNS} FROM event_outbox_old")
    op.execute("DROP TABLE event_outbox_old")
    op.execute("CREATE INDEX ix_event_outbox_project ON event_outbox (project_id, seq)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's sequence never goes back
    _rebuild("AUTOINCREMENT")
    op.execute("""INSERT INTO sqlite_sequence (name, seq)
                  SELECT 'event_outbox', coalesce(max(delivered_seq), 0) FROM event_sinks
                  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'event_outbox')""")
    op.execute("""UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(delivered_seq), 0)
                  FROM event_sinks)) WHERE name = 'event_outbox'""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild("")
