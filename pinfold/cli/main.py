"""`pinfold ...`: the root command. Each group lives in its own module; this one lists them, in the
order `pinfold --help` shows them."""

from __future__ import annotations

import sys

import typer

from pinfold.cli import accounts, admin, audience, server, ses, tenants
from pinfold.cli.analytics import analytics_app, report

app = typer.Typer(help="Pinfold: multi-tenant customer engagement with Pinpoint-compatible APIs.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.command("report")(report)
app.command()(server.serve)
app.command()(server.worker)
app.command("import")(audience.import_file)
app.add_typer(admin.admin_app, name="admin")
app.add_typer(tenants.tenants_app, name="tenants")
app.add_typer(accounts.accounts_app, name="accounts")
app.add_typer(server.api_app, name="api")
app.add_typer(audience.segments_app, name="segments")
app.add_typer(analytics_app, name="analytics")
app.add_typer(ses.webhooks_app, name="webhooks")
app.add_typer(ses.identities_app, name="identities")


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
