"""`pinfold campaigns ...`: the operator's view of every project's campaigns, running one now with a
live progress bar, and pausing and resuming.

The commands act on the database as the organization's operator. `run` only makes the campaign due:
the scheduler of a running `pinfold serve` or `pinfold worker` starts the run. `run` watches it by
default when stdout is a terminal (`--watch/--no-watch` decide otherwise); the bar is drawn on
stderr, redrawn in place on a terminal and printed every few seconds elsewhere.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from pinfold.campaigns import operator as operator_service
from pinfold.campaigns import progress
from pinfold.cli.common import AsJson, DataDir, operator, print_result, run

campaigns_app = typer.Typer(help="Campaigns: list, show, run now with a progress bar, pause, resume.",
                            no_args_is_help=True)

_COLUMNS = ("id", "project", "tenant", "name", "state", "frequency", "runs", "next_run")
_ACTIVITY_COLUMNS = ("run", "treatment", "state", "endpoints", "successful", "queued", "sent", "delivered", "failed")
Campaign = typer.Argument(..., metavar="CAMPAIGN", help="A campaign id (from `pinfold campaigns list`)")
HINT_SECONDS = 10.0  # a due run not started after this long: no scheduler is running, probably
PLAIN_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal
NOT_RUNNING = ("PAUSED", "COMPLETED", "DELETED", "INVALID")  # a run not started by now never will


@campaigns_app.command("list")
def list_campaigns(project: str | None = typer.Option(None, "--project", help="Only this project's campaigns"),
                   tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's campaigns"),
                   limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="At most this many campaigns"),
                   next_token: str | None = typer.Option(None, "--next-token",
                                                         help="The token a previous listing printed"),
                   data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """List campaigns, oldest first; the next page's token, if any, is printed on stderr."""
    rows, token = run(data_dir, lambda ctx: operator_service.list_campaigns(
        ctx, operator(ctx), project_id=project, tenant_id=tenant, limit=limit, token=next_token))
    print_result(rows if as_json else [{**row, "runs": str(row["runs"])} for row in rows], as_json, _COLUMNS)
    if token:
        typer.echo(f"next token: {token}", err=True)


@campaigns_app.command("show")
def show_campaign(campaign: str = Campaign,
                  runs: int = typer.Option(3, "--runs", min=1, max=1000, help="Show this many latest runs"),
                  data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """A campaign's latest version, state and recent activities with their messages by outcome."""
    shown = run(data_dir, lambda ctx: operator_service.show(ctx, operator(ctx), campaign, runs=runs))
    if as_json:
        print_result(shown, True)
        return
    found = shown["Campaign"]
    schedule = found.get("Schedule") or {}
    lines = {"id": found["Id"], "project": found["ApplicationId"], "name": found.get("Name"),
             "state": found["State"]["CampaignStatus"], "version": found["Version"],
             "segment": f"{found['SegmentId']} (version {found['SegmentVersion']})",
             "schedule": " ".join(str(schedule[k]) for k in ("StartTime", "Frequency", "EndTime") if schedule.get(k)),
             "limits": ", ".join(f"{k} {v}" for k, v in sorted((found.get("Limits") or {}).items())),
             "treatments": ", ".join(_treatments(found)), "tenant": found["tags"].get("tenant"),
             "runs": shown["Runs"], "next run": shown["NextRun"]}
    for key, value in lines.items():
        if value not in (None, ""):
            typer.echo(f"{key}: {value}")
    if shown["Activities"]:
        typer.echo("")
        print_result([_activity_row(a) for a in shown["Activities"]], False, _ACTIVITY_COLUMNS)


def _treatments(found: dict) -> list[str]:
    named = [f"0 {found.get('TreatmentName') or 'default'}"]
    named += [f"{t['Id']} {t.get('TreatmentName') or ''} ({t['SizePercent']}%)".replace("  ", " ")
              for t in found.get("AdditionalTreatments") or []]
    if found.get("HoldoutPercent"):
        named.append(f"holdout {found['HoldoutPercent']}%")
    return named


def _activity_row(activity: dict) -> dict:
    state = activity["State"] + (f" ({activity['Result']})" if activity.get("Result") else "")
    return {"run": activity["Run"], "treatment": activity["TreatmentId"], "state": state,
            "endpoints": str(activity["TotalEndpointCount"]), "successful": str(activity["SuccessfulEndpointCount"]),
            **{outcome: str(activity["Messages"][outcome]) for outcome in progress.OUTCOMES}}


@campaigns_app.command("run")
def run_campaign(campaign: str = Campaign,
                 watch: bool | None = typer.Option(None, "--watch/--no-watch",
                                                   help="Follow the run with a progress bar until its messages "
                                                        "are out (default: when stdout is a terminal)"),
                 wait: float = typer.Option(60.0, "--wait", min=1.0,
                                            help="With --watch, give up after this many seconds if the run "
                                                 "has not started (no server or worker running)"),
                 data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Start a SCHEDULED or PENDING_NEXT_RUN campaign's next run now (a running `pinfold serve` or
    `pinfold worker` starts it within a second); with --watch, follow it until its messages are out."""
    watching = sys.stdout.isatty() if watch is None else watch

    def start(ctx):
        started = operator_service.run_now(ctx, operator(ctx), campaign)
        if not as_json:
            typer.echo(f"run {started['Run']} of campaign {campaign} is due now", err=True)
        return started, (_watch(ctx, campaign, started["Run"], wait) if watching else None)

    started, final = run(data_dir, start)
    _finish(started, final, as_json)


@campaigns_app.command("watch")
def watch_campaign(campaign: str = Campaign,
                   run_number: int | None = typer.Option(None, "--run", min=1, help="This run (default: the latest)"),
                   wait: float = typer.Option(60.0, "--wait", min=1.0,
                                              help="Give up after this many seconds if the run has not started"),
                   data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Follow a campaign's run (the latest by default) with a progress bar until its messages are out."""
    def follow(ctx):
        number = run_number or progress.run_progress(ctx, operator(ctx), campaign).run
        if number == 0:
            typer.echo(f"campaign {campaign} has not run yet (`pinfold campaigns run {campaign}` starts a run)",
                       err=True)
            raise typer.Exit(1)
        return _watch(ctx, campaign, number, wait)

    final = run(data_dir, follow)
    _finish(None, final, as_json)


def _finish(started: dict | None, final: progress.RunProgress | None, as_json: bool) -> None:
    if as_json:
        print_result({**(started or {}), **({"Progress": final.as_dict()} if final else {})}, True)
    elif final is None and started is not None:
        typer.echo(f"watch it with: pinfold campaigns watch {started['CampaignId']}")
    elif final is not None and not final.started:
        typer.echo(f"run {final.run} has not started")
    elif final is not None:
        totals = final.messages
        typer.echo(f"run {final.run}: " + ", ".join(f"{totals[o]} {o}" for o in progress.OUTCOMES))
    if final is not None and (not final.finished or any(a.result == "FAIL" for a in final.activities)):
        raise typer.Exit(1)


def _watch(ctx, campaign_id: str, run_number: int, wait: float) -> progress.RunProgress:
    """Redraw the run's progress until its activities have ended and its messages left the queue;
    return the last progress (unfinished when the run never started within `wait` seconds)."""
    caller = operator(ctx)
    bar = _Bar(sys.stderr)
    audience, meter = progress.Audience(campaign_id), progress.Meter()
    began, hinted = time.monotonic(), False
    try:
        while True:
            now = time.monotonic()
            current = progress.run_progress(ctx, caller, campaign_id, run_number)
            # Counting a large run's messages takes time: poll less often rather than load the database.
            pause = max(0.5, 4 * (time.monotonic() - now))
            meter.add(now, current.done)
            expected, exact = current.expected(audience.step(ctx, current))
            bar.draw(_line(current, expected, exact, meter), final=current.finished)
            if current.finished:
                return current
            if not current.started and current.campaign_state in NOT_RUNNING:
                bar.note(f"the campaign is {current.campaign_state}: the run will not start")
                return current
            if _stalled(current) and now - began >= min(HINT_SECONDS, wait):
                if not hinted:
                    bar.note("the run has not started: is `pinfold serve` or `pinfold worker` running "
                             "on this database? Its scheduler starts due runs.")
                    hinted = True
                if now - began >= wait:
                    bar.note(f"gave up after {wait:.0f} s; the run stays due")
                    return current
            time.sleep(pause)
    except KeyboardInterrupt:
        bar.note(f"stopped watching; the run goes on (pinfold campaigns watch {campaign_id})")
        raise typer.Exit(130) from None


def _stalled(current: progress.RunProgress) -> bool:
    """The run has not started (no activities yet, or all still PENDING though due)."""
    if not current.started:
        return True
    return all(a.state == "PENDING" and a.scheduled_at <= time.time() for a in current.activities)


def _line(current: progress.RunProgress, expected: int, exact: bool, meter: progress.Meter) -> str:
    totals = current.messages
    counts = "  ".join(f"{outcome} {totals[outcome]:,}" for outcome in progress.OUTCOMES)
    if not current.started:
        return f"run {current.run}: waiting for the scheduler to start it"
    done = current.done
    share = done / expected if expected else (1.0 if current.finished else 0.0)
    width = 24
    filled = min(width, int(share * width))
    total = f"{'' if exact else '~'}{expected:,}"
    planning = "  planning" if current.planning else ""
    left = meter.seconds_left(expected)
    eta = f"  {_duration(left)} left" if left is not None and not current.finished else ""
    return f"[{'#' * filled}{'-' * (width - filled)}] {share:4.0%}  {counts}  of {total}{planning}{eta}"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class _Bar:
    """One status line: redrawn in place on a terminal, else printed when it changed, every few seconds."""

    def __init__(self, stream) -> None:
        self.stream, self.live = stream, stream.isatty()
        self._last, self._printed_at, self._width = "", 0.0, 0

    def draw(self, text: str, *, final: bool = False) -> None:
        if self.live:
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
            if final:
                self.stream.write("\n")
                self._width = 0
            self.stream.flush()
            return
        now = time.monotonic()
        if text != self._last and (final or now - self._printed_at >= PLAIN_EVERY):
            self.stream.write(text + "\n")
            self.stream.flush()
            self._last, self._printed_at = text, now

    def note(self, text: str) -> None:
        if self.live and self._width:
            self.stream.write("\n")
            self._width = 0
        self.stream.write(text + "\n")
        self.stream.flush()


@campaigns_app.command("pause")
def pause_campaign(campaign: str = Campaign, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Pause a campaign (UpdateCampaign's IsPaused): no further run starts; a run in progress finishes."""
    _set_paused(campaign, True, data_dir, as_json)


@campaigns_app.command("resume")
def resume_campaign(campaign: str = Campaign, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Resume a paused campaign: its runs are planned again from now (missed recurring runs are skipped)."""
    _set_paused(campaign, False, data_dir, as_json)


def _set_paused(campaign: str, paused: bool, data_dir: Path | None, as_json: bool) -> None:
    found = run(data_dir, lambda ctx: operator_service.set_paused(ctx, operator(ctx), campaign, paused))
    if as_json:
        print_result(found, True)
        return
    typer.echo(f"campaign {found['Id']}: {found['State']['CampaignStatus']} (version {found['Version']})")
