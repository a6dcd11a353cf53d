"""Campaign schedules, treatment cohorts and quiet time (pinfold/campaigns/rules)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from pinfold.campaigns.rules import schedule, treatments


def at(text: str) -> float:
    return schedule.parse_time(text).timestamp()


def test_start_instant_is_now_for_immediate_and_the_start_time_otherwise():
    assert schedule.start_instant({"StartTime": "IMMEDIATE"}, 1234.5) == 1234.5
    assert schedule.start_instant({"StartTime": "2027-01-02T03:04:05Z"}, 0) == at("2027-01-02T03:04:05+00:00")
    assert schedule.start_instant({"StartTime": "2027-01-02T12:04:05+09:00"}, 0) == at("2027-01-02T03:04:05Z")
    # IsLocalTime does not move the instant used to validate and first look.
    local = {"StartTime": "2027-01-02T03:04:05Z", "IsLocalTime": True, "Timezone": "UTC+09"}
    assert schedule.start_instant(local, 0) == at("2027-01-02T03:04:05Z")
    # No offset is read as UTC.
    assert schedule.start_instant({"StartTime": "2027-01-02T03:04:05"}, 0) == at("2027-01-02T03:04:05Z")


def test_one_shot_schedules_have_no_next_run():
    for frequency in ("ONCE", "EVENT", "IN_APP_EVENT"):
        assert schedule.next_run({"StartTime": "2027-01-01T00:00:00Z", "Frequency": frequency}, 0) is None


def test_hourly_daily_weekly_count_from_the_start_time():
    start = "2027-01-01T10:30:00Z"
    hourly = {"StartTime": start, "Frequency": "HOURLY"}
    assert schedule.next_run(hourly, at(start) - 5) == at(start)
    assert schedule.next_run(hourly, at(start)) == at("2027-01-01T11:30:00Z")
    assert schedule.next_run(hourly, at("2027-01-03T07:45:00Z")) == at("2027-01-03T08:30:00Z")
    daily = {"StartTime": start, "Frequency": "DAILY"}
    assert schedule.next_run(daily, at("2027-01-05T10:30:00Z")) == at("2027-01-06T10:30:00Z")
    weekly = {"StartTime": start, "Frequency": "WEEKLY"}
    assert schedule.next_run(weekly, at("2027-01-02T00:00:00Z")) == at("2027-01-08T10:30:00Z")


def test_monthly_keeps_the_day_and_clamps_to_the_last_day_of_shorter_months():
    monthly = {"StartTime": "2027-01-31T08:00:00+02:00", "Frequency": "MONTHLY"}
    assert schedule.next_run(monthly, at("2027-01-31T06:00:00Z")) == at("2027-02-28T08:00:00+02:00")
    assert schedule.next_run(monthly, at("2027-02-28T06:00:00Z")) == at("2027-03-31T08:00:00+02:00")
    assert schedule.next_run(monthly, at("2028-02-01T00:00:00Z")) == at("2028-02-29T08:00:00+02:00")
    assert schedule.next_run(monthly, at("2026-06-01T00:00:00Z")) == at("2027-01-31T08:00:00+02:00")


def test_no_run_at_or_after_the_end_time():
    daily = {"StartTime": "2027-01-01T00:00:00Z", "EndTime": "2027-01-03T00:00:00Z", "Frequency": "DAILY"}
    assert schedule.next_run(daily, at("2027-01-01T00:00:00Z")) == at("2027-01-02T00:00:00Z")
    assert schedule.next_run(daily, at("2027-01-02T00:00:00Z")) is None


def test_an_immediate_recurring_schedule_counts_from_its_first_run():
    hourly = {"StartTime": "IMMEDIATE", "Frequency": "HOURLY"}
    assert schedule.next_run(hourly, 10_000.0, origin=1_000.0) == 11_800.0
    assert schedule.next_run(hourly, 10_000.0) == 13_600.0


def test_local_due_reads_the_start_wall_clock_in_the_endpoints_zone_and_never_before_the_run():
    local = {"StartTime": "2027-01-02T09:00:00Z", "IsLocalTime": True}
    run = at("2027-01-02T09:00:00Z")
    assert schedule.local_due(local, run, ZoneInfo("America/New_York")) == at("2027-01-02T14:00:00Z")
    assert schedule.local_due(local, run, ZoneInfo("Asia/Tokyo")) == run  # 09:00 in Tokyo has passed
    assert schedule.local_due(local, run, UTC) == run


def test_bucket_is_deterministic_and_in_range():
    assert treatments.bucket("c1", "e1") == treatments.bucket("c1", "e1")
    assert {treatments.bucket("c1", f"e{n}") for n in range(2000)} == set(range(100))


def test_cohort_ranges_holdout_then_additional_treatments_then_the_default():
    definition = {"HoldoutPercent": 10, "AdditionalTreatments": [{"SizePercent": 30}, {"SizePercent": 20}]}
    assert [treatments.cohort(definition, b) for b in (0, 9)] == [None, None]
    assert [treatments.cohort(definition, b) for b in (10, 39)] == ["1", "1"]
    assert [treatments.cohort(definition, b) for b in (40, 59)] == ["2", "2"]
    assert [treatments.cohort(definition, b) for b in (60, 99)] == ["0", "0"]
    assert treatments.cohort({}, 0) == "0"
    assert treatments.treatment_ids(definition) == ["0", "1", "2"]


@given(holdout=st.integers(0, 40), sizes=st.lists(st.integers(1, 15), max_size=4))
def test_every_bucket_has_exactly_one_cohort_with_the_configured_shares(holdout, sizes):
    definition = {"HoldoutPercent": holdout, "AdditionalTreatments": [{"SizePercent": s} for s in sizes]}
    shares = Counter(treatments.cohort(definition, b) for b in range(100))
    assert shares[None] == holdout
    for number, size in enumerate(sizes, start=1):
        assert shares[str(number)] == size
    assert shares["0"] == 100 - holdout - sum(sizes)


def test_a_treatment_takes_its_own_settings_and_the_campaigns_otherwise():
    definition = {"MessageConfiguration": {"EmailMessage": {"Title": "A"}}, "Schedule": {"StartTime": "IMMEDIATE"},
                  "AdditionalTreatments": [{"SizePercent": 50,
                                            "MessageConfiguration": {"EmailMessage": {"Title": "B"}}}]}
    assert treatments.treatment(definition, "0")["MessageConfiguration"]["EmailMessage"]["Title"] == "A"
    second = treatments.treatment(definition, "1")
    assert second["MessageConfiguration"]["EmailMessage"]["Title"] == "B"
    assert second["Schedule"] == {"StartTime": "IMMEDIATE"}


def test_parse_time_reads_fractions_and_z():
    assert schedule.parse_time("2027-01-02T03:04:05.250Z") == datetime(2027, 1, 2, 3, 4, 5, 250000, UTC)


def test_quiet_time_needs_a_real_zone_and_handles_windows_crossing_midnight():
    from pinfold.campaigns.rules import quiet

    evening = quiet.window({"Start": "20:00", "End": "08:00"})
    noon = quiet.window({"Start": "12:00", "End": "13:00"})
    tokyo = quiet.zone_of({"Demographic": {"Timezone": "Asia/Tokyo"}})
    moment = at("2027-01-02T03:30:00Z")  # 12:30 in Tokyo, 03:30 UTC
    assert quiet.is_quiet(noon, tokyo, moment) and not quiet.is_quiet(evening, tokyo, moment)
    assert quiet.is_quiet(evening, ZoneInfo("UTC"), moment)
    assert not quiet.is_quiet(evening, ZoneInfo("UTC"), at("2027-01-02T08:00:00Z"))  # End is excluded
    assert quiet.is_quiet(evening, ZoneInfo("UTC"), at("2027-01-02T20:00:00Z"))  # Start is included
    for bad in ({}, {"Demographic": {"Timezone": "Mars/Olympus"}}, {"Demographic": {"Timezone": "../etc"}},
                {"Demographic": {"Timezone": 5}}):
        assert quiet.zone_of(bad) is None
        assert not quiet.is_quiet(evening, quiet.zone_of(bad), moment)
    assert quiet.window({"Start": "25:00", "End": "08:00"}) is None and quiet.window(None) is None
