"""`pinfold ...`: the root command. Each group lives in its own module; this one lists them, in the
order `pinfold --help` shows them."""

from __future__ import annotations

import sys

import typer

from pinfold.cli import accounts, admin, audience, campaigns, mailbox, operate, server, ses, sms, tenants
from pinfold.cli.analytics import analytics_app, report

app = typer.Typer(help="Pinfold: multi-tenant customer engagement with Pinpoint-compatible APIs.",
                  no_args_is_help=True, invoke_without_command=True, pretty_exceptions_enable=False)
app.command("report")(report)
app.command()(server.serve)
app.command()(server.worker)
app.command("import")(audience.import_file)
app.add_typer(admin.admin_app, name="admin")
app.add_typer(tenants.tenants_app, name="tenants")
app.add_typer(accounts.accounts_app, name="accounts")
app.add_typer(server.api_app, name="api")
app.add_typer(audience.segments_app, name="segments")
app.add_typer(campaigns.campaigns_app, name="campaigns")
app.add_typer(analytics_app, name="analytics")
app.add_typer(ses.webhooks_app, name="webhooks")
app.add_typer(ses.identities_app, name="identities")
app.add_typer(mailbox.mailbox_app, name="mailbox")
app.add_typer(sms.sms_app, name="sms")
app.add_typer(operate.config_app, name="config")
app.add_typer(operate.db_app, name="db")


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
