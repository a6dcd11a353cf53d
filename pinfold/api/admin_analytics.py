"""The admin API's analytics routes: the named views, operator SQL and daily KPIs over the event lake.

Mount with `app.include_router(analytics_router(ctx, caller), prefix="/admin/v1")`, where `caller`
is the admin app's authenticating dependency. Handlers only shape requests: confinement (tenants see
their rows, only operators run SQL) is the analytics engine's, and its typed errors reach the admin
app's PinfoldError handler unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from pinfold.analytics.engine import DEFAULT_LIMIT, MAX_ROWS, list_views, open_for, viewer_for
from pinfold.analytics.kpis import daily_kpis, parse_since
from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput

_NOT_FILTERS = frozenset({"tenant_id", "limit"})
MAX_KPI_DAYS = 366  # one response lists at most this many days (a day is one row)


def check_since(since: str, now: datetime) -> None:
    """`since` must parse and reach back at most MAX_KPI_DAYS days; InvalidInput otherwise."""
    try:
        first = parse_since(since[:64], now)
    except (OverflowError, ValueError):
        raise InvalidInput(f"since {since[:64]!r} is out of range", field="since") from None
    if first < now - timedelta(days=MAX_KPI_DAYS):
        raise InvalidInput(f"since may reach back at most {MAX_KPI_DAYS} days; got {since[:64]!r}", field="since")


class SqlRequest(BaseModel):
    sql: str = Field(min_length=1)
    limit: int = Field(default=MAX_ROWS, ge=1, le=MAX_ROWS)


class View(BaseModel):
    name: str
    description: str


class Rows(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool


def analytics_router(ctx: Context, caller: Callable[..., Any]) -> APIRouter:
    router = APIRouter(tags=["analytics"])

    @router.get("/analytics/views", response_model=list[View])
    def views(who: Caller = Depends(caller)):
        return list_views()

    @router.post("/analytics/sql", response_model=Rows)
    def sql(body: SqlRequest, who: Caller = Depends(caller)):
        """Organization and account operators only; tenants read the named views."""
        with open_for(ctx, who) as lake:
            return lake.sql(body.sql, max_rows=body.limit)

    @router.get("/analytics/views/{name}", response_model=Rows)
    def view(name: str, request: Request, tenant_id: str | None = None,
             limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_ROWS), who: Caller = Depends(caller)):
        """Rows of one view; any other query parameter is a COLUMN=VALUE filter. `tenant_id`
        (organization administrators) shows exactly what that tenant sees."""
        filters = {key: value for key, value in request.query_params.items() if key not in _NOT_FILTERS}
        with open_for(ctx, viewer_for(ctx, who, tenant_id)) as lake:
            return lake.view(name, filters, limit)

    @router.get("/analytics/kpis")
    def kpis(tenant_id: str | None = None, project_id: str | None = None, since: str = "7d",
             who: Caller = Depends(caller)) -> dict:
        """Email and SMS counts and rates per day since `since` (7d, 24h, 2w or an ISO date, at most
        366 days back), with totals."""
        check_since(since, datetime.now(UTC))
        return daily_kpis(ctx, who, tenant_id=tenant_id, project_id=project_id, since=since)

    return router
