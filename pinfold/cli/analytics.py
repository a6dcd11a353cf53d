"""`pinfold analytics ...` and `pinfold report`: query the event lake and chart a tenant's KPIs and
its campaigns' figures.

Commands act as the local operator (the organization); `--tenant` narrows them to exactly what that
tenant's credentials would see, and then only the named views can be read, never free SQL.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from html import escape
from pathlib import Path

import typer

from pinfold.analytics import campaign_kpis, kpis, views
from pinfold.analytics.engine import DEFAULT_LIMIT, list_views, open_for, viewer_for
from pinfold.campaigns.store import campaigns as campaign_store
from pinfold.cli.common import AsJson, DataDir, operator, run
from pinfold.core.errors import Forbidden

analytics_app = typer.Typer(help="Query the event lake: named views and SQL.", no_args_is_help=True)

Tenant = typer.Option(None, "--tenant", help="See the lake as this tenant's credentials would (named views only)")
Limit = typer.Option(DEFAULT_LIMIT, "--limit", help="At most this many rows")


@analytics_app.command("views")
def show_views(as_json: bool = AsJson) -> None:
    """List the named views with what each holds."""
    rows = list_views()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    _table(rows, ("name", "description"))


@analytics_app.command("sql")
def run_sql(query: str = typer.Argument(..., help="SQL over the views; with --tenant, a view name"),
            tenant: str | None = Tenant, limit: int = Limit, data_dir: Path | None = DataDir,
            as_json: bool = AsJson) -> None:
    """Run SQL over the named views (all_events, email_send, kpi_daily, ...)."""
    def query_lake(ctx):
        viewer = viewer_for(ctx, operator(ctx), tenant)
        with open_for(ctx, viewer) as lake:
            if tenant is None:
                return lake.sql(query, max_rows=limit)
            if query.strip() not in views.NAMES:
                raise Forbidden("With --tenant only the named views can be read: give a view name "
                                "(see `pinfold analytics views`), or use `pinfold analytics view NAME --where ...`")
            return lake.view(query.strip(), limit=limit)

    _show(run(data_dir, query_lake), as_json)


@analytics_app.command("view")
def run_view(name: str = typer.Argument(..., help="A view name (see `pinfold analytics views`)"),
             where: list[str] = typer.Option([], "--where", help="COLUMN=VALUE (repeatable; all must hold)"),
             tenant: str | None = Tenant, limit: int = Limit, data_dir: Path | None = DataDir,
             as_json: bool = AsJson) -> None:
    """Rows of one named view, optionally filtered by column values."""
    filters = {}
    for item in where:
        column, sep, value = item.partition("=")
        if not sep or not column:
            typer.echo(f"error: --where takes COLUMN=VALUE, not {item!r}", err=True)
            raise typer.Exit(2)
        filters[column.strip()] = value

    def read_view(ctx):
        viewer = viewer_for(ctx, operator(ctx), tenant)
        with open_for(ctx, viewer) as lake:
            return lake.view(name, filters, limit)

    _show(run(data_dir, read_view), as_json)


def report(tenant_id: str = typer.Argument(..., help="The tenant to report on"),
           since: str = typer.Option("7d", help="How far back: 24h, 7d, 4w or an ISO date"),
           campaign: str | None = typer.Option(None, "--campaign", help="Only this campaign's figures"),
           out: Path | None = typer.Option(None, "--out", help="HTML file to write (default report-<tenant>.html)"),
           data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Print a tenant's email and SMS KPIs and its campaigns' figures, and write an HTML chart of
    them per day."""
    def read(ctx):
        admin = operator(ctx)
        found = kpis.daily_kpis(ctx, admin, tenant_id=tenant_id, since=since)
        rows = campaign_kpis.campaign_totals(ctx, admin, tenant_id=tenant_id, since=since, campaign_id=campaign)
        return {**found, "campaigns": _named(ctx, rows)}

    result = run(data_dir, read)
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
    else:
        typer.echo(f"Tenant {tenant_id}, {result['since']} to {result['until']} (UTC)")
        _table([{"kpi": label, "value": value} for label, value in _summary(result["totals"])], ("kpi", "value"))
        typer.echo("")
        if result["campaigns"]:
            _table(result["campaigns"], _CAMPAIGN_COLUMNS)
        else:
            typer.echo(f"No campaign {campaign} records in this period" if campaign else
                       "No campaign records in this period")
    path = out or Path(f"report-{tenant_id}.html")
    path.write_text(render_html(tenant_id, result), encoding="utf-8")
    typer.echo(f"Chart written to {path}", err=True)


_CAMPAIGN_COLUMNS = ("campaign_id", "name", *campaign_kpis.FIGURES)


def _named(ctx, rows: list[dict]) -> list[dict]:
    """The campaigns' rows with each one's Name (its latest version's), blank for one deleted since."""
    named = []
    with ctx.db.read() as conn:
        for row in rows:
            found = campaign_store.get_by_id(conn, row["campaign_id"])
            version = found and campaign_store.get_version(conn, found["id"], found["version"])
            named.append({"campaign_id": row["campaign_id"],
                          "name": (version["definition"].get("Name") or "") if version else "",
                          **{figure: row[figure] for figure in campaign_kpis.FIGURES}})
    return named


def _summary(totals: dict) -> list[tuple[str, str]]:
    def rate(name: str) -> str:
        return "-" if totals.get(name) is None else f"{totals[name]:.1%}"

    return [
        ("Emails sent", str(totals["sends"])), ("Emails delivered", str(totals["deliveries"])),
        ("Delivery rate", rate("delivery_rate")), ("Bounces", str(totals["bounces"])),
        ("Bounce rate", rate("bounce_rate")), ("Complaints", str(totals["complaints"])),
        ("Complaint rate", rate("complaint_rate")), ("Opens", str(totals["opens"])), ("Open rate", rate("open_rate")),
        ("Clicks", str(totals["clicks"])), ("Click rate", rate("click_rate")),
        ("Click-to-open rate", rate("click_to_open_rate")), ("SMS sent", str(totals["sms_sends"])),
        ("SMS delivered", str(totals["sms_successes"])), ("SMS success rate", rate("sms_success_rate")),
        ("SMS failures", str(totals["sms_failures"])), ("SMS opt-outs", str(totals["sms_optouts"])),
        ("SMS opt-out rate", rate("sms_optout_rate")), ("SMS price (USD)", f"{totals['sms_price_usd']:.4f}"),
    ]


def _show(result: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result["rows"], indent=2, default=str))
    else:
        _table(result["rows"], tuple(result["columns"]))
    if result["truncated"]:
        typer.echo(f"(only the first {len(result['rows'])} rows are shown; raise --limit for more)", err=True)


def _table(rows: list[dict], columns: tuple[str, ...]) -> None:
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max([len(column)] + [len(line[i]) for line in cells]) for i, column in enumerate(columns)]
    typer.echo("  ".join(column.upper().ljust(width) for column, width in zip(columns, widths, strict=True)))
    for line in cells:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (datetime, date)):
        text = value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- the HTML report ---------------------------------------------------------------------------

SERIES = (("sends", "Sends", "#4e79a7"), ("deliveries", "Deliveries", "#59a14f"),
          ("bounces", "Bounces", "#e15759"), ("complaints", "Complaints", "#f28e2b"))
_WIDTH, _HEIGHT, _LEFT, _RIGHT, _TOP, _BOTTOM = 760, 320, 56, 16, 16, 48


def render_html(tenant_id: str, result: dict) -> str:
    """A self-contained page (inline CSS and SVG, nothing fetched) with the chart and the KPI table."""
    rows = "".join(f"<tr><td>{escape(label)}</td><td>{escape(value)}</td></tr>"
                   for label, value in _summary(result["totals"]))
    title = f"Pinfold report: {escape(tenant_id)}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse}}
td{{padding:2px 12px;border-bottom:1px solid #ddd}} td+td{{text-align:right}}</style></head>
<body><h1>{title}</h1>
<p>Emails per day, {escape(result['since'])} to {escape(result['until'])} (UTC).</p>
{chart_svg(result['days'])}
<h2>Totals</h2><table>{rows}</table>
{_campaigns_html(result.get("campaigns") or [])}</body></html>
"""


def _campaigns_html(campaigns: list[dict]) -> str:
    if not campaigns:
        return ""
    head = "".join(f"<th>{escape(column)}</th>" for column in _CAMPAIGN_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(row[column]))}</td>" for column in _CAMPAIGN_COLUMNS)
                   + "</tr>" for row in campaigns)
    return f"<h2>Campaigns</h2><table><tr>{head}</tr>{body}</table>"


def chart_svg(days: list[dict]) -> str:
    """A line chart of sends, deliveries, bounces and complaints per day, as inline SVG."""
    top = max([1] + [day[key] for day in days for key, _label, _colour in SERIES])
    step = max(1, -(-top // 4))  # four gridlines, whole numbers
    ceiling = step * 4
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def x(i: int) -> float:
        return _LEFT + (plot_w / 2 if len(days) == 1 else plot_w * i / (len(days) - 1))

    def y(value: float) -> float:
        return _TOP + plot_h * (1 - value / ceiling)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT + 24}" '
             f'role="img" aria-label="Emails per day" font-size="11">']
    for n in range(5):
        level = y(step * n)
        parts.append(f'<line x1="{_LEFT}" y1="{level:.1f}" x2="{_WIDTH - _RIGHT}" y2="{level:.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{_LEFT - 6}" y="{level + 4:.1f}" text-anchor="end">{step * n}</text>')
    every = max(1, -(-len(days) // 10))  # at most ten date labels
    for i, day in enumerate(days):
        if i % every == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{_HEIGHT - _BOTTOM + 16}" text-anchor="middle">'
                         f'{escape(day["day"][5:])}</text>')
    for key, label, colour in SERIES:
        points = " ".join(f"{x(i):.1f},{y(day[key]):.1f}" for i, day in enumerate(days))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts.extend(f'<circle cx="{x(i):.1f}" cy="{y(day[key]):.1f}" r="3" fill="{colour}">'
                     f'<title>{escape(day["day"])}: {day[key]} {label.lower()}</title></circle>'
                     for i, day in enumerate(days))
    for n, (_key, label, colour) in enumerate(SERIES):
        left = _LEFT + n * 120
        parts.append(f'<rect x="{left}" y="{_HEIGHT - 8}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{left + 18}" y="{_HEIGHT + 2}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)

