"""Sorting one slice of a campaign activity's segment members: who is in this treatment's cohort, who
cannot be reached, and why the rest get no message, before the plan step sees them.

Endpoints outside the cohort, opted out, inactive, without an address on the campaign's channels or
(for a local-time campaign) without a time zone leave no record, only an execution metric; the
holdout gets a HOLDOUT record from the default treatment's activity. Caps, quiet time and the
maximum duration give a `_campaign.send` record with their status. What is left is to be sent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pinfold.campaigns.rules import quiet, schedule, treatments

HOLDOUT, QUIET_TIME, DAILY_CAP, CAMPAIGN_CAP = "HOLDOUT", "QUIET_TIME", "DAILY_CAP", "CAMPAIGN_CAP"
EXPIRED, SUCCESS, FAILURE, THROTTLED = "EXPIRED", "SUCCESS", "FAILURE", "THROTTLED"
DUPLICATE_ADDRESS, HOOK_FAILURE = "DUPLICATE_ADDRESS", "HOOK_FAILURE"
# Statuses of an endpoint the campaign targeted: they count towards Limits.Total (trap 4).
TARGETED = {SUCCESS, QUIET_TIME, EXPIRED, FAILURE, THROTTLED, HOOK_FAILURE}


@dataclass
class Sorted:
    """What a slice's members became: records to write, metrics to add, endpoints to send to."""

    records: list[tuple[dict, str]] = field(default_factory=list)  # (endpoint, campaign_send_status)
    metrics: Counter = field(default_factory=Counter)
    to_send: dict[str, tuple[dict, float | None]] = field(default_factory=dict)  # id -> (endpoint, due_at)
    zones: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Terms:
    """What decides a slice's fate, read once per slice."""

    campaign_id: str
    treatment_id: str
    definition: dict  # the campaign version's definition (cohorts)
    schedule: dict  # the treatment's effective Schedule
    channels: frozenset[str]  # ChannelTypes the treatment has a message for
    scheduled_at: float  # the activity's scheduled start
    now: float
    today: str  # the UTC day the Daily limit counts

    @property
    def limits(self) -> dict:
        return self.definition.get("Limits") or {}


def sort(members: list[dict], terms: Terms, held: dict[str, dict]) -> Sorted:
    """Sort members (the slice) given the caps counts `held` for them (store/caps.py rows by endpoint)."""
    out = Sorted()
    local = bool(terms.schedule.get("IsLocalTime"))
    window = quiet.window(terms.schedule.get("QuietTime"))
    daily, total = terms.limits.get("Daily"), terms.limits.get("Total")
    duration = terms.limits.get("MaximumDuration")
    expires = terms.scheduled_at + duration if duration else None
    for endpoint in members:
        out.metrics["ENDPOINT_PRODUCED"] += 1
        cohort = treatments.cohort(terms.definition, treatments.bucket(terms.campaign_id, endpoint["Id"]))
        if cohort is None and terms.treatment_id == treatments.DEFAULT:
            out.records.append((endpoint, HOLDOUT))
            continue
        if cohort != terms.treatment_id:
            out.metrics["TREATMENT_HOLDOUT"] += 1
            continue
        problem = _unreachable(endpoint, terms.channels)
        if problem:
            out.metrics[problem] += 1
            continue
        zone = quiet.zone_of(endpoint)
        due = None
        if local:
            if zone is None:
                out.metrics["ENDPOINT_MISSING_TIMEZONE"] += 1
                continue
            due = schedule.local_due(terms.schedule, terms.scheduled_at, zone)
            out.zones.add(zone.key)
        status = _capped(held.get(endpoint["Id"]), daily, total, terms.today)
        if status is None and quiet.is_quiet(window, zone, due or terms.now):
            status = QUIET_TIME
        if status is None and expires is not None and terms.now > expires:
            status = EXPIRED
        if status is None:
            out.to_send[endpoint["Id"]] = (endpoint, due)
        else:
            out.records.append((endpoint, status))
    return out


def _unreachable(endpoint: dict, channels: frozenset[str]) -> str | None:
    if endpoint.get("ChannelType") not in channels:
        return "ENDPOINT_CHANNEL_MISMATCH"
    if not endpoint.get("Address"):
        return "ENDPOINT_MISSING_ADDRESS"
    if endpoint.get("OptOut") == "ALL":
        return "ENDPOINT_OPT_OUT"
    if endpoint.get("EndpointStatus") == "INACTIVE":
        return "ENDPOINT_INACTIVE"
    return None


def _capped(held: dict | None, daily, total, today: str) -> str | None:
    if held is None:
        return None
    if total and held["total"] >= int(total):
        return CAMPAIGN_CAP
    if daily and held["day"] == today and held["day_count"] >= int(daily):
        return DAILY_CAP
    return None


def counted(held: dict | None, endpoint_id: str, status: str, today: str) -> dict | None:
    """An endpoint's caps row after a record of `status` (None when the record does not count)."""
    if status not in TARGETED:
        return None
    row = held or {"total": 0, "day": today, "day_count": 0}
    day_count = row["day_count"] if row["day"] == today else 0
    return {"endpoint_id": endpoint_id, "total": row["total"] + 1, "day": today,
            "day_count": day_count + (1 if status == SUCCESS else 0)}
