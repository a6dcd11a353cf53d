"""Event-based campaigns: planning the triggers the pump's sink wrote (triggers.py).

An event campaign has one run. Its activities (one per treatment) open at its first trigger and stay
RUNNING until its EndTime, when the scheduler completes them; they are never claimed by the segment
walk (their lease is held for good), since their audience is the endpoints that reported the event.

A pass takes a campaign's oldest triggers (at most TRIGGERS_PER_PASS), keeps the endpoints that are
members of the run's segment version (confined to the campaign's tenant), once each however many
of its events matched, and sorts and plans them for every treatment exactly as a slice of a
scheduled run: cohorts, caps, quiet time, the hook, the plan step, `_campaign.send` records. A
trigger older than EXPIRE_SECONDS gets an EXPIRED record instead of a message, as AWS drops an event
campaign's message it could not deliver within five minutes. The triggers are deleted in the
transaction that plans them; one that another scheduler deleted first makes this pass plan nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pinfold.audience import segments as segment_service
from pinfold.audience.store import segments as segment_store
from pinfold.campaigns import audience, channels, hook, runs
from pinfold.campaigns.rules import treatments
from pinfold.campaigns.store import activities as activity_store
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.campaigns.store import caps as caps_store
from pinfold.campaigns.store import event_triggers
from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.errors import NotFound
from pinfold.projects import store as project_store

log = logging.getLogger("pinfold.campaigns")

TRIGGERS_PER_PASS = 500
EXPIRE_SECONDS = 300.0
CAMPAIGNS_PER_PASS = 8
HELD_FOR_GOOD = 1e12  # an event activity's lease: the segment walk never claims it
_ACTIVE = ("SCHEDULED", "EXECUTING", "PENDING_NEXT_RUN")


class _Moved(Exception):
    """Another scheduler planned these triggers first."""


def fire_waiting(ctx: Context, now: float, *, poster: hook.Poster = hook.post_json) -> int:
    """Plan the triggers of a few campaigns, oldest first; how many triggers were handled."""
    with ctx.db.read() as conn:
        waiting = event_triggers.waiting_campaigns(conn)[:CAMPAIGNS_PER_PASS]
    return sum(fire(ctx, campaign_id, now, poster=poster) for campaign_id in waiting)


def fire(ctx: Context, campaign_id: str, now: float, *, poster: hook.Poster = hook.post_json,
         size: int = TRIGGERS_PER_PASS) -> int:
    with ctx.db.read() as conn:
        found = event_triggers.peek(conn, campaign_id, size)
        campaign = campaign_store.get_by_id(conn, campaign_id)
    if not found:
        return 0
    if campaign is None or campaign["state"] not in _ACTIVE or campaign["frequency"] != "EVENT":
        with ctx.db.write() as conn:  # paused, ended or gone: its waiting events trigger nothing
            event_triggers.remove(conn, [row["seq"] for row in found])
        return len(found)
    opened = _open_run(ctx, campaign_id, now)
    if not opened:
        return 0
    pieces = _read(ctx, campaign, opened, found, now)
    for piece in pieces:
        if piece.sorted.to_send:
            runs.filter_hook(piece, now, poster)
    try:
        with ctx.db.write() as conn:
            if event_triggers.remove(conn, [row["seq"] for row in found]) != len(found):
                raise _Moved()
            for piece in pieces:
                _plan(conn, piece, now)
    except (_Moved, runs.RateLimited):  # planned by another scheduler; or the send rate wants a pause
        return 0
    except runs.Unplannable as problem:
        log.warning("event campaign %s stopped: %s", campaign_id, problem)
        with ctx.db.write() as conn:
            activity_store.close_open(conn, campaign_id, ended_at=now)
            campaign_store.update(conn, campaign_id, state="INVALID", next_run_at=None)
            event_triggers.delete_campaign(conn, campaign_id)
    return len(found)


def _open_run(ctx: Context, campaign_id: str, now: float) -> list[dict]:
    """The campaign's event activities, opened (with the segment version resolved once) at its first trigger."""
    with ctx.db.write() as conn:
        campaign = campaign_store.get_by_id(conn, campaign_id, for_update=True)
        if campaign is None or campaign["state"] not in _ACTIVE:
            return []
        if campaign["runs"] == 0:
            definition = campaign_store.get_version(conn, campaign_id, campaign["version"])["definition"]
            version = definition.get("SegmentVersion") or _latest_version(conn, campaign)
            if version is None:
                campaign_store.update(conn, campaign_id, state="DELETED", next_run_at=None)
                return []
            for treatment_id in treatments.treatment_ids(definition):
                activity_store.add(conn, {
                    "id": ids.new_project_id(), "campaign_id": campaign_id, "project_id": campaign["project_id"],
                    "run": 1, "treatment_id": treatment_id, "campaign_version": campaign["version"],
                    "segment_version": version, "state": "RUNNING", "scheduled_at": now, "started_at": now,
                    "counts": runs.new_counts(), "lease_until": HELD_FOR_GOOD})
            campaign_store.update(conn, campaign_id, state="EXECUTING", runs=1)
        return [row for row in activity_store.of_campaign(conn, campaign_id) if row["run"] == 1
                and row["state"] == "RUNNING"]


def _latest_version(conn, campaign: dict) -> int | None:
    segment = segment_store.get(conn, campaign["project_id"], campaign["segment_id"])
    return segment and segment["version"]


def _read(ctx: Context, campaign: dict, opened: list[dict], found: list[dict], now: float) -> list[runs.Slice]:
    """Each treatment's slice of the triggered endpoints that are in the segment."""
    today = datetime.fromtimestamp(now, UTC).date().isoformat()
    stale = {row["endpoint_id"] for row in found if row["created_at"] < now - EXPIRE_SECONDS}
    with ctx.db.read() as conn:
        project = project_store.get_project_by_id(conn, campaign["project_id"])
        caller = project and runs.run_caller(conn, campaign, project, campaign["id"])
        if caller is None:
            return []
        confined = caller.endpoint_tenant
        pieces = []
        for activity in opened:
            definition = campaign_store.get_version(conn, campaign["id"], activity["campaign_version"])["definition"]
            try:
                members = segment_service.members_among(conn, project["id"], campaign["segment_id"],
                                                        activity["segment_version"],
                                                        confined[1] if confined else None,
                                                        [row["endpoint_id"] for row in found])
            except NotFound:  # the segment is gone: nobody is in it
                members = []
            settings = treatments.treatment(definition, activity["treatment_id"])
            kinds = channels.channel_types(settings)
            limits = definition.get("Limits") or {}
            keep_caps = bool(limits.get("Daily") or limits.get("Total"))
            held = caps_store.of_endpoints(conn, campaign["id"], [m["Id"] for m in members]) if keep_caps else {}
            terms = audience.Terms(campaign["id"], activity["treatment_id"], definition,
                                   settings.get("Schedule") or {}, kinds, now, now, today)
            sorted_ = audience.sort(members, terms, held)
            for endpoint_id in stale & set(sorted_.to_send):
                sorted_.records.append((sorted_.to_send.pop(endpoint_id)[0], audience.EXPIRED))
            pieces.append(runs.Slice(activity, campaign, definition, settings, project, caller, sorted_, held,
                                     activity["cursor"], today))
    return pieces


def _plan(conn, piece: runs.Slice, now: float) -> None:
    activity = activity_store.get(conn, piece.activity["id"], for_update=True)
    if activity is None or activity["state"] != "RUNNING":
        return
    counts = activity["counts"]
    records = list(piece.sorted.records)
    if piece.sorted.to_send:
        records += runs.send(conn, piece, counts, now)
    runs.write_records(conn, piece, activity, records, now)
    runs.count_caps(conn, piece, records)
    runs.tally(counts, piece.sorted, records)
    activity_store.update(conn, activity["id"], counts=counts)
