"""`pinfold ...`: the root command. Each group lives in its own module, imported only when that
group runs (or `--help` lists it), so `pinfold tenants list` never loads what `pinfold serve` or the
lake's queries need; this table lists them in the order `pinfold --help` shows them."""

from __future__ import annotations

import importlib
import sys

import typer
from typer.core import TyperGroup

# command -> (module under pinfold.cli, its Typer group or command function)
COMMANDS = {
    "report": ("analytics", "report"),
    "serve": ("server", "serve"),
    "worker": ("server", "worker"),
    "import": ("audience", "import_file"),
    "admin": ("admin", "admin_app"),
    "tenants": ("tenants", "tenants_app"),
    "accounts": ("accounts", "accounts_app"),
    "api": ("server", "api_app"),
    "segments": ("audience", "segments_app"),
    "campaigns": ("campaigns", "campaigns_app"),
    "analytics": ("analytics", "analytics_app"),
    "webhooks": ("ses", "webhooks_app"),
    "identities": ("ses", "identities_app"),
    "mailbox": ("mailbox", "mailbox_app"),
    "sms": ("sms", "sms_app"),
    "push": ("push", "push_app"),
    "custom": ("custom", "custom_app"),
    "reputation": ("reputation", "reputation_app"),
    "config": ("operate", "config_app"),
    "db": ("operate", "db_app"),
}


class _Commands(TyperGroup):
    """The root group, loading each command's module on first use."""

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        target = getattr(importlib.import_module(f"pinfold.cli.{module}"), attribute)
        if isinstance(target, typer.Typer):
            group = typer.main.get_group(target)
            group.name = cmd_name
            return group
        single = typer.Typer(add_completion=False)
        single.command(cmd_name)(target)
        return typer.main.get_command(single)


app = typer.Typer(cls=_Commands, help="Pinfold: multi-tenant customer engagement with Pinpoint-compatible APIs.",
                  no_args_is_help=True, invoke_without_command=True, pretty_exceptions_enable=False)


@app.callback()
def _root(context: typer.Context,
          version: bool = typer.Option(False, "--version", help="Print Pinfold's version and exit")) -> None:
    if version:
        from importlib.metadata import version as installed

        typer.echo(f"pinfold {installed('pinfold')}")
        raise typer.Exit()
    if context.invoked_subcommand is None:
        typer.echo(context.get_help())
        raise typer.Exit(2)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
