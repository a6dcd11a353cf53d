"""Campaigns: create, edit (each edit is a new version), read, page, delete, and their activities.

A campaign belongs to a project; in an sa-sp shared project it also belongs to the tenant that made
it (its `tenant_id` and `tenant` tag): other tenants never see it, and it may target only segments
and templates that tenant may use. The project's default Limits, QuietTime and CampaignHook are
copied in at creation (later changes to the defaults reach only later campaigns). Web URLs a version
introduces are HEAD-checked before the write transaction opens, so no slow peer holds it.
"""

from __future__ import annotations

import time

from pinfold.audience import segments as segment_service
from pinfold.campaigns import checks, references, responses
from pinfold.campaigns.rules import states
from pinfold.campaigns.rules import write as rules
from pinfold.campaigns.store import activities as activity_store
from pinfold.campaigns.store import campaigns as store
from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import TENANT_TAG, Caller, project_resource_owner
from pinfold.core.arns import campaign_arn
from pinfold.core.errors import LimitExceeded, NotFound
from pinfold.core.numbers import whole_number
from pinfold.core.paging import decode_token, encode_token, page_size
from pinfold.core.tags import check_tags
from pinfold.db.database import lock_keys
from pinfold.projects import projects as project_service
from pinfold.projects import store as tag_store

MAX_VERSIONS = 5_000  # per campaign, as for message templates


def require(conn, caller: Caller, project_id: str, campaign_id: str) -> tuple[dict, dict]:
    """The project and campaign if the caller may see them; NotFound otherwise (another tenant's
    campaign looks exactly like a missing one)."""
    project = project_service.require(conn, caller, project_id)
    campaign = store.get(conn, project_id, campaign_id)
    owner = project_resource_owner(caller)
    if campaign is None or (owner is not None and campaign["tenant_id"] != owner):
        raise NotFound(f"Resource not found: campaign {campaign_id[:64]}")
    return project, campaign


def _arn(project: dict, campaign_id: str) -> str:
    return campaign_arn(project["region"], project["account_id"], project["id"], campaign_id)


def _with_defaults(request: dict, settings: dict) -> dict:
    """The request with the project's default Limits under its own, and the project's QuietTime and
    CampaignHook where it gives none."""
    prepared = {**request, "Limits": {**(settings.get("Limits") or {}), **(request.get("Limits") or {})}}
    schedule = request.get("Schedule")
    if schedule and not schedule.get("QuietTime") and settings.get("QuietTime"):
        prepared["Schedule"] = {**schedule, "QuietTime": settings["QuietTime"]}
    if request.get("Hook") is None and settings.get("CampaignHook"):
        prepared["Hook"] = settings["CampaignHook"]
    return prepared


def _triggered(frequency: str) -> str | None:
    """The frequency whose per-project quota a campaign counts in, if any (EVENT, IN_APP_EVENT)."""
    return frequency if frequency in rules.TRIGGERED else None


def _head_check(project: dict, definition: dict, already: dict | None = None) -> None:
    """HEAD-check every web URL of `definition` that `already` (the previous version) did not have."""
    known = {url for _field, url in rules.web_urls(already or {})}
    for field, url in rules.web_urls(definition):
        if url not in known:
            checks.check_web_url(url, project["account_id"], field)


def create(ctx: Context, caller: Caller, project_id: str, request: dict) -> dict:
    now = time.time()
    with ctx.db.read() as conn:
        project = project_service.require(conn, caller, project_id)
    definition = rules.check_definition(_with_defaults(request, project["settings"] or {}), now=now)
    states.check_pausable(definition)
    tags = dict(request.get("tags") or {})
    owner = project_resource_owner(caller)
    if owner is not None:
        tags[TENANT_TAG] = owner  # the brief's tag, so reports can tell tenants apart
    check_tags(tags)
    _head_check(project, definition)
    state, next_run_at = states.initial(definition, now)
    stamp = ids.iso_now()
    row = {"id": ids.new_project_id(), "project_id": project_id, "tenant_id": owner, "version": 1,
           "segment_id": definition["SegmentId"], "frequency": definition["Schedule"]["Frequency"], "state": state,
           "runs": 0, "next_run_at": next_run_at, "created_at": stamp, "modified_at": stamp}
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        segment = references.check_references(conn, caller, project, definition)
        references.check_quotas(conn, project, becomes_active=state in states.ACTIVE,
                                new_event_campaign=_triggered(row["frequency"]))
        store.insert(conn, row, definition)
        tag_store.put_tags(conn, _arn(project, row["id"]), tags)
        version = store.get_version(conn, row["id"], 1)
    return responses.campaign(project, row, version, tags, state=state, segment_version=segment["version"])


def update(ctx: Context, caller: Caller, project_id: str, campaign_id: str, request: dict) -> dict:
    """UpdateCampaign: the members given replace the latest version's, the rest carry over, and the
    result is the next version. Tags are ignored, as AWS has ignored them on update since 2023."""
    now = time.time()
    with ctx.db.read() as conn:
        project, campaign = require(conn, caller, project_id, campaign_id)
        previous = store.get_version(conn, campaign_id, campaign["version"])["definition"]
    checked = rules.check_definition(request, now=now, previous=previous)
    states.check_pausable(checked)
    _head_check(project, checked, previous)
    with ctx.db.write() as conn:
        lock_keys(conn, "campaigns", [campaign_id])
        project, campaign = require(conn, caller, project_id, campaign_id)
        # Checked again over the version now latest: another edit may have landed meanwhile. URLs new
        # to this one were checked above; the rest were checked when their version was stored.
        previous = store.get_version(conn, campaign_id, campaign["version"])["definition"]
        definition = rules.check_definition(request, now=now, previous=previous)
        states.check_pausable(definition)
        if campaign["version"] >= MAX_VERSIONS:
            raise LimitExceeded(f"Campaign {campaign_id} has {MAX_VERSIONS} versions, the most it can have")
        segment = references.check_references(conn, caller, project, definition)
        runs = activity_store.of_campaign(conn, campaign_id, limit=1)
        state, next_run_at = states.after_update(
            campaign, previous, definition, now=now, running=activity_store.open_count(conn, campaign_id) > 0,
            origin=runs[0]["scheduled_at"] if runs else None)
        frequency = definition["Schedule"]["Frequency"]
        references.check_quotas(
            conn, project, becomes_active=state in states.ACTIVE and campaign["state"] not in states.ACTIVE,
            new_event_campaign=_triggered(frequency) if frequency != campaign["frequency"] else None)
        number, stamp = campaign["version"] + 1, ids.iso_now()
        store.add_version(conn, campaign_id, number, definition, stamp)
        store.update(conn, campaign_id, version=number, segment_id=definition["SegmentId"], frequency=frequency,
                     state=state, next_run_at=next_run_at, modified_at=stamp)
        version = store.get_version(conn, campaign_id, number)
        tags = tag_store.get_tags(conn, _arn(project, campaign_id))
    return responses.campaign(project, {**campaign, "version": number}, version, tags, state=state,
                              segment_version=segment["version"])


def _shown(conn, caller: Caller, project: dict, row: dict, version: dict, tags: dict[str, str]) -> dict:
    """A version as a response, with the state derived from whether its segment still exists."""
    try:
        _project, segment = segment_service.require(conn, caller, project["id"], version["definition"]["SegmentId"])
    except NotFound:
        segment = None
    return responses.campaign(project, row, version, tags, state=states.shown(row["state"], segment is not None),
                              segment_version=segment["version"] if segment else 1)


def get(ctx: Context, caller: Caller, project_id: str, campaign_id: str, version: int | None = None) -> dict:
    with ctx.db.read() as conn:
        project, campaign = require(conn, caller, project_id, campaign_id)
        found = store.get_version(conn, campaign_id, version if version is not None else campaign["version"])
        if found is None:
            raise NotFound(f"Resource not found: version {version} of campaign {campaign_id}")
        return _shown(conn, caller, project, campaign, found, tag_store.get_tags(conn, _arn(project, campaign_id)))


def list_page(ctx: Context, caller: Caller, project_id: str, raw_size: str | None, token: str | None) -> dict:
    size = page_size(raw_size)
    with ctx.db.read() as conn:
        project = project_service.require(conn, caller, project_id)
        rows = store.list_page(conn, project_id, tenant_id=project_resource_owner(caller), after=decode_token(token),
                               limit=size + 1)
        shown = rows[:size]
        arns = [_arn(project, row["id"]) for row in shown]
        tags = tag_store.get_tags_of(conn, arns)
        items = [_shown(conn, caller, project, row, store.get_version(conn, row["id"], row["version"]), tags[arn])
                 for row, arn in zip(shown, arns, strict=True)]
    page = {"Item": items}
    if len(rows) > size:
        page["NextToken"] = encode_token((shown[-1]["created_at"], shown[-1]["id"]))
    return page


def versions_page(ctx: Context, caller: Caller, project_id: str, campaign_id: str, raw_size: str | None,
                  token: str | None) -> dict:
    size = page_size(raw_size)
    after = whole_number(decode_token(token)[1], field="Token", low=0) if token else 0
    with ctx.db.read() as conn:
        project, campaign = require(conn, caller, project_id, campaign_id)
        rows = store.versions_page(conn, campaign_id, after=after, limit=size + 1)
        tags = tag_store.get_tags(conn, _arn(project, campaign_id))
        items = [_shown(conn, caller, project, campaign, row, tags) for row in rows[:size]]
    page = {"Item": items}
    if len(rows) > size:
        page["NextToken"] = encode_token((campaign_id, str(rows[size - 1]["version"])))
    return page


def activities_page(ctx: Context, caller: Caller, project_id: str, campaign_id: str, raw_size: str | None,
                    token: str | None) -> dict:
    """GetCampaignActivities: one activity per run per treatment, oldest run first."""
    size = page_size(raw_size)
    position = decode_token(token)
    after = (whole_number(position[0], field="Token", low=0), position[1]) if position else None
    with ctx.db.read() as conn:
        require(conn, caller, project_id, campaign_id)
        rows = activity_store.of_campaign(conn, campaign_id, after=after, limit=size + 1)
    page = {"Item": [responses.activity(row) for row in rows[:size]]}
    if len(rows) > size:
        last = rows[size - 1]
        page["NextToken"] = encode_token((str(last["run"]), last["treatment_id"]))
    return page


def delete(ctx: Context, caller: Caller, project_id: str, campaign_id: str) -> dict:
    """DeleteCampaign: returns the campaign as it was. Its open activities become CANCELLED, so no
    further message is planned; messages already queued are not recalled (they go out). The
    activities stay, as the record of what ran, until the project is deleted."""
    with ctx.db.write() as conn:
        lock_keys(conn, "campaigns", [campaign_id])
        project, campaign = require(conn, caller, project_id, campaign_id)
        arn = _arn(project, campaign_id)
        shown = _shown(conn, caller, project, campaign, store.get_version(conn, campaign_id, campaign["version"]),
                       tag_store.get_tags(conn, arn))
        activity_store.cancel_open(conn, campaign_id, time.time())
        _remove(conn, project, campaign_id)
    return shown


def _remove(conn, project: dict, campaign_id: str) -> None:
    store.delete_runs_data(conn, campaign_id)
    store.delete(conn, campaign_id)
    tag_store.delete_tags(conn, _arn(project, campaign_id))


def remove_project_campaigns(conn, project: dict) -> None:
    """Delete every campaign of a project with its versions, activities, counts, triggers and tags."""
    for campaign_id in store.project_campaign_ids(conn, project["id"]):
        _remove(conn, project, campaign_id)
    activity_store.delete_project(conn, project["id"])


def remove_tenant_campaigns(conn, project: dict, tenant_id: str) -> int:
    """Delete an offboarded sa-sp tenant's campaigns, with their activities, from the shared project."""
    removed = store.project_campaign_ids(conn, project["id"], tenant_id)
    for campaign_id in removed:
        activity_store.delete_campaign(conn, campaign_id)
        _remove(conn, project, campaign_id)
    return len(removed)


def date_range_kpi(ctx: Context, caller: Caller, project_id: str, campaign_id: str, kpi_name: str,
                   start: str | None, end: str | None, raw_size: str | None, token: str | None) -> dict:
    """GetCampaignDateRangeKpi: the campaign must be one the caller may see (analytics, below
    campaigns, only filters the lake by its id)."""
    from pinfold.analytics import campaign_kpis  # DuckDB and Arrow load only for a query that reads the lake

    with ctx.db.read() as conn:
        require(conn, caller, project_id, campaign_id)
    return campaign_kpis.campaign_date_range_kpi(ctx, caller, project_id, campaign_id, kpi_name, start, end,
                                                 raw_size, token)
