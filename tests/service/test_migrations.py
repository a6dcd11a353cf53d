"""Migrations build the schema from empty, match the table definitions, and go back down cleanly."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pinfold.audience.store import endpoints as endpoint_store
from pinfold.db.database import Database
from pinfold.db.tables import metadata


def _empty(database_url: str) -> Database:
    db = Database(database_url)
    db.downgrade("base")  # the per-test database is a copy of a migrated template: start from nothing
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


def test_0004_indexes_endpoints_that_were_already_stored(database_url):
    db = _empty(database_url)
    db.migrate("0003")
    doc = {"Id": "e1", "ChannelType": "EMAIL", "Address": "a@example.com", "EffectiveDate": "2026-11-01T00:00:00Z",
           "Attributes": {"plan": ["gold", "pro"]}, "User": {"UserId": "u", "UserAttributes": {"tier": ["1"]}}}
    with db.write() as conn:
        conn.execute(sa.text("INSERT INTO endpoints (project_id, id, channel_type, address, user_id, document) "
                             "VALUES ('p', 'e1', 'EMAIL', 'a@example.com', 'u', :doc)"), {"doc": json.dumps(doc)})
    db.migrate()
    with db.read() as conn:
        indexed = set(conn.execute(sa.text("SELECT field, value, endpoint_id, effective_at "
                                           "FROM endpoint_attributes")).all())
        effective = conn.execute(sa.text("SELECT effective_at FROM endpoints")).scalar_one()
    assert indexed == {("Attributes.plan", "gold", "e1", effective), ("Attributes.plan", "pro", "e1", effective),
                       ("UserAttributes.tier", "1", "e1", effective)}
    assert effective == endpoint_store.effective_micros(doc) == 1_793_491_200_000_000
    db.dispose()


def test_0009_new_outbox_records_follow_every_cursor_even_after_a_full_trim(database_url):
    from pinfold.events import outbox

    row = {"account_id": "000000000001", "region": "us-east-1", "project_id": "p", "tenant_id": None,
           "event_type": "x", "arrival_ms": 0, "record": {}}
    db = _empty(database_url)
    db.migrate("0008")
    with db.write() as conn:
        outbox.append(conn, [{**row, "event_id": "e-0"}])
        last = conn.exec_driver_sql("SELECT max(seq) FROM event_outbox").scalar()
        conn.execute(sa.text("INSERT INTO event_sinks (name, delivered_seq) VALUES ('lake', :seq)"), {"seq": last})
        conn.exec_driver_sql("DELETE FROM event_outbox")  # delivered and trimmed
    db.migrate()
    for n in range(1, 3):
        # Before 0009, SQLite numbered the next record of an empty outbox 1 again: behind the cursor, never sent.
        with db.write() as conn:
            outbox.append(conn, [{**row, "event_id": f"e-{n}"}])
            seq = conn.exec_driver_sql("SELECT max(seq) FROM event_outbox").scalar()
            assert seq > last
            last = seq
            conn.exec_driver_sql("DELETE FROM event_outbox")
    db.dispose()


def test_0013_keeps_stored_addresses_signing_with_their_domain(database_url):
    from pinfold.email.store import identities as email_identities

    db = _empty(database_url)
    db.migrate("0012")
    with db.write() as conn:
        for name, kind, signing in (("shop.example", "DOMAIN", True), ("news@shop.example", "EMAIL_ADDRESS", False)):
            conn.execute(sa.text("INSERT INTO email_identities (account_id, region, identity, identity_type, "
                                 "verification_status, dkim_status, dkim_signing_enabled, dkim_private_ciphertext, "
                                 "dkim_selector, created_at) VALUES ('000000000001', 'us-east-1', :name, :kind, "
                                 "'SUCCESS', 'SUCCESS', :signing, 'k', 's', 0)"),
                         {"name": name, "kind": kind, "signing": signing})
    db.migrate()
    with db.read() as conn:  # before 0013 an address's flag was unused and false; now false means opted out
        found = email_identities.sending_identity(conn, "000000000001", "us-east-1", "news@shop.example")
    assert found["dkim"]["domain"] == "shop.example"
    db.dispose()
