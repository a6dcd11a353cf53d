"""When a campaign's runs start: the first instant and each next run of a recurring schedule, with no I/O.

A Schedule's StartTime is `IMMEDIATE` or an ISO-8601 string (an instant without an offset is read as
UTC). Recurring runs are counted from StartTime: HOURLY, DAILY and WEEKLY add whole periods; MONTHLY
keeps StartTime's day of month and time of day in StartTime's own offset, falling back to the
month's last day when it is shorter. IsLocalTime never moves these instants: it only decides, per
endpoint, when its message is due (see `local_due`).
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, tzinfo

IMMEDIATE = "IMMEDIATE"
RECURRING = {"HOURLY": 3600.0, "DAILY": 86400.0, "WEEKLY": 7 * 86400.0}  # MONTHLY is counted by calendar
ONE_SHOT = {"ONCE", "EVENT", "IN_APP_EVENT"}


def parse_time(text: str) -> datetime:
    """An ISO-8601 date-time as an aware datetime (UTC when it names no offset); ValueError when it is none."""
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def start_instant(schedule: dict, now: float) -> float:
    """Epoch seconds of the campaign's first run: `now` for IMMEDIATE, else StartTime's instant."""
    start = schedule.get("StartTime") or IMMEDIATE
    if start == IMMEDIATE:
        return now
    return parse_time(start).timestamp()


def end_instant(schedule: dict) -> float | None:
    end = schedule.get("EndTime")
    return parse_time(end).timestamp() if end else None


def next_run(schedule: dict, after: float, *, origin: float | None = None) -> float | None:
    """The start of the first run strictly after `after`, or None when the schedule has no more.

    Runs are counted from StartTime (from `origin` when StartTime is IMMEDIATE: the instant the first
    run started; without it, from `after`). A run must start before EndTime."""
    frequency = schedule.get("Frequency") or "ONCE"
    if frequency in ONE_SHOT:
        return None
    start_text = schedule.get("StartTime") or IMMEDIATE
    if start_text == IMMEDIATE:
        first = datetime.fromtimestamp(after if origin is None else origin, UTC)
    else:
        first = parse_time(start_text)
    if frequency == "MONTHLY":
        instant = _next_monthly(first, after)
    elif frequency in RECURRING:
        period = RECURRING[frequency]
        base = first.timestamp()
        steps = 0 if after < base else int((after - base) // period) + 1
        instant = base + steps * period
        if instant <= after:  # float rounding at an exact boundary
            instant += period
    else:
        return None
    end = end_instant(schedule)
    if end is not None and instant >= end:
        return None
    return instant


def _next_monthly(first: datetime, after: float) -> float:
    moment = datetime.fromtimestamp(after, first.tzinfo)
    months = max(0, (moment.year - first.year) * 12 + moment.month - first.month - 1)
    while True:
        candidate = _add_months(first, months)
        if candidate.timestamp() > after:
            return candidate.timestamp()
        months += 1


def _add_months(first: datetime, months: int) -> datetime:
    year, month = divmod(first.month - 1 + months, 12)
    year += first.year
    day = min(first.day, calendar.monthrange(year, month + 1)[1])
    return first.replace(year=year, month=month + 1, day=day)


def local_due(schedule: dict, run_start: float, zone: tzinfo) -> float:
    """When an IsLocalTime run's message is due for an endpoint in `zone`: the run's wall-clock start
    (as StartTime writes it) read in that zone, and never before the run itself starts."""
    start_text = schedule.get("StartTime") or IMMEDIATE
    offset = UTC if start_text == IMMEDIATE else parse_time(start_text).tzinfo
    wall = datetime.fromtimestamp(run_start, offset).replace(tzinfo=None)
    return max(wall.replace(tzinfo=zone).timestamp(), run_start)
