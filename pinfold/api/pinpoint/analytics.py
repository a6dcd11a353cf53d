"""Pinpoint application and campaign metrics: a project's or a campaign's KPIs over a date range."""

from __future__ import annotations

from pinfold.analytics import kpis
from pinfold.campaigns import campaigns


def _application_kpi(ctx, caller, p):
    return {"ApplicationDateRangeKpiResponse": kpis.application_date_range_kpi(
        ctx, caller, p["ApplicationId"], p["KpiName"], p.get("StartTime"), p.get("EndTime"), p.get("PageSize"),
        p.get("NextToken"))}


def _campaign_kpi(ctx, caller, p):
    return {"CampaignDateRangeKpiResponse": campaigns.date_range_kpi(
        ctx, caller, p["ApplicationId"], p["CampaignId"], p["KpiName"], p.get("StartTime"), p.get("EndTime"),
        p.get("PageSize"), p.get("NextToken"))}


LONG_OPERATIONS = frozenset({"GetApplicationDateRangeKpi", "GetCampaignDateRangeKpi"})

HANDLERS = {"GetApplicationDateRangeKpi": _application_kpi, "GetCampaignDateRangeKpi": _campaign_kpi}
