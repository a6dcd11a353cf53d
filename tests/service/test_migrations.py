"""Migrations build the schema from empty, match the table definitions, and go back down cleanly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pinfold.store.database import Database
from pinfold.store.tables import metadata
from tests.conftest import ON_POSTGRES


def _empty(database_url: str) -> Database:
    db = Database(database_url)
    if ON_POSTGRES:  # the per-test database is a clone of a migrated template: start from nothing
        db.downgrade("base")
    return db


def test_upgrade_from_empty_matches_tables(database_url):
    db = _empty(database_url)
    assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.migrate()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"tables.py and the migrations disagree: {diff}"
    db.dispose()


def test_downgrade_to_base_and_up_again(database_url):
    db = _empty(database_url)
    db.migrate()
    db.downgrade("base")
    assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.migrate()
    assert "endpoints" in sa.inspect(db.engine).get_table_names()
    db.dispose()


def test_sqlite_runs_in_wal_mode(database_url):
    db = Database(database_url)
    if db.is_sqlite:
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    else:
        with db.read() as conn:
            assert conn.exec_driver_sql("SHOW server_version").scalar()
    db.dispose()
