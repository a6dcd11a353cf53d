"""What every service function needs besides the caller: the database, settings and secrets."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from pinfold.config import Settings
from pinfold.core.secrets import SecretBox, load_master_key
from pinfold.db.database import Database


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


@dataclass
class Context:
    settings: Settings
    db: Database
    secrets: SecretBox
    key_cache: KeyCache = field(default_factory=KeyCache)

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Context:
        """Open the database (migrating it to the latest schema) and the master key."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url)
        if migrate:
            db.migrate()
        return cls(settings, db, SecretBox(load_master_key(settings.data_dir, settings.master_key)))

    def close(self) -> None:
        self.db.dispose()
