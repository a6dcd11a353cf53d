"""What every `pinfold` command shares: the data-dir and --json options, the local operator, and
turning typed errors into a message and an exit code."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pinfold.config import SettingError, Settings
from pinfold.context import Context, NotReady
from pinfold.core import logs
from pinfold.core.access import Caller
from pinfold.core.errors import PinfoldError
from pinfold.tenancy import organization

EXIT_CODES = {"invalid_input": 2, "limit_exceeded": 3, "not_found": 4, "conflict": 5, "forbidden": 6}
DataDir = typer.Option(None, "--data-dir", envvar="PINFOLD_DATA_DIR", help="Data directory (default ./.pinfold)")
AsJson = typer.Option(False, "--json", help="Print JSON instead of a table")


def read_settings(**flags) -> Settings:
    """This command's settings (flags win over the environment), with logging configured from them;
    a refused value ends the command with its message and exit code 2."""
    try:
        settings = Settings.from_env(**flags)
    except SettingError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    logs.setup(settings)
    return settings


def open_context(settings: Settings, *, create: bool = False, migrate: bool = False) -> Context:
    """The context for a command: the data directory and database must have been initialised (by
    `pinfold admin bootstrap`) and be at the code's schema, unless told to create or migrate; else
    the command ends with what to run, exit code 1."""
    try:
        return Context.open(settings, create=create, migrate=migrate)
    except NotReady as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def operator(ctx: Context) -> Caller:
    """The local operator: whoever can run this command on the server's data acts as the organization."""
    return organization.local_operator(ctx)


def answered(action):
    """`action()`, with a typed error turned into its message and exit code, never a traceback."""
    try:
        return action()
    except PinfoldError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(EXIT_CODES.get(error.code, 1)) from None


def run(data_dir: Path | None, action, *, create: bool = False):
    """Run `action(ctx)` as `answered` does. Only `create` (the bootstrap) may initialise a new data
    directory or database."""
    ctx = open_context(read_settings(data_dir=data_dir), create=create, migrate=create)
    try:
        return answered(lambda: action(ctx))
    finally:
        ctx.close()


def print_result(value, as_json: bool, columns: tuple[str, ...] = ()) -> None:
    """Print `value` as JSON, or (given columns and not --json) as a table of those columns."""
    if as_json or not columns:
        typer.echo(json.dumps(value, indent=2, sort_keys=True))
        return
    rows = value if isinstance(value, list) else [value]
    widths = [max([len(c)] + [len(str(r.get(c) or "")) for r in rows]) for c in columns]
    typer.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        typer.echo("  ".join(str(row.get(c) or "").ljust(w) for c, w in zip(columns, widths, strict=True)))
