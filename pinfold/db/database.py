"""The database, chosen by URL: SQLite (WAL) by default, PostgreSQL for scale.

Every dialect difference lives in this module, on purpose, which is why it runs past 400 lines;
SQLite's one-writer discipline (the writers' queue and the checkpointer) is in `db/sqlite.py`.
Repositories take a connection from `read()` or `write()` and stay dialect-neutral.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine

from pinfold.core.errors import InvalidInput
from pinfold.db import sqlite

log = logging.getLogger("pinfold.store")
MIGRATIONS = Path(__file__).parent / "migrations"
_POSTGRES = postgresql.dialect()
SETTLE_MIN_ROWS = 10_000  # bulk changes smaller than this leave statistics to autovacuum
COPY_MIN_ROWS = 50  # below this a PostgreSQL COPY costs more round trips than the INSERT it replaces
SQLITE_PARAMETERS = 32_766  # what one SQLite statement binds at most (since 3.32)
SQLITE_ROWS_PER_STATEMENT = 500  # many-row inserts on SQLite, this many rows a statement at most


_AFTER_COMMIT = "pinfold.after_commit"


def after_commit(conn: Connection, action: Callable[[], None]) -> None:
    """Run `action` once the write transaction `conn` belongs to has committed (counting what it
    wrote, say); it is dropped if the transaction rolls back."""
    try:
        conn.info[_AFTER_COMMIT].append(action)
    except KeyError:
        raise RuntimeError("after_commit needs a connection from Database.write()") from None


@contextmanager
def _pending(conn: Connection, actions: list) -> Iterator[None]:
    # conn.info outlives the checkout (it belongs to the pooled connection): always take the list off.
    conn.info[_AFTER_COMMIT] = actions
    try:
        yield
    finally:
        conn.info.pop(_AFTER_COMMIT, None)


def _dumps(value) -> str:
    return orjson.dumps(value).decode()


class Database:
    """An engine plus the transaction discipline for its dialect."""

    def __init__(self, url: str) -> None:
        self.url = sa.engine.make_url(_driver_url(url))
        self.dialect = self.url.get_backend_name()
        self.engine = self._create_engine()
        self._writer = sqlite.OneWriter(self.url.database) if self.is_sqlite else None
        self._checkpointer = sqlite.Checkpointer(self.engine, self._writer) if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _create_engine(self) -> Engine:
        # hide_parameters: a logged database error never carries request data or key material.
        common = {"json_serializer": _dumps, "json_deserializer": orjson.loads, "hide_parameters": True}
        if not self.is_sqlite:
            # No pre-ping: it cost a round trip per request. After a PostgreSQL restart the first
            # request on each stale connection fails (a 500 that AWS SDKs retry) and the pool reconnects.
            engine = sa.create_engine(self.url, pool_size=10, max_overflow=20, pool_recycle=1800, **common)
            sa.event.listen(engine, "handle_error", refuse_unstorable_value)
            return engine
        if self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            self.url, connect_args={"check_same_thread": False, "timeout": 30}, **common
        )
        sa.event.listen(engine, "connect", sqlite.configure)
        sa.event.listen(engine, "handle_error", refuse_unstorable_value)
        return engine

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads; nothing it does is committed."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back (all of it) if it raises.
        What `after_commit` registered in it runs once it has committed, and never if it has not."""
        committed: list[Callable[[], None]] = []
        if self._writer is None:
            with self.engine.begin() as conn, _pending(conn, committed):
                yield conn
        else:
            with self._writer.turn(), self.engine.connect() as conn, _pending(conn, committed):
                # IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
            self._checkpointer.written()
        for action in committed:
            try:
                action()
            except Exception:  # the transaction stands; a failed follow-up must not make it look lost
                log.exception("an action after a commit failed")

    def give_way(self) -> None:
        """Bulk work (sending, the pump, the scheduler) calls this between steps. On SQLite a thread of
        this process that holds the one writer's turn then has the interpreter to itself, rather than
        taking turns with them, and every other process's writer waits less (db/sqlite.py)."""
        if self._writer is not None:
            self._writer.give_way()

    def settle(self, tables: tuple[str, ...], changed_rows: int) -> None:
        """After a bulk change on PostgreSQL: refresh the planner's statistics and the visibility map
        (without it an index-only scan still visits the table for every row), for each table the
        change is a tenth or more of. Smaller changes are autovacuum's; SQLite needs neither."""
        if self.is_sqlite or changed_rows < SETTLE_MIN_ROWS:
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                estimate = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
                                                (table,)).scalar()
                if estimate is None or estimate <= changed_rows * 10:  # -1: never counted
                    conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to `revision` with Alembic."""
        self._alembic("upgrade", revision)

    def schema(self) -> tuple[str | None, str]:
        """(the revision this database is at, the newest one this code knows)."""
        with self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        return current, code_head()

    def downgrade(self, revision: str) -> None:
        self._alembic("downgrade", revision)

    def _alembic(self, action: str, revision: str) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as conn:
            config.attributes["connection"] = conn
            getattr(command, action)(config, revision)
            conn.commit()

    def lease(self, name: str) -> Lease | None:
        """Try to become the one holder of `name` among every process using this database; None if taken.

        PostgreSQL: a session advisory lock on a connection of its own, released when that connection
        ends (so a killed server frees it). SQLite: an exclusive lock on a file beside the database."""
        if not self.is_sqlite:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if conn.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (_lock_hash("lease", name),)).scalar():
                return Lease(conn=conn)
            conn.close()
            return None
        if not self.url.database or self.url.database == ":memory:":
            return Lease()
        handle = open(f"{self.url.database}.{name}.lock", "a+b")  # noqa: SIM115 - held for the lease's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return Lease(handle=handle)

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def known_revision(revision: str) -> bool:
    """Whether `revision` is one of this code's migrations."""
    try:
        return _scripts().get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for ids it has never seen
        return False


def pending_revisions(current: str | None) -> list[str]:
    """The migrations from `current` (a known revision, or None for an empty database) to the code's
    newest, oldest first, each as "revision: what it does"."""
    scripts = _scripts()
    found = scripts.iterate_revisions(scripts.get_current_head(), current or "base")
    return [f"{script.revision}: {(script.doc or '').strip()}" for script in reversed(list(found))]


def any_ciphertext(conn: Connection) -> str | None:
    """One secret encrypted with the master key, if the database holds any (to check the key with)."""
    from pinfold.db.tables import access_keys

    return conn.execute(sa.select(access_keys.c.secret_ciphertext).limit(1)).scalar()


@lru_cache(maxsize=1)
def code_head() -> str:
    """The newest migration this code knows (read once: the files do not change under a process)."""
    return _scripts().get_current_head()


@dataclass
class Lease:
    """Held until `release()` or until the process (or, on PostgreSQL, its connection) ends."""

    conn: Connection | None = None
    handle: object | None = None

    def alive(self) -> bool:
        if self.conn is None:
            return True
        try:
            self.conn.exec_driver_sql("SELECT 1")
            return True
        except sa.exc.DBAPIError:
            return False

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self.conn.invalidate()  # end the session (not back to the pool): that frees its advisory lock
                self.conn.close()
        if self.handle is not None:
            self.handle.close()  # closing the file drops the flock


def _driver_url(url: str) -> str:
    """Pick psycopg 3 for plain `postgresql://` URLs (SQLAlchemy would assume psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def refuse_unstorable_value(context: sa.engine.ExceptionContext) -> InvalidInput | None:
    """The one place a database's refusal of a value becomes InvalidInput (a 400), not a 500.

    PostgreSQL refuses NUL in text, a string longer than its varchar, a number out of an integer
    column's range, a date past its calendar (all DataError); SQLite refuses integers past 64 bits
    (OverflowError). The services validate what they know first; this is the net under them.
    """
    error = context.original_exception
    if not isinstance(context.sqlalchemy_exception, sa.exc.DataError) and not isinstance(error, OverflowError):
        return None
    return _unstorable(error)


def _unstorable(error: Exception) -> InvalidInput:
    reason = (str(error).splitlines() or [type(error).__name__])[0][:200]
    log.warning("the database refused a value from a request: %s", reason)
    return InvalidInput(f"A value in the request cannot be stored: {reason}")


def is_unique_violation(error: sa.exc.IntegrityError) -> bool:
    """True when an IntegrityError came from a unique index (both dialects word it differently)."""
    text = str(error.orig).lower()
    return "unique" in text or "duplicate key" in text


def commit_without_flush(conn: Connection) -> None:
    """Let this transaction's commit return before its WAL reaches disk (PostgreSQL).

    Only for writes that are safe to redo: a database crash may lose the last few such commits, never
    reorder them. SQLite in WAL mode with synchronous=NORMAL already commits this way.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def lock_keys(conn: Connection, namespace: str, keys: list[str]) -> None:
    """Hold a lock on each (namespace, key) until the transaction ends, so read-merge-write is atomic.

    SQLite needs nothing: write() already admits one writer at a time. PostgreSQL gets transaction
    advisory locks, which also cover keys with no row yet (two requests creating one endpoint);
    taking them in sorted order means two batches can never deadlock.
    """
    if conn.dialect.name != "postgresql" or not keys:
        return
    hashes = sorted({_lock_hash(namespace, key) for key in keys})
    conn.execute(_ADVISORY_LOCKS, {"keys": hashes})


def _lock_hash(namespace: str, key: str) -> int:
    digest = hashlib.blake2b(f"{namespace}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_ADVISORY_LOCKS = sa.text(
    "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k"
)


def keyed_lookup(conn: Connection, table: sa.Table, columns: tuple[str, ...], scope: str, key: str, *,
                 scope_value: str, keys: list[str]):
    """Rows of `table` whose `scope` column equals `scope_value` and whose `key` column is in `keys`.

    Planned as one index probe per key on both dialects. SQLite does that for an IN over json_each. PostgreSQL,
    before the table has statistics (a fresh database filling up), instead scanned the whole scope
    and filtered (7.6 ms instead of 0.4 ms at 40,000 rows), so it gets a LATERAL probe per key.
    """
    statement = _keyed_lookup_statement(conn.dialect.name, table, columns, scope, key)
    return conn.execute(statement, {"scope": scope_value, "keys": keys})


@lru_cache(maxsize=16)
def _keyed_lookup_statement(dialect: str, table: sa.Table, columns: tuple[str, ...], scope: str, key: str):
    selected = [table.c[name] for name in columns]
    if dialect != "postgresql":
        # The keys travel as one JSON array: an expanding IN rendered thousands of parameters per call.
        listed = sa.select(sa.column("value")).select_from(sa.func.json_each(sa.bindparam("keys", type_=sa.JSON)))
        return sa.select(*selected).where(table.c[scope] == sa.bindparam("scope"), table.c[key].in_(listed))
    from sqlalchemy.dialects.postgresql import ARRAY

    wanted = sa.func.unnest(sa.bindparam("keys", type_=ARRAY(sa.Text))).table_valued("key").render_derived("wanted")
    # OFFSET keeps PostgreSQL from flattening the probe into a join it would plan as a scan.
    probe = (sa.select(*selected).where(table.c[scope] == sa.bindparam("scope"), table.c[key] == wanted.c.key)
             .offset(0).lateral("found"))
    return sa.select(*[probe.c[name] for name in columns]).select_from(wanted.join(probe, sa.true()))


def upsert(conn: Connection, table: sa.Table, rows: list[dict], keys: list[str]) -> None:
    """Insert rows, replacing the non-key columns of rows whose `keys` already exist."""
    if rows:
        conn.execute(_upsert_statement(conn.dialect.name, table, tuple(rows[0]), tuple(keys)), rows)


@lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: sa.Table, columns: tuple[str, ...], keys: tuple[str, ...]):
    """INSERT ... ON CONFLICT DO UPDATE, built once per table and column set (both dialects say it alike)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    updates = {name: statement.excluded[name] for name in columns if name not in keys}
    if not updates:  # a row that is all key: present is present
        return statement.on_conflict_do_nothing(index_elements=list(keys))
    return statement.on_conflict_do_update(index_elements=list(keys), set_=updates)


def execute_many(conn: Connection, table: sa.Table, kind: str, columns: tuple[str, ...], rows: list[tuple],
                 keys: tuple[str, ...] = ()) -> int | None:
    """Run one statement over many rows of plain tuples, straight through the driver.

    For the bulk paths (imports write hundreds of thousands of rows) where building SQLAlchemy
    parameters per row cost more than the database's own work. `kind` is "insert", "upsert" (on
    `keys`), "update" (sets `columns` where `keys` match; each row is the columns' values, then the
    keys') or "delete" (rows match on every one of `columns`). JSON columns take serialized text.
    Returns how many rows changed (None after a COPY, which does not say).
    """
    if not rows:
        return 0
    if conn.dialect.name == "postgresql" and kind == "insert" and len(rows) >= COPY_MIN_ROWS:
        _copy(conn, table, columns, rows)
        return None
    if conn.dialect.name == "sqlite" and kind in ("insert", "upsert") and len(rows) > 1:
        return _values_chunks(conn, table, kind, columns, keys, rows)
    return conn.exec_driver_sql(_bulk_statement(conn.dialect.name, table, kind, columns, keys), rows).rowcount


def _values_chunks(conn: Connection, table: sa.Table, kind: str, columns: tuple[str, ...], keys: tuple[str, ...],
                   rows: list[tuple]) -> int:
    """SQLite inserts many rows a statement rather than one a statement.

    The driver lets the interpreter go for each statement it steps, and in a process whose other
    threads are busy, taking it back means waiting for one of them: sampling a campaign slice, which
    holds SQLite's one writer meanwhile, found those waits its largest part. One statement of many
    rows steps once. Alone it costs a little more (250 outbox-sized rows: 0.80 ms against 0.69 ms, the
    longer statement's preparing); the writer's turn ends sooner when the process is busy."""
    per = max(1, min(SQLITE_ROWS_PER_STATEMENT, SQLITE_PARAMETERS // len(columns)))
    changed = 0
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        statement = _bulk_statement(conn.dialect.name, table, kind, columns, keys, len(chunk))
        changed += conn.exec_driver_sql(statement, tuple(value for row in chunk for value in row)).rowcount
    return changed


def _copy(conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """PostgreSQL inserts by COPY: for 1,000 outbox rows it took 12 ms where executemany took 20."""
    import psycopg

    try:
        with conn.connection.driver_connection.cursor().copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.DataError as error:  # COPY goes around SQLAlchemy, so refuse_unstorable_value never sees it
        raise _unstorable(error) from None


def json_text(value) -> str:
    """A JSON column's value as `execute_many` takes it."""
    return _dumps(value)


@lru_cache(maxsize=128)
def _bulk_statement(dialect: str, table: sa.Table, kind: str, columns: tuple[str, ...], keys: tuple[str, ...],
                    count: int = 1) -> str:
    """The statement for `execute_many`; an insert's VALUES lists `count` rows."""
    def mark(name: str) -> str:
        if dialect != "postgresql":
            return "?"
        kind = table.c[name].type.dialect_impl(_POSTGRES)
        if isinstance(kind, sa.JSON):
            return f"CAST(%s AS {'jsonb' if isinstance(kind, JSONB) else 'json'})"
        return "%s"

    if kind == "delete":
        return f"DELETE FROM {table.name} WHERE " + " AND ".join(f"{name} = {mark(name)}" for name in columns)
    if kind == "update":
        return (f"UPDATE {table.name} SET " + ", ".join(f"{name} = {mark(name)}" for name in columns)
                + " WHERE " + " AND ".join(f"{name} = {mark(name)}" for name in keys))
    row = f"({', '.join(mark(name) for name in columns)})"
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {', '.join([row] * count)}"
    if kind == "upsert":
        updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in keys)
        statement += f" ON CONFLICT ({', '.join(keys)}) " + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING")
    return statement
