"""`execute_many`, the bulk writes' one path: every row in, on both databases, however it is cut up
(PostgreSQL copies; SQLite writes many rows a statement, as many as its parameters allow)."""

from __future__ import annotations

import sqlalchemy as sa

from pinfold.db import database
from pinfold.db.database import execute_many

_METADATA = sa.MetaData()
_TABLE = sa.Table("bulk_rows", _METADATA, sa.Column("id", sa.Text, primary_key=True),
                  sa.Column("n", sa.Integer), sa.Column("note", sa.Text))


def _rows(ctx) -> dict:
    with ctx.db.read() as conn:
        return {row.id: (row.n, row.note) for row in conn.execute(sa.select(_TABLE))}


def _fresh(ctx) -> None:
    with ctx.db.write() as conn:
        _TABLE.drop(conn, checkfirst=True)
        _TABLE.create(conn)


def test_many_rows_are_inserted_every_one_however_many_statements_it_takes(ctx, monkeypatch):
    _fresh(ctx)
    rows = [(f"r{i:05d}", i, "x" * (i % 7)) for i in range(1_234)]  # past SQLite's 500 a statement
    with ctx.db.write() as conn:
        changed = execute_many(conn, _TABLE, "insert", ("id", "n", "note"), rows)
    assert changed in (1_234, None)  # None: PostgreSQL's COPY does not count
    assert _rows(ctx) == {id_: (n, note) for id_, n, note in rows}

    monkeypatch.setattr(database, "SQLITE_PARAMETERS", 7)  # three columns: two rows a statement
    more = [(f"s{i}", i, None) for i in range(5)]
    with ctx.db.write() as conn:
        execute_many(conn, _TABLE, "insert", ("id", "n", "note"), more)
    assert len(_rows(ctx)) == 1_239


def test_an_upsert_of_many_rows_changes_those_there_and_adds_the_rest(ctx):
    _fresh(ctx)
    with ctx.db.write() as conn:
        execute_many(conn, _TABLE, "insert", ("id", "n", "note"), [(f"r{i}", i, "old") for i in range(600)])
        changed = execute_many(conn, _TABLE, "upsert", ("id", "n", "note"),
                               [(f"r{i}", -i, "new") for i in range(300, 900)], ("id",))
    assert changed == 600
    found = _rows(ctx)
    assert len(found) == 900
    assert found["r0"] == (0, "old") and found["r300"] == (-300, "new") and found["r899"] == (-899, "new")


def test_a_failing_statement_leaves_none_of_the_rows(ctx):
    _fresh(ctx)
    rows = [(f"r{i}", i, None) for i in range(700)] + [("r5", 5, None)]  # the last repeats a key
    try:
        with ctx.db.write() as conn:
            execute_many(conn, _TABLE, "insert", ("id", "n", "note"), rows)
    except Exception:  # noqa: BLE001 - the database's own IntegrityError, named differently per driver
        pass
    else:
        raise AssertionError("a repeated key was stored")
    assert _rows(ctx) == {}
