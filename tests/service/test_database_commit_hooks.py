"""Database.write runs what after_commit registered once the transaction has committed, and drops it
when the transaction rolls back; outside a write it is refused."""

from __future__ import annotations

import uuid

import pytest

from pinfold.core import ids
from pinfold.db.database import after_commit
from pinfold.db.tables import jobs


def _job_row() -> dict:
    return {"id": uuid.uuid4().hex, "job_type": "IMPORT", "project_id": "p", "principal_id": "x",
            "status": "CREATED", "definition": {}, "progress": {}, "created_at": ids.iso_now()}


def test_actions_run_after_the_commit_and_never_after_a_rollback(ctx):
    ran, seen = [], []
    with ctx.db.write() as conn:
        row = _job_row()
        conn.execute(jobs.insert().values(**row))

        def committed() -> None:  # by now another connection sees the row
            with ctx.db.read() as other:
                seen.append(other.execute(jobs.select().where(jobs.c.id == row["id"])).first() is not None)
            ran.append("first")

        after_commit(conn, committed)
        after_commit(conn, lambda: ran.append("second"))
        assert ran == []
    assert ran == ["first", "second"] and seen == [True]

    with pytest.raises(RuntimeError), ctx.db.write() as conn:
        conn.execute(jobs.insert().values(**_job_row()))
        after_commit(conn, lambda: ran.append("rolled back"))
        raise RuntimeError("the block fails")
    with ctx.db.write() as conn:  # the pooled connection carries no leftover action into the next write
        conn.execute(jobs.insert().values(**_job_row()))
    assert ran == ["first", "second"]


def test_a_failing_action_does_not_undo_the_commit(ctx, caplog):
    row = _job_row()
    with ctx.db.write() as conn:
        conn.execute(jobs.insert().values(**row))
        after_commit(conn, lambda: 1 / 0)
    with ctx.db.read() as conn:
        assert conn.execute(jobs.select().where(jobs.c.id == row["id"])).first() is not None
    assert any("after a commit failed" in record.getMessage() for record in caplog.records)


def test_after_commit_needs_a_write_transaction(ctx):
    with ctx.db.read() as conn, pytest.raises(RuntimeError, match="Database.write"):
        after_commit(conn, lambda: None)
