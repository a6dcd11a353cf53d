"""Files kept by day, as the built-in simulators keep what they were given: `<directory>/<UTC date
YYYY-MM-DD>/<name>`, one file per message. Listing walks the day folders once, skipping symlinks and
anything not named as a kept file, so a reader never follows a link out of the directory."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Kept:
    mtime_ns: int
    day: str
    name: str
    path: Path
    size: int

    @property
    def id(self) -> str:
        return f"{self.day}/{self.name}"

    @property
    def key(self) -> tuple[int, str]:
        """Newest-first order, stable among files of the same instant: (modification time, day/name)."""
        return self.mtime_ns, self.id


def kept(directory: Path, name: re.Pattern) -> list[Kept]:
    """Every regular file under a day folder of `directory` whose name fully matches `name`."""
    found: list[Kept] = []
    try:
        days = [entry for entry in os.scandir(directory) if DAY.fullmatch(entry.name) and
                entry.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    for day in days:
        try:
            entries = list(os.scandir(day.path))
        except OSError:  # removed since it was listed
            continue
        for entry in entries:
            if name.fullmatch(entry.name) is None or not entry.is_file(follow_symlinks=False):
                continue
            try:
                status = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            found.append(Kept(status.st_mtime_ns, day.name, entry.name, Path(entry.path), status.st_size))
    return found
