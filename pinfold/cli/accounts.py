"""`pinfold accounts ...`: the organization's accounts, their project caps and their email quotas."""

from __future__ import annotations

from pathlib import Path

import typer

from pinfold.cli.common import AsJson, DataDir, operator, print_result, run
from pinfold.tenancy import organization

accounts_app = typer.Typer(help="Accounts and their quotas.", no_args_is_help=True)

_QUOTA_COLUMNS = ("account_id", "region", "production_access", "max_24h", "max_rate", "sending_enabled")


@accounts_app.command("list")
def list_accounts(data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """List the organization's accounts with their project caps."""
    rows = run(data_dir, lambda ctx: organization.list_accounts(ctx, operator(ctx)))
    print_result(rows, as_json, ("id", "role", "status", "project_cap", "name"))


@accounts_app.command("set-project-cap")
def set_project_cap(account_id: str, cap: int, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Raise an account's projects-per-region cap (default 100)."""
    row = run(data_dir, lambda ctx: organization.set_project_cap(ctx, operator(ctx), account_id, cap))
    print_result(row, as_json, ("id", "role", "project_cap"))


@accounts_app.command("production")
def production(account_id: str, region: str | None = None,
               max_24h: int = typer.Option(50_000, "--max-24h", help="Messages per rolling 24 hours"),
               max_rate: float = typer.Option(14.0, "--max-rate", help="Messages per second"),
               sandbox: bool = typer.Option(False, "--sandbox", help="Revoke: back to the sandbox (200/day, 1/s)"),
               data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Grant an account production email access with these quotas (or --sandbox to revoke it)."""
    from pinfold.email import account as email_account

    row = run(data_dir, lambda ctx: email_account.set_production(
        ctx, operator(ctx), account_id, region, enabled=not sandbox, max_24h=max_24h, max_rate=max_rate))
    print_result(row, as_json, _QUOTA_COLUMNS)


@accounts_app.command("sms-production")
def sms_production(account_id: str, region: str | None = None,
                   max_spend: float = typer.Option(None, "--max-spend", min=0,
                                                   help="Most the account may spend on texts a month, in USD"),
                   max_pools: int = typer.Option(None, "--max-pools", min=1, help="Pools the account may have"),
                   max_configuration_sets: int = typer.Option(None, "--max-configuration-sets", min=1,
                                                              help="SMS configuration sets the account may have"),
                   max_phone_numbers: int = typer.Option(None, "--max-phone-numbers", min=1,
                                                         help="Phone numbers the account may have"),
                   sandbox: bool = typer.Option(False, "--sandbox", help="Back to the SMS sandbox ($1 a month, "
                                                                         "verified destinations only)"),
                   data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Take an account's SMS out of the sandbox (or --sandbox to put it back), with a monthly spend maximum
    and, for an account many tenants share (a pool and a configuration set each), higher quotas."""
    from pinfold.sms import account as sms_account

    quotas = {"POOLS": max_pools, "CONFIGURATION_SETS": max_configuration_sets, "PHONE_NUMBERS": max_phone_numbers}
    row = run(data_dir, lambda ctx: sms_account.set_sms_production(
        ctx, operator(ctx), account_id, sandbox=sandbox, max_spend=max_spend, region=region, quotas=quotas))
    print_result(row, as_json)


_REQUEST_COLUMNS = ("id", "account_id", "region", "max_24h", "max_rate", "status", "reason")


@accounts_app.command("request-quota")
def request_quota(account_id: str, region: str | None = None,
                  max_24h: int = typer.Option(..., "--max-24h", min=1, help="Messages per rolling 24 hours wanted"),
                  max_rate: float = typer.Option(..., "--max-rate", min=0.001, help="Messages per second wanted"),
                  reason: str = typer.Option(..., "--reason", help="Why: the use case, the volume, the list"),
                  data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Record a request for a higher email quota, for the operator to grant or refuse (`quota-requests`)."""
    from pinfold.email import quota_requests

    row = run(data_dir, lambda ctx: quota_requests.request(ctx, operator(ctx), account_id, max_24h=max_24h,
                                                           max_rate=max_rate, reason=reason, region=region))
    print_result(row, as_json, _REQUEST_COLUMNS)


@accounts_app.command("quota-requests")
def quota_requests_list(account_id: str | None = typer.Option(None, "--account", help="One account's"),
                        status: str | None = typer.Option(None, "--status", help="PENDING | GRANTED | REFUSED"),
                        data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """The quota requests and their decisions, newest first."""
    from pinfold.email import quota_requests

    rows = run(data_dir, lambda ctx: quota_requests.listed(ctx, operator(ctx), account_id=account_id, status=status))
    print_result(rows, as_json, _REQUEST_COLUMNS)


@accounts_app.command("decide-quota")
def decide_quota(request_id: str,
                 grant: bool = typer.Option(..., "--grant/--refuse", help="Grant the quotas asked for, or refuse"),
                 note: str | None = typer.Option(None, "--note", help="Why, kept with the decision"),
                 data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Grant (the account gets the quotas asked for) or refuse a pending quota request."""
    from pinfold.email import quota_requests

    row = run(data_dir, lambda ctx: quota_requests.decide(ctx, operator(ctx), request_id, grant=grant, note=note))
    print_result(row, as_json, _REQUEST_COLUMNS)
