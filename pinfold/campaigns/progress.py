"""How far a campaign run has got: its activities' counts and their messages by outcome, with an
estimate of how many messages the run will send in all and of the time left.

Messages are counted from the channels' queues (email batches and texts carry the activity that
queued them) and sorted into queued (waiting or being sent), sent (handed to a carrier, its
delivery report pending), delivered, and failed (bounced, rejected, suppressed, expired...). While an
activity is still planning, its final count is extrapolated from what it planned of the segment
members it has read so far, once the segment's size is known (`Audience` counts it a step at a time).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from pinfold.audience import segments as segment_service
from pinfold.campaigns import campaigns as campaign_service
from pinfold.campaigns import runs
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.campaigns.store import overview
from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import NotFound
from pinfold.custom.store import calls as custom_calls
from pinfold.email.store import messages as email_messages
from pinfold.projects import store as project_store
from pinfold.push.store import messages as push_messages
from pinfold.sms.store import messages as sms_messages

OUTCOMES = ("queued", "sent", "delivered", "failed")
_BUCKETS = {"queued": "queued", "sending": "queued", "sent": "sent", "delivered": "delivered"}  # the rest failed


def outcomes(by_status: dict[str, int]) -> dict[str, int]:
    """Message counts by status (either channel's) sorted into OUTCOMES."""
    sorted_ = dict.fromkeys(OUTCOMES, 0)
    for status, count in by_status.items():
        sorted_[_BUCKETS.get(status, "failed")] += int(count)
    return sorted_


@dataclass(frozen=True)
class ActivityProgress:
    id: str
    treatment_id: str
    state: str
    result: str | None
    scheduled_at: float
    endpoints: int  # TotalEndpointCount
    planned: int  # SuccessfulEndpointCount: messages queued
    read: int  # segment members the activity has walked (ENDPOINT_PRODUCED)
    execution_metrics: dict[str, str]
    messages: dict[str, int]  # by OUTCOMES

    @property
    def planning(self) -> bool:
        return self.state in runs.OPEN

    def expected(self, audience: int | None) -> int | None:
        """The messages this activity will have queued in all: exact once it has planned everything,
        extrapolated from its yield so far while it plans, None when nothing tells yet."""
        if not self.planning:
            return self.planned
        if audience is None or self.read == 0:
            return None
        return max(self.planned, round(self.planned * audience / self.read))


@dataclass(frozen=True)
class RunProgress:
    campaign_id: str
    project_id: str
    campaign_state: str
    run: int
    started: bool  # the run's activities exist
    activities: list[ActivityProgress] = field(default_factory=list)

    @property
    def messages(self) -> dict[str, int]:
        return {outcome: sum(a.messages[outcome] for a in self.activities) for outcome in OUTCOMES}

    @property
    def done(self) -> int:
        """Messages that left the queue, however they ended."""
        totals = self.messages
        return totals["sent"] + totals["delivered"] + totals["failed"]

    @property
    def planning(self) -> bool:
        return any(a.planning for a in self.activities)

    @property
    def finished(self) -> bool:
        return self.started and not self.planning and self.messages["queued"] == 0

    def expected(self, audience: int | None) -> tuple[int, bool]:
        """(messages the run will send in all, whether that is exact rather than estimated)."""
        guesses = [a.expected(audience) for a in self.activities]
        exact = self.started and not self.planning
        if any(guess is None for guess in guesses):
            return max(sum(a.planned for a in self.activities), self.done), False
        return max(sum(guesses), self.done), exact

    def as_dict(self) -> dict:
        return {"CampaignId": self.campaign_id, "ApplicationId": self.project_id, "CampaignStatus": self.campaign_state,
                "Run": self.run, "Started": self.started, "Finished": self.finished, "Messages": self.messages,
                "Activities": [activity_dict(a) for a in self.activities]}


def activity_dict(activity: ActivityProgress) -> dict:
    return {"Id": activity.id, "TreatmentId": activity.treatment_id, "State": activity.state,
            **({"Result": activity.result} if activity.result else {}),
            "TotalEndpointCount": activity.endpoints, "SuccessfulEndpointCount": activity.planned,
            "ExecutionMetrics": activity.execution_metrics, "Messages": activity.messages}


def message_outcomes(conn, activity_ids: list[str]) -> dict[str, dict[str, int]]:
    """Each activity's messages (email, SMS, push, and custom-channel calls) by OUTCOMES."""
    found = {}
    for activity_id in activity_ids:
        by_status: dict[str, int] = {}
        for counted in (email_messages.activity_progress(conn, [activity_id]),
                        sms_messages.activity_progress(conn, [activity_id]),
                        push_messages.activity_progress(conn, [activity_id]),
                        custom_calls.activity_progress(conn, [activity_id])):
            for status, count in counted.items():
                by_status[status] = by_status.get(status, 0) + count
        found[activity_id] = outcomes(by_status)
    return found


def of_activities(conn, rows: list[dict]) -> list[ActivityProgress]:
    """Activity rows with their messages' outcomes."""
    messages = message_outcomes(conn, [row["id"] for row in rows])
    shown = []
    for row in rows:
        counts = row["counts"] or {}
        metrics = counts.get("ExecutionMetrics") or {}
        shown.append(ActivityProgress(
            id=row["id"], treatment_id=row["treatment_id"], state=row["state"], result=row["result"],
            scheduled_at=row["scheduled_at"], endpoints=int(counts.get("TotalEndpointCount") or 0),
            planned=int(counts.get("SuccessfulEndpointCount") or 0), read=int(metrics.get("ENDPOINT_PRODUCED") or 0),
            execution_metrics={str(k): str(v) for k, v in metrics.items()}, messages=messages[row["id"]]))
    return shown


def viewer(ctx: Context, caller: Caller, campaign_id: str) -> tuple[Caller, str]:
    """(who reads the campaign, its project): an organization administrator reads it as the project's
    account does (segments.operator_view); anyone else as themselves. NotFound for a missing campaign."""
    with ctx.db.read() as conn:
        campaign = campaign_store.get_by_id(conn, campaign_id)
    if campaign is None:
        raise NotFound(f"Resource not found: campaign {campaign_id[:64]}")
    project_id = campaign["project_id"]
    if caller.is_organization_admin:
        return segment_service.operator_view(ctx, caller, project_id), project_id
    return caller, project_id


def run_progress(ctx: Context, caller: Caller, campaign_id: str, run: int | None = None) -> RunProgress:
    """How far run `run` (the latest by default) of a campaign the caller may see has got."""
    reader, project_id = viewer(ctx, caller, campaign_id)
    with ctx.db.read() as conn:
        campaign = campaign_service.require(conn, reader, project_id, campaign_id)[1]
        number = campaign["runs"] if run is None else run
        rows = overview.run_activities(conn, campaign_id, number) if number else []
        return RunProgress(campaign_id, project_id, campaign["state"], number, bool(rows), of_activities(conn, rows))


class Audience:
    """The number of members a run walks (its segment version, as its campaign's tenant sees it),
    counted a step at a time so a watcher stays responsive over a large segment."""

    STEP = 5000

    def __init__(self, campaign_id: str) -> None:
        self.campaign_id = campaign_id
        self.size: int | None = None
        self._counted, self._cursor, self._walk = 0, None, None

    def step(self, ctx: Context, progress: RunProgress) -> int | None:
        """Count one more step (once the run has started); the size once it is known."""
        if self.size is not None or not progress.started:
            return self.size
        with ctx.db.read() as conn:
            if self._walk is None:
                self._walk = _walk_of(conn, self.campaign_id, progress)
                if self._walk is None:
                    return None
            project_id, segment_id, version, tenant_value = self._walk
            try:
                members, self._cursor = segment_service.members_after(conn, project_id, segment_id, version,
                                                                      tenant_value, self._cursor, self.STEP)
            except NotFound:  # the segment went away: the run ends without it
                self._walk = None
                return None
        self._counted += len(members)
        if self._cursor is None:
            self.size = self._counted
        return self.size


def _walk_of(conn, campaign_id: str, progress: RunProgress) -> tuple[str, str, int, str | None] | None:
    """(project, segment, version, tenant value) the run's activities walk, as runs.py walks them."""
    campaign = campaign_store.get_by_id(conn, campaign_id)
    project = campaign and project_store.get_project_by_id(conn, campaign["project_id"])
    rows = overview.run_activities(conn, campaign_id, progress.run)
    caller = project and rows and runs.run_caller(conn, campaign, project, campaign_id)
    if not caller:
        return None
    confined = caller.endpoint_tenant
    return project["id"], campaign["segment_id"], rows[0]["segment_version"], confined[1] if confined else None


class Meter:
    """The rate at which messages leave the queue, over the last `window` seconds, and the time left."""

    def __init__(self, window: float = 30.0) -> None:
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, at: float, done: int) -> None:
        self._samples.append((at, done))
        while len(self._samples) > 2 and at - self._samples[1][0] >= self.window:
            self._samples.popleft()

    def rate(self) -> float | None:
        """Messages per second over the window, None until two samples differ in time."""
        if len(self._samples) < 2:
            return None
        (first_at, first), (last_at, last) = self._samples[0], self._samples[-1]
        return (last - first) / (last_at - first_at) if last_at > first_at else None

    def seconds_left(self, expected: int) -> float | None:
        """Seconds until `expected` messages are done at the current rate; None while nothing moves."""
        rate = self.rate()
        if not self._samples or not rate or rate <= 0:
            return None
        return max(0.0, (expected - self._samples[-1][1]) / rate)
