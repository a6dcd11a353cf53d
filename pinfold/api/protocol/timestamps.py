"""Timestamp conversions between the wire forms AWS uses (epoch seconds, ISO 8601, RFC 822) and datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_timestamp(value: str | int | float) -> datetime:
    """An aware UTC datetime from epoch seconds, ISO 8601 or an RFC 822 date; ValueError if none fits."""
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, (int, float)):
        return _from_epoch(value)
    text = value.strip()
    try:
        return _from_epoch(float(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"not a timestamp: {value!r}") from exc
    return as_utc(parsed)


def _from_epoch(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"timestamp out of range: {seconds!r}") from exc


def as_utc(value: datetime) -> datetime:
    """The same instant as an aware UTC datetime; naive datetimes are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def coerce_datetime(value: datetime | int | float | str) -> datetime:
    """Accept what handlers hand over for a timestamp (datetime, epoch number, ISO string) as UTC."""
    if isinstance(value, datetime):
        return as_utc(value)
    return parse_timestamp(value)


def to_epoch(value: datetime | int | float | str) -> int | float:
    """Epoch seconds, integral when there is no sub-second part, else rounded to milliseconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    delta = coerce_datetime(value) - _EPOCH
    if delta.microseconds == 0:
        return delta.days * 86400 + delta.seconds
    return round(delta.total_seconds(), 3)


def to_iso8601(value: datetime | int | float | str, *, millis: bool = False) -> str:
    """ISO 8601 in UTC with a 'Z' suffix; milliseconds when present or when `millis` is set."""
    moment = coerce_datetime(value)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if millis or moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def to_rfc822(value: datetime | int | float | str) -> str:
    """An HTTP date (RFC 822 / 1123) in GMT, the default timestamp form for headers."""
    return format_datetime(coerce_datetime(value), usegmt=True)
