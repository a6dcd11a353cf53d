"""`pinfold custom ...`: what the operator hands the owner of a custom-channel webhook receiver."""

from __future__ import annotations

from pathlib import Path

import typer

from pinfold.cli.common import DataDir, run
from pinfold.custom import keys

custom_app = typer.Typer(help="Custom channels: the keys their webhook calls are signed with.", no_args_is_help=True)


@custom_app.command("signing-key")
def signing_key(project: str = typer.Argument(..., help="The project (application) id"),
                tenant: str | None = typer.Option(None, "--tenant", help="An sa-sp tenant of the project: its own key"),
                data_dir: Path | None = DataDir) -> None:
    """Print the key (hex) a receiver checks the X-Pinfold-Signature of the project's calls with. In an
    sa-sp project each tenant's campaigns are signed with the tenant's own key."""
    typer.echo(run(data_dir, lambda ctx: keys.for_receiver(ctx, project, tenant)))
