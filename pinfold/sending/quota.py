"""A sending quota as rules: a rolling 24-hour count kept in minute buckets, and a sending rate
(SES's quota for email today; any channel's per-account quota can be metered the same way).

The store keeps the counts (one row per account and minute, and a running total of the window) and
the rate limiter's state; these functions decide what is in the window, whether a send may go now
and, over the rate, how long it must wait. Nothing here reads a clock or a database.
"""

from __future__ import annotations

from typing import NamedTuple

from pinfold.core.errors import LimitExceeded, Throttled

WINDOW_MINUTES = 24 * 60


class Taken(NamedTuple):
    """The outcome of taking messages: `wait` seconds over the rate (nothing taken), or 0.0 and the new state."""

    wait: float
    in_window: int  # messages in the 24 h window once these are counted
    tat: float  # the rate limiter's theoretical arrival time once these are counted


def minute(now: float) -> int:
    """The minute bucket a message sent at `now` (Unix seconds) is counted in."""
    return int(now // 60)


def first_minute_in_window(now: float) -> int:
    """The oldest minute bucket still inside the rolling 24 h window at `now`."""
    return minute(now) - WINDOW_MINUTES + 1


def last_expired_minute(current_minute: int) -> int:
    """The newest minute bucket that has left the window during `current_minute`."""
    return current_minute - WINDOW_MINUTES


def rate_excess(tat: float, now: float, count: int, max_rate: float) -> tuple[float, float]:
    """(seconds over the rate limit, new theoretical arrival time) for sending `count` at `now`.

    A generic cell-rate limiter: each message costs 1/max_rate seconds, a burst of up to one
    second's worth is allowed, and a batch bigger than that may go when nothing is owed.
    """
    cost = count / max_rate
    backlog = max(tat - now, 0.0)
    excess = backlog + cost - max(1.0, cost)
    return (excess if excess > 1e-9 else 0.0), max(tat, now) + cost


def take(*, in_window: int, tat: float, count: int, now: float, max_24h: int, max_rate: float,
         wait: bool = False) -> Taken:
    """Take `count` messages (more than none): LimitExceeded past the 24 h quota; over the rate,
    Throttled, or with `wait` the seconds to wait and nothing taken."""
    if in_window + count > max_24h:
        raise LimitExceeded("Daily message quota exceeded")
    excess, new_tat = rate_excess(tat, now, count, max_rate)
    if excess:
        if wait:
            return Taken(excess, in_window, tat)
        raise Throttled("Maximum sending rate exceeded")
    return Taken(0.0, in_window + count, new_tat)
