"""Pinpoint application metrics: a project's KPIs over a date range."""

from __future__ import annotations

from pinfold.analytics import kpis


def _application_kpi(ctx, caller, p):
    return {"ApplicationDateRangeKpiResponse": kpis.application_date_range_kpi(
        ctx, caller, p["ApplicationId"], p["KpiName"], p.get("StartTime"), p.get("EndTime"), p.get("PageSize"),
        p.get("NextToken"))}


LONG_OPERATIONS = frozenset({"GetApplicationDateRangeKpi"})

HANDLERS = {"GetApplicationDateRangeKpi": _application_kpi}
