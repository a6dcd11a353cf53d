"""Project (Pinpoint application) rules: settings limits and page tokens."""

from __future__ import annotations

import base64
import re

import orjson

from pinfold.domain.errors import InvalidInput

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

# CampaignLimits as Pinpoint documents them: (member, lowest, highest); None means unbounded.
_LIMIT_RANGES = (("Daily", 0, 100), ("Total", 0, 100), ("MessagesPerSecond", 1, 20000),
                 ("MaximumDuration", 60, None), ("Session", 0, 100))


def check_settings(update: dict) -> None:
    """Raise if a WriteApplicationSettingsRequest breaks Pinpoint's documented ranges."""
    for member, low, high in _LIMIT_RANGES:
        value = (update.get("Limits") or {}).get(member)
        if value is None:
            continue
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise InvalidInput(f"Limits.{member} must be {bound}", field=f"Limits.{member}")
    for member in ("Start", "End"):
        value = (update.get("QuietTime") or {}).get(member)
        if value is not None and not _HH_MM.match(value):
            raise InvalidInput(f"QuietTime.{member} must be HH:MM (24-hour)", field=f"QuietTime.{member}")


def page_size(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise InvalidInput("PageSize must be a whole number", field="PageSize") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"PageSize must be between 1 and {MAX_PAGE_SIZE}", field="PageSize")
    return size


def encode_token(position: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(position))).decode()


def decode_token(token: str | None) -> tuple[str, str] | None:
    if not token:
        return None
    try:
        created_at, project_id = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        return str(created_at), str(project_id)
    except Exception:
        raise InvalidInput("Token is not a token this service issued", field="Token") from None
