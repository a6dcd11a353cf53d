"""`pinfold reputation show`: bounce and complaint rates per account and tenant, with a small chart per
day."""

from __future__ import annotations

from pathlib import Path

import typer

from pinfold.cli.common import AsJson, DataDir, operator, print_result, read_settings, run
from pinfold.reputation import report

reputation_app = typer.Typer(help="Sending reputation: bounce and complaint rates, levels and pauses.",
                             no_args_is_help=True)

_COLUMNS = ("scope", "key", "sends_7d", "bounce_rate", "bounce_level", "complaint_rate", "complaint_level")
_BARS = " ▁▂▃▄▅▆▇█"


@reputation_app.command("show")
def show(tenant: str | None = typer.Option(None, "--tenant", help="One registry tenant"),
         account: str | None = typer.Option(None, "--account", help="One account (in --region)"),
         region: str | None = typer.Option(None, "--region", help="The account's region (default: PINFOLD_REGION)"),
         days: int = typer.Option(14, "--days", min=1, max=report.MAX_DAYS, help="Days the chart covers"),
         data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Without options, every account, configuration set and tenant that sent this week; with --tenant or
    --account, that one's rates, levels, pause and policy, and a chart of its sends and rates per day."""
    if tenant is None and account is None:
        print_result(run(data_dir, lambda ctx: report.active(ctx, operator(ctx))), as_json, _COLUMNS)
        return
    if tenant is not None and account is not None:
        typer.echo("error: give --tenant or --account, not both", err=True)
        raise typer.Exit(2)
    scope, key = ("tenant", tenant) if tenant is not None else (
        "account", f"{account}/{region or read_settings(data_dir=data_dir).region}")
    shown = run(data_dir, lambda ctx: report.show(ctx, operator(ctx), scope, key, days=days))
    if as_json:
        print_result(shown, True)
        return
    typer.echo(f"{scope} {key}: policy {shown['policy']}, sending {'PAUSED' if shown['sending_paused'] else 'on'}")
    typer.echo(f"bounces    {shown['bounce_rate']:7.2%} of {shown['bounce_volume']} sends (24 h)  "
               f"level {shown['bounce_level']}")
    typer.echo(f"complaints {shown['complaint_rate']:7.3%} of {shown['complaint_volume']} sends (7 days)  "
               f"level {shown['complaint_level']}")
    if shown["bounce_volume"] < shown["min_volume"]:
        typer.echo(f"(rates are judged from {shown['min_volume']} sends in a window)")
    typer.echo("")
    typer.echo(_chart(shown["days"]))


def _chart(days: list[dict]) -> str:
    """One line per day: sends, a bar of the bounce rate (a full bar is 10%, the pause level), and the
    rates."""
    if not days:
        return "no sends in these days"
    lines = ["day         sends  bounce rate (█ = 10%)  complaints"]
    for day in days:
        sends = day["sends"] or 0
        bounce = day["bounces"] / sends if sends else 0.0
        complaint = day["complaints"] / sends if sends else 0.0
        bar = _BARS[min(len(_BARS) - 1, round(bounce / 0.10 * (len(_BARS) - 1)))]
        lines.append(f"{day['day']}  {sends:6d}  {bar} {bounce:7.2%}             {complaint:7.3%}")
    return "\n".join(lines)
