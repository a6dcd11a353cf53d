"""Pinpoint application and campaign metrics: a project's or a campaign's KPIs over a date range.

Analytics sits below campaigns and filters by a campaign id it knows nothing else about, so the
check that the caller may see the campaign (it exists in the project, and an sa-sp tenant's key
sees only its own tenant's) is made here, before the lake is read.
"""

from __future__ import annotations

from pinfold.analytics import campaign_kpis, kpis
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.core.access import project_resource_owner
from pinfold.core.errors import NotFound
from pinfold.projects import projects as project_service


def _application_kpi(ctx, caller, p):
    return {"ApplicationDateRangeKpiResponse": kpis.application_date_range_kpi(
        ctx, caller, p["ApplicationId"], p["KpiName"], p.get("StartTime"), p.get("EndTime"), p.get("PageSize"),
        p.get("NextToken"))}


def _campaign_kpi(ctx, caller, p):
    project_id, campaign_id = p["ApplicationId"], p["CampaignId"]
    with ctx.db.read() as conn:
        project_service.require(conn, caller, project_id)
        campaign = campaign_store.get(conn, project_id, campaign_id)
    owner = project_resource_owner(caller)
    if campaign is None or (owner is not None and campaign["tenant_id"] != owner):
        raise NotFound(f"Resource not found: campaign {campaign_id}")
    return {"CampaignDateRangeKpiResponse": campaign_kpis.campaign_date_range_kpi(
        ctx, caller, project_id, campaign_id, p["KpiName"], p.get("StartTime"), p.get("EndTime"),
        p.get("PageSize"), p.get("NextToken"))}


LONG_OPERATIONS = frozenset({"GetApplicationDateRangeKpi", "GetCampaignDateRangeKpi"})

HANDLERS = {"GetApplicationDateRangeKpi": _application_kpi, "GetCampaignDateRangeKpi": _campaign_kpi}
