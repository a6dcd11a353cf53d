"""`pinfold admin ...`: create the organization and mint access keys, as JSON or an AWS profile."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pinfold import onboarding
from pinfold.cli.common import DataDir, operator, read_settings, run
from pinfold.tenancy import organization

admin_app = typer.Typer(help="Organization administration.", no_args_is_help=True)
keys_app = typer.Typer(help="Access keys.", no_args_is_help=True)
admin_app.add_typer(keys_app, name="keys")

AwsProfile = typer.Option(None, "--aws-profile", metavar="NAME",
                          help="Print the credentials as an ~/.aws/config profile NAME, with endpoint_url, not JSON")


def aws_profile(credentials: dict, name: str, endpoint_url: str) -> str:
    """An ~/.aws/config section that points every AWS client using profile `name` at this server."""
    return "\n".join((
        f"# Pinfold {credentials['scope']} credentials; append to ~/.aws/config (or point AWS_CONFIG_FILE here)",
        f"[profile {name}]",
        f"region = {credentials['region']}",
        f"endpoint_url = {endpoint_url}",
        f"aws_access_key_id = {credentials['aws_access_key_id']}",
        f"aws_secret_access_key = {credentials['aws_secret_access_key']}",
        "",
    ))


def _print_credentials(result: dict, profile: str | None, data_dir: Path | None) -> None:
    if profile is None:
        typer.echo(json.dumps(result, indent=2))
        return
    if not profile or any(c in profile for c in "[]\n\r"):
        typer.echo("error: --aws-profile needs a name without brackets or line breaks", err=True)
        raise typer.Exit(2)
    typer.echo(aws_profile(result, profile, read_settings(data_dir=data_dir).resolved_public_url), nl=False)


@admin_app.command("bootstrap")
def bootstrap(name: str = "Pinfold", if_needed: bool = typer.Option(False, "--if-needed"),
              aws_profile_name: str | None = AwsProfile, data_dir: Path | None = DataDir) -> None:
    """Initialise the data directory and database (schema, master key) if they are new, bring the
    schema up to date, create the organization, and print organization-administrator credentials as JSON."""
    result = run(data_dir, lambda ctx: organization.bootstrap(ctx, name=name, if_needed=if_needed), create=True)
    if result is None:
        typer.echo("The organization exists already; its administrator credentials were printed when it was "
                   "created. Mint more with `pinfold admin keys create --scope organization`.", err=True)
        return
    _print_credentials(result, aws_profile_name, data_dir)


@keys_app.command("create")
def create_key(scope: str = typer.Option("account", help="organization | account | project"),
               account: str | None = None, project: str | None = None, name: str = "operator",
               aws_profile_name: str | None = AwsProfile, data_dir: Path | None = DataDir) -> None:
    """Mint an access key and print it as JSON (the only time the secret is shown)."""
    result = run(data_dir, lambda ctx: onboarding.create_access_key(
        ctx, operator(ctx), scope=scope, account_id=account, project_id=project, name=name))
    _print_credentials(result, aws_profile_name, data_dir)
