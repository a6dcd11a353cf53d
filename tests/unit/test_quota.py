"""The sending quota's rules: the rolling 24 h window of minute buckets and the rate limiter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinfold.core.errors import LimitExceeded, Throttled
from pinfold.sending import quota

NOW = 1_800_000_000.0
times = st.floats(min_value=0, max_value=4e9, allow_nan=False)
rates = st.floats(min_value=0.01, max_value=1000, allow_nan=False)
counts = st.integers(min_value=1, max_value=5000)


@given(times)
def test_the_window_is_the_1440_minute_buckets_ending_with_the_current_one(now):
    current = quota.minute(now)
    assert current * 60 <= now < (current + 1) * 60
    assert current - quota.first_minute_in_window(now) + 1 == 24 * 60
    assert quota.last_expired_minute(current) == quota.first_minute_in_window(now) - 1


def test_a_message_leaves_the_window_24_hours_after_its_minute():
    sent = quota.minute(NOW)
    assert quota.first_minute_in_window(NOW + 86_340) <= sent  # 23 h 59 min later: still counted
    assert quota.first_minute_in_window(NOW + 86_400) > sent
    assert quota.last_expired_minute(quota.minute(NOW + 86_400)) == sent


@pytest.mark.parametrize(("tat", "count", "max_rate", "excess"), [
    (0.0, 1, 1.0, 0.0),          # nothing owed: one message goes
    (NOW + 1, 1, 1.0, 1.0),      # one second owed: the next waits a second
    (0.0, 14, 14.0, 0.0),        # a second's worth in one burst
    (NOW, 15, 14.0, 0.0),        # a batch bigger than a second goes when nothing is owed...
    (NOW + 0.5, 15, 14.0, 0.5),  # ...and waits out what is owed otherwise
    (NOW + 0.5, 7, 14.0, 0.0),   # half a second owed plus half a second's worth fits the burst
])
def test_rate_excess_examples(tat, count, max_rate, excess):
    got, new_tat = quota.rate_excess(tat, NOW, count, max_rate)
    assert got == pytest.approx(excess)
    assert new_tat == pytest.approx(max(tat, NOW) + count / max_rate)


@given(tat=st.floats(min_value=0, max_value=NOW + 1e5), count=counts, max_rate=rates)
def test_waiting_out_the_excess_lets_the_send_go(tat, count, max_rate):
    excess, _ = quota.rate_excess(tat, NOW, count, max_rate)
    assert excess >= 0.0
    if excess:
        assert quota.rate_excess(tat, NOW + excess, count, max_rate)[0] <= 1e-6
    else:
        assert tat - NOW + count / max_rate <= max(1.0, count / max_rate) + 1e-9


@given(max_rate=rates, sends=st.integers(min_value=1, max_value=200))
def test_a_sender_that_always_waits_as_told_keeps_to_the_rate(max_rate, sends):
    now, tat = NOW, 0.0
    for _ in range(sends):
        for attempt in range(3):  # waiting as told may leave a rounding error's worth to wait
            taken = quota.take(in_window=0, tat=tat, count=1, now=now, max_24h=10_000, max_rate=max_rate,
                               wait=True)
            if not taken.wait:
                break
            assert attempt == 0 or taken.wait <= 1e-6
            now += max(taken.wait, 1e-6)  # a clock moves on by at least its resolution
        assert taken.wait == 0.0
        tat = taken.tat
    # A burst of one second's worth (at least one message) goes at once; the rest at the rate (give or
    # take a timestamp's rounding, about 2e-7 s in 2027, per send).
    assert now - NOW >= (sends - max(1.0, max_rate)) / max_rate - sends * 1e-6


@given(in_window=st.integers(min_value=0, max_value=60_000), count=counts,
       max_24h=st.integers(min_value=1, max_value=50_000), max_rate=rates, wait=st.booleans())
def test_take_never_counts_past_the_daily_quota(in_window, count, max_24h, max_rate, wait):
    tat = NOW - 10  # nothing owed: only the daily quota can refuse a batch
    if in_window + count > max_24h:
        with pytest.raises(LimitExceeded):
            quota.take(in_window=in_window, tat=tat, count=count, now=NOW, max_24h=max_24h, max_rate=max_rate,
                       wait=wait)
    else:
        taken = quota.take(in_window=in_window, tat=tat, count=count, now=NOW, max_24h=max_24h,
                           max_rate=max_rate, wait=wait)
        assert taken == (0.0, in_window + count, NOW + count / max_rate)


def test_over_the_rate_take_throttles_or_says_how_long_to_wait_and_takes_nothing():
    owed = {"in_window": 5, "tat": NOW + 3, "count": 1, "now": NOW, "max_24h": 200, "max_rate": 1.0}
    with pytest.raises(Throttled):
        quota.take(**owed)
    assert quota.take(**owed, wait=True) == (3.0, 5, NOW + 3)
    with pytest.raises(LimitExceeded):  # the daily quota is checked first
        quota.take(**{**owed, "in_window": 200}, wait=True)
