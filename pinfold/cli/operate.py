"""`pinfold config ...` and `pinfold db ...`: what an operator checks before and after changing a
deployment: the settings in effect and where each came from, and where the database's schema stands."""

from __future__ import annotations

from pathlib import Path

import typer

from pinfold.cli.common import AsJson, DataDir, print_result, read_settings
from pinfold.config import mask_url_password, settings_table

config_app = typer.Typer(help="The settings in effect.", no_args_is_help=True)
db_app = typer.Typer(help="The database's schema: where it stands, and upgrading it.", no_args_is_help=True)


@config_app.command("show")
def show(as_json: bool = AsJson, data_dir: Path | None = DataDir) -> None:
    """Every setting's value in effect (secrets masked) and where it came from: a default, the
    PINFOLD_CONFIG file, .env, the environment, a *_FILE, or the command line."""
    print_result(read_settings(data_dir=data_dir).described(), as_json, ("setting", "value", "source"))


@config_app.command("table")
def table() -> None:
    """The README's table of settings, made from their declarations."""
    typer.echo(settings_table(), nl=False)


def _schema_report(data_dir: Path | None) -> tuple[dict, object]:
    """Where the database stands, without creating anything; and the open Database (or None)."""
    from pinfold.context import database_state

    settings = read_settings(data_dir=data_dir)
    report, db = database_state(settings)
    report["database"] = mask_url_password(settings.resolved_database_url)
    return report, db


@db_app.command("status")
def status(as_json: bool = AsJson, data_dir: Path | None = DataDir) -> None:
    """The schema the database is at, this Pinfold's newest, and the migrations between them. Exits 0
    when the database is at this Pinfold's schema, 1 otherwise."""
    report, db = _schema_report(data_dir)
    if db is not None:
        db.dispose()
    print_result(report, as_json, ("database", "state", "current", "head"))
    if not as_json:
        for migration in report["pending"]:
            typer.echo(f"  to apply: {migration}")
        if report["advice"]:
            typer.echo(report["advice"])
    if report["state"] != "current":
        raise typer.Exit(1)


@db_app.command("upgrade")
def upgrade(data_dir: Path | None = DataDir) -> None:
    """Apply the migrations this Pinfold has and the database lacks. A database that was never
    initialised is left alone (`pinfold admin bootstrap` sets one up); stop old servers first when a
    release note says a migration needs it."""
    report, db = _schema_report(data_dir)
    try:
        if report["state"] in ("missing", "uninitialised", "newer", "unreachable"):
            typer.echo(f"error: {report['advice']}", err=True)
            raise typer.Exit(1)
        if report["state"] == "current":
            typer.echo(f"The database is already at {report['head']}.")
            return
        db.migrate()
        typer.echo(f"Upgraded the database from {report['current']} to {report['head']} "
                   f"({len(report['pending'])} migration(s)).")
    finally:
        if db is not None:
            db.dispose()
