"""Files kept by day, as the built-in simulators keep what they were given: `<directory>/<UTC date
YYYY-MM-DD>/<name>`, one file per message. Listing walks the day folders once, skipping symlinks and
anything not named as a kept file, so a reader never follows a link out of the directory."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson

from pinfold.core.errors import InvalidInput, NotFound
from pinfold.core.paging import decode_token, encode_token

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


# --- messages kept as JSON files, one per delivery (the simulators) ---------------------------------

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
STEM = re.compile(r"[A-Za-z0-9_-]{1,64}(\.[0-9]{1,6})?")  # a message id, `.<n>` for its n-th delivery
MESSAGE_FILE = re.compile(STEM.pattern + r"\.json")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def keep(directory: Path, message_id: str, content: bytes, now: datetime) -> str:
    """Write one delivery under today's folder as `<message id>.json`, or `<message id>.<n>.json` if the
    message was kept before: nothing is replaced, so every delivery can be counted. Returns `day/name`."""
    folder = Path(directory) / now.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    stem = _UNSAFE.sub("_", message_id)[:64]
    for copy in itertools.count(1):
        name = f"{stem}.json" if copy == 1 else f"{stem}.{copy}.json"
        try:
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        return f"{folder.name}/{name}"
    raise AssertionError("unreachable")


def kept_page(directory: Path, *, wanted: Callable[[dict], bool] = lambda kept: True, limit: int = DEFAULT_LIMIT,
              next_token: str | None = None) -> tuple[list[dict], str | None]:
    """The kept messages `wanted` says to show, newest first (by file time, then name), each with its
    `id`, and the next page's token, if any."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    older_than = _position(next_token)
    found = [item for item in _messages(Path(directory)) if older_than is None or item[:2] < older_than]
    found.sort(reverse=True)
    shown: list[tuple[tuple, dict]] = []
    for item in found:
        message = _load(item[2])
        if message is None or not wanted(message):
            continue
        shown.append((item, {**message, "id": item[1]}))
        if len(shown) > limit:  # one more than shown: an exactly full last page carries no token
            last = shown[limit - 1][0]
            return [message for _, message in shown[:limit]], encode_token((str(last[0]), last[1]))
    return [message for _, message in shown], None


def kept_one(directory: Path, message: str, missing: str) -> dict:
    """One kept message by its id (a message id, or `<message id>.<n>` for a repeated delivery);
    NotFound with `missing` when there is none."""
    if STEM.fullmatch(message) is None:
        raise InvalidInput(f"{message[:80]!r} is not a message id", field="id")
    for _mtime, stem, path in sorted(_messages(Path(directory)), reverse=True):
        if stem == message:
            found = _load(path)
            if found is not None:
                return {**found, "id": stem}
    raise NotFound(missing)


def _messages(directory: Path) -> list[tuple[int, str, Path]]:
    """(modification time in ns, id, path) of every kept message."""
    return [(item.mtime_ns, item.name.removesuffix(".json"), item.path) for item in kept(directory, MESSAGE_FILE)]


def _load(path: Path) -> dict | None:
    """A kept message, or None when it is gone or still being written."""
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def _position(token: str | None) -> tuple[int, str] | None:
    position = decode_token(token)
    if position is None:
        return None
    try:
        return int(position[0]), position[1]
    except ValueError:
        raise InvalidInput("The next token is not one this listing gave", field="next_token") from None
