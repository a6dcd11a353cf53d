"""Dates in message templates: `dateFormat` and `now` take full, long, medium, short or a Java
SimpleDateFormat pattern and an optional time zone; the patterns are translated here."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class HelperError(ValueError):
    """A helper was given arguments it cannot use."""


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Java's DateFormat styles for en_US.
_STYLES = {"full": "EEEE, MMMM d, yyyy", "long": "MMMM d, yyyy", "medium": "MMM d, yyyy", "short": "M/d/yy"}
_PATTERN_PART = re.compile(r"'((?:[^']|'')*)'|([A-Za-z])\2*|[^A-Za-z']+")
_NUMERIC_FIELDS: dict[str, Callable[[datetime], int]] = {
    "d": lambda d: d.day,
    "H": lambda d: d.hour,
    "k": lambda d: d.hour or 24,
    "K": lambda d: d.hour % 12,
    "h": lambda d: d.hour % 12 or 12,
    "m": lambda d: d.minute,
    "s": lambda d: d.second,
    "S": lambda d: d.microsecond // 1000,
    "D": lambda d: d.timetuple().tm_yday,
    "u": lambda d: d.isoweekday(),
    "F": lambda d: (d.day - 1) // 7 + 1,
    "w": lambda d: d.isocalendar()[1],
    "W": lambda d: (d.day + (d.replace(day=1).weekday() + 1) % 7 - 1) // 7 + 1,  # weeks start on Sunday
}
_PARSE_FIELDS = {"d": "%d", "H": "%H", "k": "%H", "h": "%I", "K": "%I", "m": "%M", "s": "%S", "S": "%f",
                 "a": "%p", "Z": "%z", "X": "%z", "z": "%Z", "D": "%j"}


def _offset_text(moment: datetime, letter: str, width: int) -> str:
    """Z is -0800; X is -08, -0800 or -08:00 by width, and Z for UTC."""
    minutes = int((moment.utcoffset() or timedelta(0)).total_seconds() // 60)
    if letter == "X" and minutes == 0:
        return "Z"
    sign, (hours, rest) = "-" if minutes < 0 else "+", divmod(abs(minutes), 60)
    if letter == "X" and width == 1:
        return f"{sign}{hours:02d}"
    return f"{sign}{hours:02d}{':' if letter == 'X' and width >= 3 else ''}{rest:02d}"


def _date_field(letter: str, width: int) -> Callable[[datetime], str]:
    numeric = _NUMERIC_FIELDS.get(letter)
    if numeric is not None:
        return lambda d: f"{numeric(d):0{width}d}"
    if letter == "y":
        return (lambda d: f"{d.year % 100:02d}") if width == 2 else (lambda d: f"{d.year:0{width}d}")
    if letter in "ML":
        if width >= 3:
            return lambda d: _MONTHS[d.month - 1] if width >= 4 else _MONTHS[d.month - 1][:3]
        return lambda d: f"{d.month:0{width}d}"
    if letter == "E":
        return lambda d: _DAYS[d.weekday()] if width >= 4 else _DAYS[d.weekday()][:3]
    fixed = {"a": lambda d: "AM" if d.hour < 12 else "PM", "G": lambda d: "AD",
             "z": lambda d: getattr(d.tzinfo, "key", None) if width >= 4 else d.tzname(),
             "Z": lambda d: _offset_text(d, "Z", width), "X": lambda d: _offset_text(d, "X", width)}
    if letter in fixed:
        return lambda d: fixed[letter](d) or ""
    raise HelperError(f"the date pattern letter {letter!r} is not supported")


def _pattern_parts(pattern: str) -> list[tuple[str | None, str, int]]:
    """(letter, literal, width) runs of a SimpleDateFormat pattern; quoted text and '' are literal."""
    parts, position = [], 0
    while position < len(pattern):
        found = _PATTERN_PART.match(pattern, position)
        if found is None:
            raise HelperError(f"the date pattern {pattern!r} has an unclosed quote")
        if found[2]:
            parts.append((found[2], "", len(found[0])))
        else:
            literal = found[0] if found[1] is None else (found[1].replace("''", "'") or "'")
            parts.append((None, literal, 0))
        position = found.end()
    return parts


@lru_cache(maxsize=256)
def _date_formatter(pattern: str) -> tuple:
    return tuple(literal if letter is None else _date_field(letter, width)
                 for letter, literal, width in _pattern_parts(pattern))


@lru_cache(maxsize=256)
def _strptime_format(pattern: str) -> str:
    out = []
    for letter, literal, width in _pattern_parts(pattern):
        if letter is None:
            out.append(literal.replace("%", "%%"))
        elif letter == "y":
            out.append("%y" if width == 2 else "%Y")
        elif letter in "ML":
            out.append("%B" if width >= 4 else "%b" if width == 3 else "%m")
        elif letter == "E":
            out.append("%A" if width >= 4 else "%a")
        elif letter in _PARSE_FIELDS:
            out.append(_PARSE_FIELDS[letter])
        else:
            raise HelperError(f"the date pattern letter {letter!r} cannot be used in inputFormat")
    return "".join(out)


@lru_cache(maxsize=128)
def zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise HelperError(f"unknown time zone {name!r}") from None


def _moment(value: Any, input_format: str | None, zone: ZoneInfo) -> datetime:
    """A date from a datetime, epoch milliseconds, ISO 8601 text or text in inputFormat; naive means `zone`."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value / 1000, UTC)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if input_format:
                moment = datetime.strptime(text, _strptime_format(input_format))
            elif re.fullmatch(r"-?\d{9,}", text):
                moment = datetime.fromtimestamp(int(text) / 1000, UTC)
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            wanted = f"inputFormat {input_format!r}" if input_format else "ISO 8601 (or give inputFormat=)"
            raise HelperError(f"cannot read {text!r} as a date in {wanted}") from None
    else:
        raise HelperError("needs a date, got nothing")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def date_text(moment: datetime, output: str | None) -> str:
    pattern = _STYLES.get((output or "medium").lower(), output or "")
    return "".join(part if isinstance(part, str) else part(moment) for part in _date_formatter(pattern))


def format_date(value: Any, *, output: str | None, input_format: str | None, zone: str | None) -> str:
    """`value` shown in `zone` (UTC by default) as full|long|medium|short or a SimpleDateFormat pattern."""
    tz = zone_named(zone)
    return date_text(_moment(value, input_format, tz).astimezone(tz), output)
