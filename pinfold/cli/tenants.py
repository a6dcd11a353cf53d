"""`pinfold tenants ...`: onboard, list, show, suspend, resume and offboard tenants in the registry."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pinfold import onboarding as tenants
from pinfold.cli.common import AsJson, DataDir, operator, print_result, run
from pinfold.reputation import pauses

tenants_app = typer.Typer(help="The tenant registry.", no_args_is_help=True)

_TENANT_COLUMNS = ("tenant_id", "model", "status", "account_id", "project_id", "attribute_value")


@tenants_app.command("onboard")
def onboard(tenant_id: str, model: str = typer.Option(..., help="sa-sp | sa-mp | ma-mp"),
            name: str | None = None, region: str | None = None,
            attribute_key: str | None = typer.Option(None, help="sa-sp: the endpoint attribute (TenantId)"),
            attribute_value: str | None = typer.Option(None, help="sa-sp: its value (the tenant id)"),
            metadata: str = typer.Option("{}", help="JSON object kept with the tenant"),
            sms_pool: bool = typer.Option(False, "--sms-pool", help="give the tenant its own SMS pool and "
                                          "configuration set (sa-sp, sa-mp: in the shared account)"),
            sms_country: str = typer.Option("US", help="--sms-pool: the new number's country"),
            sms_number_type: str = typer.Option("SIMULATOR", help="--sms-pool: SIMULATOR | LONG_CODE | "
                                                "TOLL_FREE | TEN_DLC"),
            sms_message_type: str = typer.Option("TRANSACTIONAL", help="--sms-pool: TRANSACTIONAL | PROMOTIONAL"),
            sms_number: str | None = typer.Option(None, help="--sms-pool: an existing number of the shared "
                                                  "account (id, E.164 or ARN) instead of a new one"),
            app_id: str | None = typer.Option(None, help="the tenant's mobile app (bundle id or package name); "
                                              "in sa-sp it must be the shared project's"),
            own_push_credentials: bool = typer.Option(False, "--own-push-credentials",
                                                      help="the tenant brings its own push credentials (refused "
                                                           "in sa-sp)"),
            data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Place a tenant as its model dictates; print the placement and tenant credentials as JSON."""
    try:
        extra = json.loads(metadata)
    except json.JSONDecodeError:
        typer.echo("error: --metadata must be a JSON object", err=True)
        raise typer.Exit(2) from None
    result = run(data_dir, lambda ctx: tenants.onboard(
        ctx, operator(ctx), tenant_id=tenant_id, model=model, name=name, region=region,
        attribute_key=attribute_key, attribute_value=attribute_value, metadata=extra, sms_pool=sms_pool,
        sms_country=sms_country, sms_number_type=sms_number_type, sms_message_type=sms_message_type,
        sms_number=sms_number, app_id=app_id, own_push_credentials=own_push_credentials))
    print_result(result, True)


@tenants_app.command("list")
def list_tenants(status: str | None = None, model: str | None = None,
                 data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """List tenants in the registry."""
    rows = run(data_dir, lambda ctx: tenants.list_all(ctx, operator(ctx), status=status, model=model))
    print_result(rows, as_json, _TENANT_COLUMNS)


@tenants_app.command("show")
def show(tenant_id: str, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Show one tenant's registry entry."""
    print_result(run(data_dir, lambda ctx: tenants.show(ctx, operator(ctx), tenant_id)), True)


@tenants_app.command("suspend")
def suspend(tenant_id: str, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Refuse the tenant's credentials until it is resumed; its data stays."""
    row = run(data_dir, lambda ctx: tenants.set_status(ctx, operator(ctx), tenant_id, "suspended"))
    print_result(row, as_json, _TENANT_COLUMNS)


@tenants_app.command("resume")
def resume(tenant_id: str, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Accept a suspended tenant's credentials again."""
    row = run(data_dir, lambda ctx: tenants.set_status(ctx, operator(ctx), tenant_id, "active"))
    print_result(row, as_json, _TENANT_COLUMNS)


@tenants_app.command("offboard")
def offboard(tenant_id: str, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Remove the tenant's data as its model dictates and revoke its keys."""
    print_result(run(data_dir, lambda ctx: tenants.offboard(ctx, operator(ctx), tenant_id)), True)


@tenants_app.command("resume-sending")
def resume_sending(tenant_id: str, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Let a tenant whose sending reputation paused it send again (the pause and this are recorded)."""
    print_result(run(data_dir, lambda ctx: pauses.resume_tenant(ctx, operator(ctx), tenant_id)), True)


@tenants_app.command("set-reputation-policy")
def set_reputation_policy(tenant_id: str,
                          policy: str = typer.Argument(..., help="STANDARD (pause at a high-severity finding), "
                                                                 "STRICT (at any finding) or NONE (never)"),
                          data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Choose when the tenant's own bounce and complaint rates pause its sending."""
    print_result(run(data_dir, lambda ctx: pauses.set_policy(ctx, operator(ctx), tenant_id, policy)), True)


@tenants_app.command("set-quota")
def set_quota(tenant_id: str,
              daily: int | None = typer.Option(None, "--daily", min=1, help="messages in any 24 hours"),
              rate: float | None = typer.Option(None, "--rate", min=0.001, help="messages per second"),
              sms_spend: float | None = typer.Option(None, "--sms-spend", min=0,
                                                     help="US dollars of texts a calendar month"),
              clear: bool = typer.Option(False, "--clear", help="remove the tenant's own caps"),
              data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Give a tenant its own share of its shared account's quotas (email per day and second, SMS spend a
    month); at its cap it is refused alone."""
    print_result(run(data_dir, lambda ctx: tenants.set_quota(ctx, operator(ctx), tenant_id, daily=daily, rate=rate,
                                                             sms_spend=sms_spend, clear=clear)), True)
