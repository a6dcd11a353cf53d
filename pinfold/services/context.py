"""What every service function needs besides the caller: the database, settings and secrets."""

from __future__ import annotations

from dataclasses import dataclass

from pinfold.config import Settings
from pinfold.services.secrets import SecretBox, load_master_key
from pinfold.store.database import Database


@dataclass
class Context:
    settings: Settings
    db: Database
    secrets: SecretBox

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> "Context":
        """Open the database (migrating it to the latest schema) and the master key."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url)
        if migrate:
            db.migrate()
        return cls(settings, db, SecretBox(load_master_key(settings.data_dir, settings.master_key)))

    def close(self) -> None:
        self.db.dispose()
