"""A campaign's state and when the scheduler next looks at it, as creating, editing, pausing and
resuming change them (pure). The runs themselves move the state on in `runs.py`.

SCHEDULED waits for a first (or, after a new StartTime, another) run; EXECUTING has a run's
activities open; PENDING_NEXT_RUN is a recurring campaign between runs; COMPLETED has no run left;
PAUSED skips every future run until resumed (a run in progress finishes); DELETED is shown when
the campaign's segment is gone; INVALID is a run that could not start. Active campaigns (what the
per-account quota counts) are SCHEDULED, EXECUTING and PENDING_NEXT_RUN.
"""

from __future__ import annotations

from pinfold.campaigns.rules.schedule import IMMEDIATE, end_instant, next_run, start_instant
from pinfold.core.errors import InvalidInput

ACTIVE = frozenset({"SCHEDULED", "EXECUTING", "PENDING_NEXT_RUN"})
# States an edit that keeps the schedule leaves as they are; from the others an edit starts over.
_KEPT_BY_EDITS = ACTIVE | {"COMPLETED"}


def check_pausable(definition: dict) -> None:
    """Pinpoint refuses to pause a campaign that starts IMMEDIATE (it has no future run to skip)."""
    if definition.get("IsPaused") and definition["Schedule"]["StartTime"] == IMMEDIATE:
        raise InvalidInput("An IMMEDIATE campaign cannot be paused", field="IsPaused")


def initial(definition: dict, now: float) -> tuple[str, float | None]:
    """(state, next_run_at) of a new campaign: EVENT campaigns are driven by their triggers, and are
    due only at their EndTime, to end."""
    if definition.get("IsPaused"):
        return "PAUSED", None
    return _planned(definition, runs=0, now=now, new_start=True, origin=None)


def after_update(campaign: dict, previous: dict, definition: dict, *, now: float, running: bool,
                 origin: float | None) -> tuple[str, float | None]:
    """(state, next_run_at) once `definition` replaces `previous` as the latest version.

    Content edits keep the state. Pausing sets PAUSED at once (a run in progress still finishes).
    Resuming, a changed schedule, or an edit to an INVALID or DELETED campaign plans again from now:
    missed recurring runs are skipped, a one-off campaign whose start passed while paused runs now,
    and a one-off campaign that already ran runs again only for a new StartTime. `origin` is when the
    first run started (recurring IMMEDIATE campaigns count their periods from it)."""
    if definition.get("IsPaused"):
        return "PAUSED", None
    old, new = previous.get("Schedule") or {}, definition["Schedule"]
    if campaign["state"] in _KEPT_BY_EDITS and old == new:
        return campaign["state"], campaign["next_run_at"]
    new_start = old.get("StartTime") != new["StartTime"]
    state, due = _planned(definition, runs=campaign["runs"], now=now, new_start=new_start, origin=origin)
    if running:  # the run in progress finishes first, with its own version
        return "EXECUTING", due
    return state, due


def _planned(definition: dict, *, runs: int, now: float, new_start: bool,
             origin: float | None) -> tuple[str, float | None]:
    schedule = definition["Schedule"]
    end = end_instant(schedule)
    if end is not None and end <= now:
        return "COMPLETED", None
    frequency = schedule.get("Frequency") or "ONCE"
    if frequency in ("EVENT", "IN_APP_EVENT"):  # triggers drive it; the scheduler looks again only to end it
        return "SCHEDULED", end
    if runs == 0 or (frequency == "ONCE" and new_start):
        return "SCHEDULED", start_instant(schedule, now)
    if frequency == "ONCE":
        return "COMPLETED", None
    due = next_run(schedule, now, origin=origin)
    return ("PENDING_NEXT_RUN", due) if due is not None else ("COMPLETED", None)


def shown(state: str, segment_exists: bool) -> str:
    """The state a response shows: DELETED once the campaign's segment is gone (audience cannot tell
    campaigns when it deletes a segment, so this is derived when read)."""
    if not segment_exists and state not in ("COMPLETED", "INVALID"):
        return "DELETED"
    return state
