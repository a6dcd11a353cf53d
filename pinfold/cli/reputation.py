"""`pinfold reputation show`: bounce and complaint rates (texts: failure and STOP-reply rates) per
account and tenant, with a small chart per day."""

from __future__ import annotations

from pathlib import Path

import typer

from pinfold.cli.common import AsJson, DataDir, operator, print_result, read_settings, run
from pinfold.reputation import report
from pinfold.reputation.rules import levels

reputation_app = typer.Typer(help="Sending reputation: bounce and complaint rates, levels and pauses.",
                             no_args_is_help=True)

_COLUMNS = ("scope", "key", "sends_7d", "day_metric", "day_rate", "day_level", "week_metric", "week_rate",
            "week_level")
_BARS = " ▁▂▃▄▅▆▇█"


@reputation_app.command("show")
def show(tenant: str | None = typer.Option(None, "--tenant", help="One registry tenant"),
         account: str | None = typer.Option(None, "--account", help="One account (in --region)"),
         region: str | None = typer.Option(None, "--region", help="The account's region (default: PINFOLD_REGION)"),
         days: int = typer.Option(14, "--days", min=1, max=report.MAX_DAYS, help="Days the chart covers"),
         sms: bool = typer.Option(False, "--sms", help="Texts' rates (failures, STOP replies) instead of email's"),
         data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Without options, every account, configuration set and tenant that sent this week; with --tenant or
    --account, that one's rates, levels, pause and policy, and a chart of its sends and rates per day."""
    if tenant is None and account is None:
        print_result(run(data_dir, lambda ctx: report.active(ctx, operator(ctx))), as_json, _COLUMNS)
        return
    if tenant is not None and account is not None:
        typer.echo("error: give --tenant or --account, not both", err=True)
        raise typer.Exit(2)
    prefix = "sms_" if sms else ""
    scope, key = (f"{prefix}tenant", tenant) if tenant is not None else (
        f"{prefix}account", f"{account}/{region or read_settings(data_dir=data_dir).region}")
    shown = run(data_dir, lambda ctx: report.show(ctx, operator(ctx), scope, key, days=days))
    if as_json:
        print_result(shown, True)
        return
    typer.echo(f"{scope} {key}: policy {shown['policy']}, sending {'PAUSED' if shown['sending_paused'] else 'on'}")
    first, second = shown["metrics"]
    typer.echo(f"{first:10} {shown['first_rate']:7.2%} of {shown['first_volume']} sends (24 h)  "
               f"level {shown['first_level']}")
    typer.echo(f"{second:10} {shown['second_rate']:7.3%} of {shown['second_volume']} sends (7 days)  "
               f"level {shown['second_level']}")
    if "sms_spend_this_month" in shown:
        limit = shown["sms_spend_limit"]
        typer.echo(f"SMS spend this month {shown['sms_spend_this_month']:.2f} USD"
                   + (f" of its {limit:.2f} USD limit" if limit is not None else ""))
    if shown["first_volume"] < shown["min_volume"]:
        typer.echo(f"(rates are judged from {shown['min_volume']} sends in a window)")
    typer.echo("")
    typer.echo(_chart(shown["days"], first))


def _chart(days: list[dict], metric: str) -> str:
    """One line per day: sends, a bar of the day's first rate (a full bar is its pause level), and both
    rates."""
    if not days:
        return "no sends in these days"
    full = levels.THRESHOLDS[metric][1]
    lines = [f"day         sends  {metric} rate (█ = {full:.0%})  second rate"]
    for day in days:
        sends = day["sends"] or 0
        first = day["bounces"] / sends if sends else 0.0
        second = day["complaints"] / sends if sends else 0.0
        bar = _BARS[min(len(_BARS) - 1, round(first / full * (len(_BARS) - 1)))]
        lines.append(f"{day['day']}  {sends:6d}  {bar} {first:7.2%}              {second:7.3%}")
    return "\n".join(lines)
