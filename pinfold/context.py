"""What every service function needs besides the caller: the database, settings and secrets."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import DatabaseError

from pinfold.config import Settings
from pinfold.core.secrets import SecretBox, load_master_key
from pinfold.db.database import Database, any_ciphertext, code_head, known_revision, pending_revisions


class KeyCache:
    """Access-key lookups, kept for a second: one read per key per second instead of per request.

    A change made in this process (revocation, suspension) clears it at once; one made by another
    process (the CLI, another server) takes effect within `ttl` seconds, much as IAM propagates.
    """

    def __init__(self, ttl: float = 1.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def get(self, key_id: str) -> dict | None:
        entry = self._entries.get(key_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key_id: str, row: dict) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key_id] = (time.monotonic() + self.ttl, row)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class NotReady(Exception):
    """The data directory or database cannot be opened as asked: never initialised, at an older (or
    newer) schema than this code, or without its master key. The message says what to run."""


@dataclass
class Context:
    settings: Settings
    db: Database
    secrets: SecretBox
    key_cache: KeyCache = field(default_factory=KeyCache)

    @classmethod
    def open(cls, settings: Settings, *, create: bool = True, migrate: bool = True) -> Context:
        """Open the database and the master key.

        `create` initialises what does not exist yet (the database, its schema, the master key);
        without it, a data directory or database that was never initialised is refused rather than
        made. `migrate` brings an older schema to the code's; without it, one behind is refused,
        naming `pinfold db upgrade`. A master key is never made beside a database that already
        holds secrets, and a key that cannot read them is refused (NotReady in each case)."""
        report, db = database_state(settings)
        state = report["state"]
        if state in ("unreachable", "newer") or (state in ("missing", "uninitialised") and not create) \
                or (state == "behind" and not migrate):
            if db is not None:
                db.dispose()
            raise NotReady(report["advice"])
        if create:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        if db is None:  # a new SQLite file, made here
            db = Database(settings.resolved_database_url)
        try:
            if state != "current":
                db.migrate()
            with db.read() as conn:
                sample = any_ciphertext(conn)
            box = SecretBox(_master_key(settings, create=create and sample is None, has_secrets=sample is not None))
            if sample is not None and not box.opens(sample):
                raise NotReady("the master key cannot read the secrets this database holds: it is not the key "
                               "they were written with; set PINFOLD_MASTER_KEY (or restore "
                               f"{settings.data_dir / 'master.key'}) to that key")
        except BaseException:
            db.dispose()
            raise
        return cls(settings, db, box)

    def close(self) -> None:
        self.db.dispose()


def _missing_sqlite_file(url: str) -> bool:
    prefix = "sqlite:///"
    return url.startswith(prefix) and url != prefix + ":memory:" and not Path(url[len(prefix):]).exists()


def database_state(settings: Settings) -> tuple[dict, Database | None]:
    """Where the database stands, creating nothing: its `state` (missing, unreachable, uninitialised,
    newer, behind or current), its schema revision and the code's, the `pending` migrations and the
    `advice` to give; with the open Database when there is one (the caller disposes of it)."""
    report = {"state": "current", "current": None, "head": code_head(), "pending": [], "advice": ""}
    url = settings.resolved_database_url
    if _missing_sqlite_file(url):
        return {**report, "state": "missing", "advice": f"{settings.data_dir} holds no Pinfold database; run "
                "`pinfold admin bootstrap` to initialise it (or point PINFOLD_DATA_DIR / PINFOLD_DATABASE_URL at "
                "the right one)"}, None
    db = Database(url)
    try:
        current, head = db.schema()
    except DatabaseError as error:
        db.dispose()
        reason = str(error.orig or error).strip().splitlines()[0]
        return {**report, "state": "unreachable", "advice": f"the database does not answer: {reason}"}, None
    report["current"] = current
    if current is None:
        report.update(state="uninitialised", pending=pending_revisions(None),
                      advice="the database was never initialised; run `pinfold admin bootstrap` to set it up")
    elif current != head and not known_revision(current):
        report.update(state="newer", advice=f"the database is at schema {current}, which this Pinfold does not "
                                            "know: a newer version upgraded it; run that version (or newer)")
    elif current != head:
        report.update(state="behind", pending=pending_revisions(current),
                      advice=f"the database is at schema {current}, behind this Pinfold's {head}; run "
                             "`pinfold db upgrade` (or start with --migrate)")
    return report, db


def _master_key(settings: Settings, *, create: bool, has_secrets: bool) -> bytes:
    """PINFOLD_MASTER_KEY, else `<data_dir>/master.key`; made only when `create` (a new database)."""
    if settings.master_key:
        return settings.master_key.encode()
    path = settings.data_dir / "master.key"
    if path.exists() or create:
        return load_master_key(settings.data_dir, "")
    if not has_secrets:
        raise NotReady(f"no master key ({path} is missing and PINFOLD_MASTER_KEY is not set), and the database "
                       "holds nothing yet: run `pinfold admin bootstrap` to set it up, or set PINFOLD_MASTER_KEY to "
                       "the key the other processes sharing this database use")
    raise NotReady(f"no master key: {path} is missing and PINFOLD_MASTER_KEY is not set; the database's "
                   "secrets need the key they were written with (Pinfold makes a new one only for a new database)")
