"""`pinfold push ...`: read what the built-in push simulator was given. It reads the files under
`<data dir>/push` only, never the database, so it works while the server runs or is stopped."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

from pinfold.cli.common import AsJson, DataDir, answered, print_result, read_settings
from pinfold.core import dayfiles
from pinfold.push.adapters import simulator

push_app = typer.Typer(help="The push simulator: the pushes it was given.", no_args_is_help=True)

_COLUMNS = ("id", "time", "platform", "token", "outcome")
_SHOWN = ("message_id", "time", "platform", "token", "outcome", "remote_id")


@push_app.command("list")
def list_pushes(token: str | None = typer.Option(None, "--token", help="Only pushes to this device token"),
                limit: int = typer.Option(dayfiles.DEFAULT_LIMIT, "--limit", min=1, max=dayfiles.MAX_LIMIT,
                                          help="At most this many pushes"),
                next_token: str | None = typer.Option(None, "--next-token", help="The token a previous page printed"),
                data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """List kept pushes, newest first; the next page's token, if any, is printed on stderr."""
    directory = read_settings(data_dir=data_dir).data_dir / "push"
    pushes, token_out = answered(lambda: simulator.list_pushes(directory, token=token, limit=limit,
                                                               next_token=next_token))
    print_result(pushes, as_json, _COLUMNS)
    if token_out:
        typer.echo(f"next token: {token_out}", err=True)


@push_app.command("show")
def show_push(message: str = typer.Argument(..., metavar="ID", help="An id from `pinfold push list`"),
              data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Print one kept push: where it went, its headers and its payload."""
    push = answered(lambda: simulator.read_push(read_settings(data_dir=data_dir).data_dir / "push", message))
    if as_json:
        print_result(push, True)
        return
    for key in _SHOWN:
        typer.echo(f"{key}: {push.get(key)}")
    for name, value in sorted((push.get("headers") or {}).items()):
        typer.echo(f"{name}: {value}")
    typer.echo("")
    typer.echo(orjson.dumps(push.get("payload"), option=orjson.OPT_INDENT_2).decode())
