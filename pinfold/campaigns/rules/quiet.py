"""Quiet time and endpoint local time, with no I/O.

An endpoint has a local time only when its Demographic.Timezone names a real IANA zone. A quiet-time
window runs from Start (included) to End (excluded), both "HH:MM"; a window whose End is earlier than
its Start crosses midnight (20:00-08:00 is quiet in the evening and in the early morning).
"""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


def zone_of(endpoint: dict) -> ZoneInfo | None:
    """The endpoint's time zone, or None when it has none or names no real zone."""
    name = (endpoint.get("Demographic") or {}).get("Timezone")
    if not isinstance(name, str) or not name.strip() or name.startswith(("/", ".")):
        return None
    return _zone(name.strip())


def clock(text: str | None) -> time | None:
    """"HH:MM" as a time of day; None when absent or malformed."""
    if not text:
        return None
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return None


def window(quiet_time: dict | None) -> tuple[time, time] | None:
    """(start, end) of a QuietTime, or None when it sets no usable window."""
    start, end = clock((quiet_time or {}).get("Start")), clock((quiet_time or {}).get("End"))
    if start is None or end is None or start == end:
        return None
    return start, end


def is_quiet(quiet: tuple[time, time] | None, zone: ZoneInfo | None, instant: float) -> bool:
    """Whether `instant` falls in the quiet window in `zone` (never without a window or a zone)."""
    if quiet is None or zone is None:
        return False
    local = datetime.fromtimestamp(instant, zone).time()
    start, end = quiet
    if start < end:
        return start <= local < end
    return local >= start or local < end
