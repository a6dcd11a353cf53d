"""A value the database refuses (past 64 bits, NUL in text, longer than its varchar) is InvalidInput,
so the edge answers 400, whichever database is behind it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pinfold.core.errors import InvalidInput
from pinfold.db.database import COPY_MIN_ROWS, execute_many
from tests.conftest import ON_POSTGRES


def test_an_integer_past_the_column_is_invalid_input(ctx):
    with pytest.raises(InvalidInput, match="cannot be stored"), ctx.db.write() as conn:
        conn.execute(sa.text("SELECT CAST(:n AS INTEGER)"), {"n": 10**23})


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite stores NUL and any length of text")
@pytest.mark.parametrize("column, value", [
    ("TEXT", "a\x00b"),
    ("VARCHAR(4)", "abcdefgh"),
    ("JSONB", '{"a": "\\u0000"}'),
    ("TIMESTAMPTZ", "2026-13-45T00:00:00Z"),
])
def test_postgresql_refusals_of_a_value_are_invalid_input(ctx, column, value):
    with pytest.raises(InvalidInput, match="cannot be stored"), ctx.db.write() as conn:
        conn.execute(sa.text(f"CREATE TEMPORARY TABLE refused (v {column})"))
        conn.execute(sa.text("INSERT INTO refused (v) VALUES (:v)"), {"v": value})


def test_other_database_errors_stay_internal(ctx):
    with pytest.raises(sa.exc.DBAPIError), ctx.db.read() as conn:
        conn.execute(sa.text("SELECT * FROM no_such_table"))


@pytest.mark.skipif(not ON_POSTGRES, reason="COPY is PostgreSQL's bulk path")
def test_a_refusal_inside_a_bulk_copy_is_invalid_input_too(ctx):
    table = sa.Table("refused_copy", sa.MetaData(), sa.Column("v", sa.String(4)))
    rows = [("ok",)] * COPY_MIN_ROWS + [("far too long",)]
    with pytest.raises(InvalidInput, match="cannot be stored"), ctx.db.write() as conn:
        conn.execute(sa.text("CREATE TEMPORARY TABLE refused_copy (v VARCHAR(4))"))
        execute_many(conn, table, "insert", ("v",), rows)
