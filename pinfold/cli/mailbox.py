"""`pinfold mailbox ...`: read what the mailbox simulator received. It reads the files under
`<data dir>/mailbox` only, never the database, so it works while the server runs or is stopped."""

from __future__ import annotations

from pathlib import Path

import typer

from pinfold.cli.common import AsJson, DataDir, answered, print_result, read_settings
from pinfold.email import mailbox_reader

mailbox_app = typer.Typer(help="The mailbox simulator: the mail it received.", no_args_is_help=True)

_COLUMNS = ("id", "received", "from", "to", "subject")


@mailbox_app.command("list")
def list_mail(to: str | None = typer.Option(None, "--to", help="Only mail to this envelope recipient (any case)"),
              message_id: str | None = typer.Option(None, "--message-id", help="Only the message with this id"),
              limit: int = typer.Option(mailbox_reader.DEFAULT_LIMIT, "--limit", min=1, max=mailbox_reader.MAX_LIMIT,
                                        help="At most this many messages"),
              next_token: str | None = typer.Option(None, "--next-token", help="The token a previous page printed"),
              data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """List received mail, newest first; the next page's token, if any, is printed on stderr."""
    directory = _directory(data_dir)
    messages, token = answered(lambda: mailbox_reader.list_messages(
        directory, to=to, message_id=message_id, limit=limit, next_token=next_token))
    rows = messages if as_json else [{**m, "to": ", ".join(m["to"])} for m in messages]
    print_result(rows, as_json, _COLUMNS)
    if token:
        typer.echo(f"next token: {token}", err=True)


@mailbox_app.command("show")
def show_mail(message: str = typer.Argument(..., metavar="ID", help="A message id from `pinfold mailbox list`"),
              raw: bool = typer.Option(False, "--raw", help="Print the message exactly as stored"),
              data_dir: Path | None = DataDir) -> None:
    """Print a message's main headers and its text (or its HTML as text), or with --raw the stored bytes."""
    directory = _directory(data_dir)
    content = answered(lambda: mailbox_reader.read(directory, message))
    if raw:
        typer.echo(content, nl=False)
        return
    headers, body = mailbox_reader.readable(content)
    for name, value in headers:
        typer.echo(f"{name}: {value}")
    typer.echo("")
    typer.echo(body.rstrip("\n"))


def _directory(data_dir: Path | None) -> Path:
    return read_settings(data_dir=data_dir).data_dir / "mailbox"
