"""`pinfold webhooks ...` and `pinfold identities ...`: SES event webhooks and email identities."""

from __future__ import annotations

from pathlib import Path

import typer

from pinfold.cli.common import AsJson, DataDir, operator, print_result, run

webhooks_app = typer.Typer(help="HTTPS webhooks standing in for EventBridge buses (SES event destinations).",
                           no_args_is_help=True)
identities_app = typer.Typer(help="SES email identities: verification and DNS records.", no_args_is_help=True)

_WEBHOOK_COLUMNS = ("event_bus_arn", "url", "signed", "updated_at")


@webhooks_app.command("set")
def set_webhook(event_bus_arn: str, url: str,
                secret: str | None = typer.Option(None, envvar="PINFOLD_WEBHOOK_SECRET",
                                                  help="Signs each delivery; stored encrypted, never shown"),
                data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Deliver events for an EventBridge bus ARN to this URL (replaces an existing mapping)."""
    from pinfold.email import configuration_sets

    row = run(data_dir, lambda ctx: configuration_sets.set_webhook(ctx, operator(ctx), event_bus_arn, url, secret))
    print_result(row, as_json, _WEBHOOK_COLUMNS)


@webhooks_app.command("list")
def list_webhooks(data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """List the bus-to-webhook mappings (secrets are never shown)."""
    from pinfold.email import configuration_sets

    print_result(run(data_dir, lambda ctx: configuration_sets.list_webhooks(ctx, operator(ctx))), as_json,
                 _WEBHOOK_COLUMNS)


@webhooks_app.command("remove")
def remove_webhook(event_bus_arn: str, data_dir: Path | None = DataDir) -> None:
    """Remove a bus's webhook; destinations naming the bus deliver nothing until it is set again."""
    from pinfold.email import configuration_sets

    run(data_dir, lambda ctx: configuration_sets.remove_webhook(ctx, operator(ctx), event_bus_arn))
    typer.echo(f"removed {event_bus_arn}")


@identities_app.command("verify")
def verify_identity(identity: str, account: str = typer.Option(..., "--account", help="The identity's account"),
                    region: str | None = None,
                    dns: bool = typer.Option(False, "--dns", help="Check the domain's DKIM record instead of "
                                                                  "confirming it"),
                    data_dir: Path | None = DataDir) -> None:
    """Confirm an email address or domain as verified (or, with --dns, look its DKIM record up now)."""
    from pinfold.email import identities as email_identities

    def verify(ctx):
        action = email_identities.check_dns if dns else email_identities.confirm
        return action(ctx, operator(ctx), identity, account_id=account, region=region)

    result = run(data_dir, verify)
    typer.echo(f"{identity}: {result['VerificationStatus']}")
    if result["VerificationStatus"] != "SUCCESS":
        raise typer.Exit(1)


@identities_app.command("records")
def identity_records(identity: str, account: str = typer.Option(..., "--account"), region: str | None = None,
                     data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """The DNS records a domain identity needs (its DKIM public key as a TXT record)."""
    from pinfold.email import identities as email_identities

    rows = run(data_dir, lambda ctx: email_identities.admin_dns_records(
        ctx, operator(ctx), identity, account_id=account, region=region))
    print_result(rows, as_json, ("name", "type", "value"))
