"""`pinfold sms ...`: read what the built-in carrier simulator was given. It reads the files under
`<data dir>/sms` only, never the database, so it works while the server runs or is stopped."""

from __future__ import annotations

from pathlib import Path

import typer

from pinfold.cli.common import AsJson, DataDir, answered, print_result, read_settings, run
from pinfold.core import dayfiles
from pinfold.sms.adapters import simulator

sms_app = typer.Typer(help="The carrier simulator: the text messages it was given.", no_args_is_help=True)

_COLUMNS = ("id", "time", "destination", "origination", "outcome", "parts", "body")
_SHOWN = ("message_id", "time", "destination", "origination", "outcome", "message_type", "country", "encoding")


@sms_app.command("list")
def list_texts(destination: str | None = typer.Option(None, "--destination", help="Only texts to this E.164 number"),
               limit: int = typer.Option(dayfiles.DEFAULT_LIMIT, "--limit", min=1, max=dayfiles.MAX_LIMIT,
                                         help="At most this many texts"),
               next_token: str | None = typer.Option(None, "--next-token", help="The token a previous page printed"),
               data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """List kept texts, newest first; the next page's token, if any, is printed on stderr."""
    directory = _directory(data_dir)
    texts, token = answered(lambda: simulator.list_texts(directory, destination=destination, limit=limit,
                                                        next_token=next_token))
    rows = texts if as_json else [{**text, "parts": len(text.get("parts") or []),
                                   "body": _short(text.get("body") or "")} for text in texts]
    print_result(rows, as_json, _COLUMNS)
    if token:
        typer.echo(f"next token: {token}", err=True)


@sms_app.command("show")
def show_text(message: str = typer.Argument(..., metavar="ID", help="An id from `pinfold sms list`"),
              data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Print one kept text: who sent it to whom, how it was carried, and its body."""
    text = answered(lambda: simulator.read_text(_directory(data_dir), message))
    if as_json:
        print_result(text, True)
        return
    for key in _SHOWN:
        typer.echo(f"{key}: {text.get(key)}")
    typer.echo(f"parts: {len(text.get('parts') or [])}")
    typer.echo("")
    typer.echo(text.get("body") or "")


def _directory(data_dir: Path | None) -> Path:
    return read_settings(data_dir=data_dir).data_dir / "sms"


def _short(body: str, width: int = 40) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


@sms_app.command("gateway-config")
def gateway_config(data_dir: Path | None = DataDir) -> None:
    """The Kannel `sms-service` group that hands messages from handsets to Pinfold (STOP, HELP,
    keywords): paste it into kannel.conf. Its URL carries a key only this installation makes."""
    from pinfold.sms import reports

    url = run(data_dir, reports.inbound_url)
    typer.echo("group = sms-service\nkeyword = default\n"
               f'get-url = "{url}"\nmax-messages = 0\n', nl=False)
