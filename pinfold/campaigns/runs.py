"""Running a campaign: starting a due run, and advancing one of its activities by one slice.

A run starts once: the campaign row is locked, its activities (one per treatment) are inserted under
their unique (campaign, run, treatment) key, and its run count and next due time move, all in one
transaction. An activity then walks its segment version in endpoint id order, a slice at a time.
A slice is read (with the caps counts and, when the campaign has one, the hook's answer) outside any
write, then planned in one write transaction that first checks the activity's cursor has not moved:
the messages, the `_campaign.send` records, the counts and the cursor commit together. A scheduler
killed anywhere loses nothing it had not committed and repeats nothing it had; the scheduler that takes
the database lease next frees its claims at once (scheduler.py) and goes on from the cursor.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from pinfold.audience import events as event_service
from pinfold.audience import segments as segment_service
from pinfold.campaigns import audience, channels, hook
from pinfold.campaigns import events as campaign_events
from pinfold.campaigns.rules import schedule, treatments
from pinfold.campaigns.store import activities as activity_store
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.campaigns.store import caps as caps_store
from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller, TenantScope
from pinfold.core.errors import NotFound, PinfoldError
from pinfold.events import outbox
from pinfold.events.records import Origin
from pinfold.projects import store as project_store
from pinfold.sending.plan import Plan, Recipient
from pinfold.tenancy.store import tenants as tenant_store

log = logging.getLogger("pinfold.campaigns")

OPEN = ("PENDING", "INITIALIZING", "RUNNING")
NOT_RUNNING = ("PAUSED", "COMPLETED", "DELETED", "INVALID")  # states in which no new run starts
PRINCIPAL = "pinfold-campaigns"


class RateLimited(Exception):
    """The account's send rate refused a slice: it was rolled back, to be planned again shortly."""


class Unplannable(Exception):
    """The treatment's message can no longer be planned (its template or channel is gone)."""


def new_counts() -> dict:
    return {"TotalEndpointCount": 0, "SuccessfulEndpointCount": 0, "ExecutionMetrics": {},
            "TimezonesTotalCount": 0, "TimezonesCompletedCount": 0}


def run_caller(conn, campaign: dict, project: dict, request_id: str) -> Caller | None:
    """Who a run acts as: the project's account, confined to the campaign's tenant when it has one
    (an sa-sp tenant's campaign reaches only its endpoints); None when that tenant is gone."""
    scope = None
    if campaign["tenant_id"] is not None:
        tenant = tenant_store.get_tenant(conn, campaign["tenant_id"])
        if tenant is None or tenant["project_id"] != project["id"]:
            return None
        scope = TenantScope(tenant["id"], tenant["model"], tenant["project_id"], tenant["attribute_key"],
                            tenant["attribute_value"])
    return Caller(principal_id=PRINCIPAL, account_id=project["account_id"], region=project["region"],
                  scope="tenant" if scope else "account", tenant=scope, request_id=request_id)


# --- starting a run -------------------------------------------------------------------------------------

def start_run(ctx: Context, campaign_id: str, now: float) -> bool:
    """Start the campaign's due run, if it still is due; True when the campaign changed."""
    with ctx.db.write() as conn:
        campaign = campaign_store.get_by_id(conn, campaign_id, for_update=True)
        if campaign is None or campaign["next_run_at"] is None or campaign["next_run_at"] > now:
            return False
        if campaign["state"] in NOT_RUNNING:  # resuming a paused campaign sets its next run again
            campaign_store.update(conn, campaign_id, next_run_at=None)
            return True
        if campaign["frequency"] in ("EVENT", "IN_APP_EVENT"):  # due only at its EndTime: it has ended
            activity_store.close_open(conn, campaign_id, ended_at=now)
            campaign_store.update(conn, campaign_id, state="COMPLETED", next_run_at=None)
            return True
        definition = campaign_store.get_version(conn, campaign_id, campaign["version"])["definition"]
        project = project_store.get_project_by_id(conn, campaign["project_id"])
        caller = project and run_caller(conn, campaign, project, campaign_id)
        if caller is None:
            campaign_store.update(conn, campaign_id, state="INVALID", next_run_at=None)
            return True
        try:
            _, segment = segment_service.require(conn, caller, project["id"], campaign["segment_id"])
        except NotFound:
            campaign_store.update(conn, campaign_id, state="DELETED", next_run_at=None)
            return True
        problem = _unplannable(conn, caller, project, definition)
        if problem:
            log.warning("campaign %s cannot run: %s", campaign_id, problem)
            campaign_store.update(conn, campaign_id, state="INVALID", next_run_at=None)
            return True
        run, run_at = campaign["runs"] + 1, campaign["next_run_at"]
        for treatment_id in treatments.treatment_ids(definition):
            activity_store.add(conn, {
                "id": ids.new_project_id(), "campaign_id": campaign_id, "project_id": project["id"], "run": run,
                "treatment_id": treatment_id, "campaign_version": campaign["version"],
                "segment_version": definition.get("SegmentVersion") or segment["version"], "state": "PENDING",
                "scheduled_at": _treatment_start(definition, treatment_id, run, run_at), "counts": new_counts()})
        campaign_store.update(conn, campaign_id, state="EXECUTING", runs=run,
                              next_run_at=schedule.next_run(definition.get("Schedule") or {}, max(now, run_at),
                                                            origin=_origin(campaign)))
        return True


def _treatment_start(definition: dict, treatment_id: str, run: int, run_at: float) -> float:
    """A treatment with a Schedule of its own starts its first run at its own StartTime."""
    own = treatments.treatment(definition, treatment_id)["Schedule"]
    if treatment_id == treatments.DEFAULT or run != 1 or own is definition.get("Schedule") or not own:
        return run_at
    return max(run_at, schedule.start_instant(own, run_at))


def _origin(campaign: dict) -> float:
    """When an IMMEDIATE campaign's first run was due: its creation."""
    return schedule.parse_time(campaign["created_at"]).timestamp()


def _unplannable(conn, caller: Caller, project: dict, definition: dict) -> str | None:
    """Why the run's treatments cannot be planned at all (a template or channel gone), or None."""
    for treatment_id in treatments.treatment_ids(definition):
        try:
            made = channels.planners(conn, caller, project, treatments.treatment(definition, treatment_id), {})
            refusals = [planner.refusal() for planner in made.values()]
        except PinfoldError as error:
            return error.message
        if not made:
            return "the campaign has no message for a channel Pinfold sends"
        if all(refusals):
            return refusals[0]
    return None


# --- advancing an activity ------------------------------------------------------------------------------

@dataclass
class Slice:
    """One slice of an activity as read, to be planned if its cursor has not moved meanwhile."""

    activity: dict
    campaign: dict
    definition: dict
    settings: dict  # the treatment's effective settings
    project: dict
    caller: Caller
    sorted: audience.Sorted
    held: dict[str, dict]  # caps counts of the slice's endpoints
    last: str | None  # the cursor after this slice; None when the walk ends with it
    today: str
    gone: bool = False  # the segment is deleted: the activity ends and the campaign is DELETED


def advance(ctx: Context, activity_id: str, now: float, *, size: int, queue_bound: int,
            poster: hook.Poster = hook.post_json) -> int:
    """Plan the next slice of an activity; returns how many endpoints it handled (0: nothing to do now,
    waiting for the sending queue, or rolled back by the send rate: RateLimited)."""
    ctx.db.give_way()
    with ctx.db.read() as conn:
        piece = _read(conn, activity_id, now, size, queue_bound)
    if piece is None:
        return 0
    if piece.sorted.to_send:
        filter_hook(piece, now, poster)
    try:
        with ctx.db.write() as conn:
            return _plan(conn, piece, now)
    except Unplannable as problem:  # a template or channel went away mid-run: the run cannot go on
        log.warning("campaign %s activity %s stopped: %s", piece.campaign["id"], activity_id, problem)
        with ctx.db.write() as conn:
            activity_store.update(conn, activity_id, state="COMPLETED", result="FAIL", ended_at=now,
                                  lease_until=None)
            campaign_store.update(conn, piece.campaign["id"], state="INVALID", next_run_at=None)
        return 1


def _read(conn, activity_id: str, now: float, size: int, queue_bound: int) -> Slice | None:
    activity = activity_store.get(conn, activity_id)
    if activity is None or activity["state"] not in OPEN:
        return None
    campaign = campaign_store.get_by_id(conn, activity["campaign_id"])
    project = campaign and project_store.get_project_by_id(conn, campaign["project_id"])
    caller = project and run_caller(conn, campaign, project, activity_id)
    if caller is None:
        return None
    if _paused(conn, campaign, project):
        return None  # held while its tenant's sending is paused (reputation); it goes on once resumed
    definition = campaign_store.get_version(conn, campaign["id"], activity["campaign_version"])["definition"]
    settings = treatments.treatment(definition, activity["treatment_id"])
    kinds = channels.channel_types(settings)
    if channels.backlog(conn, settings, now, up_to=queue_bound) >= queue_bound:
        return None
    today = datetime.fromtimestamp(now, UTC).date().isoformat()
    confined = caller.endpoint_tenant
    try:
        members, last = segment_service.members_after(
            conn, project["id"], campaign["segment_id"], activity["segment_version"],
            confined[1] if confined else None, activity["cursor"], size)
    except NotFound:
        return Slice(activity, campaign, definition, settings, project, caller, audience.Sorted(), {}, None,
                      today, gone=True)
    limits = definition.get("Limits") or {}
    keep_caps = bool(limits.get("Daily") or limits.get("Total"))
    held = caps_store.of_endpoints(conn, campaign["id"], [m["Id"] for m in members]) if keep_caps else {}
    terms = audience.Terms(campaign["id"], activity["treatment_id"], definition, settings.get("Schedule") or {},
                           kinds, activity["scheduled_at"], now, today)
    return Slice(activity, campaign, definition, settings, project, caller, audience.sort(members, terms, held),
                  held, last, today)


def _paused(conn, campaign: dict, project: dict) -> bool:
    """Whether the tenant a campaign sends for has its sending paused: the campaign's own tenant (sa-sp),
    else the tenant whose project it is (sa-mp, ma-mp)."""
    tenant_id = campaign["tenant_id"] or tenant_store.owners_in_project(conn, project["id"]).get(None)
    return tenant_id is not None and tenant_store.sending_paused(conn, tenant_id)


def filter_hook(piece: Slice, now: float, poster: hook.Poster) -> None:
    """Pass the endpoints to be sent through the campaign's FILTER hook, when it has one."""
    campaign_hook = piece.definition.get("Hook") or {}
    if not campaign_hook.get("WebUrl") or campaign_hook.get("Mode", "FILTER") != "FILTER":
        return
    activity = piece.activity
    event = {"ApplicationId": piece.project["id"], "CampaignId": piece.campaign["id"],
             "TreatmentId": activity["treatment_id"], "ActivityId": activity["id"],
             "ScheduledTime": ids.iso(datetime.fromtimestamp(activity["scheduled_at"], UTC)),
             "MessageConfiguration": piece.settings.get("MessageConfiguration") or {}}
    given = {eid: {k: v for k, v in doc.items() if k not in ("ApplicationId", "Id")}
             for eid, (doc, _) in piece.sorted.to_send.items()}
    kept, failed = hook.filter_endpoints(campaign_hook["WebUrl"], event, given, poster)
    to_send: dict[str, tuple[dict, float | None]] = {}
    for endpoint_id, (doc, due) in piece.sorted.to_send.items():
        if endpoint_id in failed:
            piece.sorted.records.append((doc, audience.HOOK_FAILURE))
        elif endpoint_id in kept:
            to_send[endpoint_id] = ({**doc, **kept[endpoint_id], "Id": endpoint_id}, due)
        else:
            piece.sorted.metrics["FILTERED_OUT_BY_SEGMENT"] += 1
    piece.sorted.to_send = to_send


def _plan(conn, piece: Slice, now: float) -> int:
    activity = activity_store.get(conn, piece.activity["id"], for_update=True)
    if activity is None or activity["state"] not in OPEN or activity["cursor"] != piece.activity["cursor"]:
        return 0  # another scheduler planned this slice meanwhile
    counts = activity["counts"]
    records = list(piece.sorted.records)
    if piece.sorted.to_send:
        records += send(conn, piece, counts, now)
    write_records(conn, piece, activity, records, now)
    count_caps(conn, piece, records)
    tally(counts, piece.sorted, records)
    values = {"counts": counts, "cursor": piece.last or activity["cursor"], "lease_until": now}
    if activity["state"] == "PENDING":
        values.update(state="RUNNING", started_at=now)
    if piece.last is None:
        counts["TimezonesCompletedCount"] = counts["TimezonesTotalCount"]
        values.update(state="COMPLETED", result="FAIL" if piece.gone else "SUCCESS", ended_at=now,
                      lease_until=None)
    activity_store.update(conn, activity["id"], **values)
    if piece.last is None:
        _run_ended(conn, activity["campaign_id"], gone=piece.gone)
    return max(1, piece.sorted.metrics["ENDPOINT_PRODUCED"])


def send(conn, piece: Slice, counts: dict, now: float) -> list[tuple[dict, str]]:
    """Plan the slice's endpoints to be sent; their records' statuses (RateLimited rolls the slice back)."""
    attributes = {"campaign_id": piece.campaign["id"], "campaign_activity_id": piece.activity["id"],
                  "treatment_id": piece.activity["treatment_id"]}
    try:
        planners = channels.planners(conn, piece.caller, piece.project, piece.settings, attributes,
                                     scheduled_at=piece.activity["scheduled_at"])
        refusals = [planner.refusal() for planner in planners.values()]
    except PinfoldError as error:
        raise Unplannable(error.message) from error
    if refusals and all(refusals):
        raise Unplannable(refusals[0])
    plan = Plan(planners)
    limits = piece.definition.get("Limits") or {}
    rate, duration = limits.get("MessagesPerSecond"), limits.get("MaximumDuration")
    expires = piece.activity["scheduled_at"] + duration if duration else None
    slot = max(counts.get("_next_due") or now, now)
    owner = event_service.owners(conn, piece.caller, piece.project, list(piece.sorted.to_send))
    records: list[tuple[dict, str]] = []
    docs = {}
    for endpoint_id, (doc, due) in piece.sorted.to_send.items():
        if rate:
            due, slot = max(due or now, slot), slot + 1.0 / float(rate)
        if expires is not None and due is not None and due > expires:
            records.append((doc, audience.EXPIRED))
            continue
        planner = planners[doc["ChannelType"]]
        data = {**doc, **planner.substitutions}
        docs[endpoint_id] = doc
        plan.add_endpoint(endpoint_id, doc, Recipient(doc["Address"], data, endpoint_id, owner(endpoint_id, doc),
                                                      {}, due))
    plan.commit()
    if any(planner.rate_limited for planner in planners.values()):
        raise RateLimited()
    spent = {kind for kind, planner in planners.items() if planner.quota_spent}
    counts["_next_due"] = slot if rate else None
    for endpoint_id, doc in docs.items():
        result = plan.results[endpoint_id]
        status = result["DeliveryStatus"]
        if status == "OPT_OUT":
            piece.sorted.metrics["ENDPOINT_OPT_OUT"] += 1
            continue
        records.append((doc, audience.SUCCESS if status == "SUCCESSFUL"
                        else audience.DUPLICATE_ADDRESS if status == "DUPLICATE"
                        else audience.THROTTLED if doc["ChannelType"] in spent else audience.FAILURE))
    return records


def write_records(conn, piece: Slice, activity: dict, records: list[tuple[dict, str]], now: float) -> None:
    """The slice's `_campaign.send` records, each with its endpoint's tenant as the channels' records have."""
    owner = event_service.owners(conn, piece.caller, piece.project, [doc["Id"] for doc, _ in records])
    project, at_ms = piece.project, int(now * 1000)
    outbox.append(conn, [
        campaign_events.send_row(Origin(project["account_id"], project["region"], project["id"], owner(doc["Id"], doc)),
                                 activity=activity, delivery_type=channels.delivery_type(piece.settings,
                                                                                         doc.get("ChannelType")),
                                 status=status,
                                 endpoint=doc, at_ms=at_ms)
        for doc, status in records])


def count_caps(conn, piece: Slice, records: list[tuple[dict, str]]) -> None:
    limits = piece.definition.get("Limits") or {}
    if not (limits.get("Daily") or limits.get("Total")):
        return
    campaign_id = piece.campaign["id"]
    held = caps_store.of_endpoints(conn, campaign_id, [doc["Id"] for doc, _ in records])  # read again: now
    rows = {}
    for doc, status in records:
        row = audience.counted(rows.get(doc["Id"]) or held.get(doc["Id"]), doc["Id"], status, piece.today)
        if row is not None:
            rows[doc["Id"]] = row
    caps_store.save(conn, campaign_id, list(rows.values()))


def tally(counts: dict, sorted_: audience.Sorted, records: list[tuple[dict, str]]) -> None:
    metrics = Counter({key: int(value) for key, value in counts["ExecutionMetrics"].items()})
    metrics.update(sorted_.metrics)
    counts["ExecutionMetrics"] = {key: str(value) for key, value in sorted(metrics.items())}
    statuses = Counter(status for _, status in records)
    counts["TotalEndpointCount"] += sum(n for status, n in statuses.items() if status != audience.HOLDOUT)
    counts["SuccessfulEndpointCount"] += statuses[audience.SUCCESS]
    zones = set(counts.get("_timezones") or []) | sorted_.zones
    if zones:
        counts["_timezones"] = sorted(zones)
        counts["TimezonesTotalCount"] = len(zones)


def _run_ended(conn, campaign_id: str, *, gone: bool) -> None:
    """After an activity ends: the campaign leaves EXECUTING once all its open activities have ended."""
    campaign = campaign_store.get_by_id(conn, campaign_id, for_update=True)
    if campaign is None:
        return
    if gone:
        campaign_store.update(conn, campaign_id, state="DELETED", next_run_at=None)
    elif campaign["state"] == "EXECUTING" and activity_store.open_count(conn, campaign_id) == 0:
        campaign_store.update(conn, campaign_id,
                              state="PENDING_NEXT_RUN" if campaign["next_run_at"] is not None else "COMPLETED")


def hold(ctx: Context, activity_id: str, until: float) -> None:
    """Leave an activity alone until `until` (its slice was rolled back by the send rate)."""
    with ctx.db.write() as conn:
        activity_store.update(conn, activity_id, lease_until=until)
