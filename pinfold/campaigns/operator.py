"""The operator's campaign commands: list every project's campaigns, show one with its recent runs,
run one now, pause and resume it.

The caller is an organization administrator, and a campaign is named by its id alone; each command
then acts as the campaign's project account would (segments.operator_view), so pausing and resuming
go through UpdateCampaign's use case and its rules (an IMMEDIATE campaign cannot be paused).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pinfold.audience import segments as segment_service
from pinfold.campaigns import campaigns as campaign_service
from pinfold.campaigns import progress, responses
from pinfold.campaigns.rules import states
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.campaigns.store import overview
from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller
from pinfold.core.errors import Conflict, NotFound
from pinfold.core.paging import decode_token, encode_token
from pinfold.db.database import lock_keys
from pinfold.tenancy.store import tenants as tenant_store

RUNNABLE = ("SCHEDULED", "PENDING_NEXT_RUN")
PAGE = 100  # campaigns read per query while listing
_WHY_NOT = {
    "EXECUTING": "a run is in progress (watch it with `pinfold campaigns watch`)",
    "PAUSED": "it is paused (`pinfold campaigns resume` first)",
    "COMPLETED": "it has no run left (give it a new StartTime with UpdateCampaign)",
    "DELETED": "its segment was deleted",
    "INVALID": "its last run could not start (fix its template, channel or segment with UpdateCampaign)",
}


def _view(ctx: Context, caller: Caller, campaign_id: str) -> tuple[Caller, dict]:
    """(a caller that sees the campaign's project as its account does, the campaign row)."""
    caller.require_organization_admin()
    reader, _ = progress.viewer(ctx, caller, campaign_id)
    with ctx.db.read() as conn:
        campaign = campaign_store.get_by_id(conn, campaign_id)
    if campaign is None:  # deleted meanwhile
        raise NotFound(f"Resource not found: campaign {campaign_id[:64]}")
    return reader, campaign


def _when(epoch: float | None) -> str | None:
    return ids.iso(datetime.fromtimestamp(epoch, UTC)) if epoch is not None else None


# --- list ---------------------------------------------------------------------------------------------

def list_campaigns(ctx: Context, caller: Caller, *, project_id: str | None = None, tenant_id: str | None = None,
                   limit: int = 100, token: str | None = None) -> tuple[list[dict], str | None]:
    """Up to `limit` campaigns of every project (or of one project, or one tenant's), oldest first,
    read a page at a time; and the token of the next ones, if any."""
    caller.require_organization_admin()
    after = decode_token(token)
    with ctx.db.read() as conn:
        narrowing = _tenant_narrowing(conn, tenant_id) if tenant_id else {}
        if project_id is not None and narrowing.setdefault("project_id", project_id) != project_id:
            return [], None  # the tenant has no place in that project
        rows: list[dict] = []
        while True:
            want = min(PAGE, limit + 1 - len(rows))  # one more than asked tells whether more follow
            found = overview.page(conn, **narrowing, after=after, limit=want)
            rows += found
            if len(found) < want or len(rows) > limit:
                break
            after = (found[-1]["created_at"], found[-1]["id"])
    shown = rows[:limit]
    next_token = encode_token((shown[-1]["created_at"], shown[-1]["id"])) if len(rows) > limit else None
    return [_listed(row) for row in shown], next_token


def _tenant_narrowing(conn, tenant_id: str) -> dict:
    """What confines a listing to a tenant's campaigns: its own in a shared project (sa-sp), its
    project's (sa-mp), or its account's (ma-mp)."""
    tenant = tenant_store.get_tenant(conn, tenant_id)
    if tenant is None:
        raise NotFound(f"Tenant {tenant_id} not found")
    if tenant["model"] == "sa-sp":
        return {"project_id": tenant["project_id"], "tenant_id": tenant["id"]}
    if tenant["model"] == "sa-mp":
        return {"project_id": tenant["project_id"]}
    return {"account_id": tenant["account_id"]}


def _listed(row: dict) -> dict:
    return {"id": row["id"], "project": row["project_id"], "account": row["account_id"], "tenant": row["owner"],
            "name": row["name"], "state": states.shown(row["state"], bool(row["segment_exists"])),
            "frequency": row["frequency"], "version": row["version"], "runs": row["runs"],
            "next_run": _when(row["next_run_at"])}


# --- show ---------------------------------------------------------------------------------------------

def show(ctx: Context, caller: Caller, campaign_id: str, *, runs: int = 3) -> dict:
    """The campaign as GetCampaign answers, with the activities of its last `runs` runs, each with
    its messages by outcome (progress.OUTCOMES)."""
    viewer, campaign = _view(ctx, caller, campaign_id)
    shown = campaign_service.get(ctx, viewer, campaign["project_id"], campaign_id)
    with ctx.db.read() as conn:
        rows = overview.recent_activities(conn, campaign_id, runs)
        messages = progress.message_outcomes(conn, [row["id"] for row in rows])
    return {"Campaign": shown, "Runs": campaign["runs"], "NextRun": _when(campaign["next_run_at"]),
            "Activities": [{**responses.activity(row), "Run": row["run"], "Messages": messages[row["id"]]}
                           for row in rows]}


# --- run now, pause, resume -----------------------------------------------------------------------------

def run_now(ctx: Context, caller: Caller, campaign_id: str) -> dict:
    """Make a SCHEDULED or PENDING_NEXT_RUN campaign due now, so the scheduler of a running server or
    worker starts its next run within a second. A one-off campaign's run is brought forward; a
    recurring campaign gets an extra run now, and its schedule's runs go on. Conflict otherwise."""
    viewer, _ = _view(ctx, caller, campaign_id)
    now = time.time()
    with ctx.db.write() as conn:
        lock_keys(conn, "campaigns", [campaign_id])
        campaign = campaign_store.get_by_id(conn, campaign_id, for_update=True)
        if campaign is None:
            raise NotFound(f"Resource not found: campaign {campaign_id[:64]}")
        try:
            segment_service.require(conn, viewer, campaign["project_id"], campaign["segment_id"])
            state = campaign["state"]
        except NotFound:
            state = states.shown(campaign["state"], False)
        if campaign["frequency"] in ("EVENT", "IN_APP_EVENT"):
            raise Conflict(f"Campaign {campaign_id} is event-based: its events start its messages, "
                           "it has no run to start now")
        if state not in RUNNABLE:
            raise Conflict(f"Campaign {campaign_id} is {state} and cannot run now: "
                           f"{_WHY_NOT.get(state, 'only a SCHEDULED or PENDING_NEXT_RUN campaign can')}")
        campaign_store.update(conn, campaign_id, next_run_at=now)
    return {"CampaignId": campaign_id, "ApplicationId": campaign["project_id"], "Run": campaign["runs"] + 1,
            "DueAt": _when(now)}


def set_paused(ctx: Context, caller: Caller, campaign_id: str, paused: bool) -> dict:
    """UpdateCampaign with {"IsPaused": paused} as the campaign's account: the campaign as it now is."""
    viewer, campaign = _view(ctx, caller, campaign_id)
    return campaign_service.update(ctx, viewer, campaign["project_id"], campaign_id, {"IsPaused": paused})
