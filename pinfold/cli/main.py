"""`pinfold ...`: the server, the operator's registry commands, and API coverage."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from pinfold import onboarding as tenants
from pinfold.audience import segments as segment_service
from pinfold.cli.analytics import analytics_app, report
from pinfold.config import Settings
from pinfold.context import Context
from pinfold.core import runtime
from pinfold.core.access import Caller
from pinfold.core.errors import PinfoldError
from pinfold.tenancy import organization

app = typer.Typer(help="Pinfold: multi-tenant customer engagement with Pinpoint-compatible APIs.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
admin_app = typer.Typer(help="Organization administration.", no_args_is_help=True)
keys_app = typer.Typer(help="Access keys.", no_args_is_help=True)
tenants_app = typer.Typer(help="The tenant registry.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts and their quotas.", no_args_is_help=True)
api_app = typer.Typer(help="The AWS APIs Pinfold speaks.", no_args_is_help=True)
segments_app = typer.Typer(help="Who is in a segment.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
admin_app.add_typer(keys_app, name="keys")
app.add_typer(tenants_app, name="tenants")
app.add_typer(accounts_app, name="accounts")
app.add_typer(api_app, name="api")
app.add_typer(segments_app, name="segments")
app.add_typer(analytics_app, name="analytics")
app.command("report")(report)

EXIT_CODES = {"invalid_input": 2, "limit_exceeded": 3, "not_found": 4, "conflict": 5, "forbidden": 6}
DataDir = typer.Option(None, "--data-dir", envvar="PINFOLD_DATA_DIR", help="Data directory (default ./.pinfold)")
AsJson = typer.Option(False, "--json", help="Print JSON instead of a table")


def _context(data_dir: Path | None) -> Context:
    return Context.open(Settings.from_env(data_dir=data_dir))


def _operator(ctx: Context) -> Caller:
    """The local operator: whoever can run this command on the server's data acts as the organization."""
    return organization.local_operator(ctx)


def _run(data_dir: Path | None, action):
    """Run `action(ctx)` and turn typed errors into a message and an exit code, never a traceback."""
    ctx = _context(data_dir)
    try:
        return action(ctx)
    except PinfoldError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(EXIT_CODES.get(error.code, 1)) from None
    finally:
        ctx.close()


def _print(value, as_json: bool, columns: tuple[str, ...] = ()) -> None:
    if as_json or not columns:
        typer.echo(json.dumps(value, indent=2, sort_keys=True))
        return
    rows = value if isinstance(value, list) else [value]
    widths = [max([len(c)] + [len(str(r.get(c) or "")) for r in rows]) for c in columns]
    typer.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        typer.echo("  ".join(str(row.get(c) or "").ljust(w) for c, w in zip(columns, widths, strict=True)))


@app.command()
def serve(host: str = typer.Option(None, envvar="PINFOLD_HOST"), port: int = typer.Option(None, envvar="PINFOLD_PORT"),
          workers: int = typer.Option(1, envvar="PINFOLD_WORKERS", help="Server processes sharing the database"),
          data_dir: Path | None = DataDir) -> None:
    """Start the server (AWS APIs and the admin API on one port)."""
    from pinfold import bootstrap

    settings = Settings.from_env(data_dir=data_dir, host=host, port=port)
    typer.echo(f"Pinfold serving on http://{settings.host}:{settings.port} (data in {settings.data_dir})", err=True)
    bootstrap.serve(settings, workers=workers)


@app.command()
def worker(data_dir: Path | None = DataDir) -> None:
    """Run background work without serving requests: sending, imports and exports, the event pump.

    Start as many as the database can feed, beside `pinfold serve`; SIGTERM or Ctrl-C stops one
    after its current pass. Only `serve` listens for bounce reports (PINFOLD_FEEDBACK_SMTP)."""
    import signal
    import threading

    from pinfold import bootstrap

    settings = Settings.from_env(data_dir=data_dir)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    typer.echo(f"Pinfold worker running (data in {settings.data_dir})", err=True)
    bootstrap.work(settings, stop.wait)


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
    typer.echo(aws_profile(result, profile, Settings.from_env(data_dir=data_dir).resolved_public_url), nl=False)


@admin_app.command("bootstrap")
def bootstrap(name: str = "Pinfold", if_needed: bool = typer.Option(False, "--if-needed"),
              aws_profile_name: str | None = AwsProfile, data_dir: Path | None = DataDir) -> None:
    """Create the organization and print organization-administrator credentials as JSON."""
    result = _run(data_dir, lambda ctx: organization.bootstrap(ctx, name=name, if_needed=if_needed))
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
    result = _run(data_dir, lambda ctx: organization.create_access_key(
        ctx, _operator(ctx), scope=scope, account_id=account, project_id=project, name=name))
    _print_credentials(result, aws_profile_name, data_dir)


_TENANT_COLUMNS = ("tenant_id", "model", "status", "account_id", "project_id", "attribute_value")


@tenants_app.command("onboard")
def onboard(tenant_id: str, model: str = typer.Option(..., help="sa-sp | sa-mp | ma-mp"),
            name: str | None = None, region: str | None = None,
            attribute_key: str | None = typer.Option(None, help="sa-sp: the endpoint attribute (TenantId)"),
            attribute_value: str | None = typer.Option(None, help="sa-sp: its value (the tenant id)"),
            metadata: str = typer.Option("{}", help="JSON object kept with the tenant"),
            data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Place a tenant as its model dictates; print the placement and tenant credentials as JSON."""
    try:
        extra = json.loads(metadata)
    except json.JSONDecodeError:
        typer.echo("error: --metadata must be a JSON object", err=True)
        raise typer.Exit(2) from None
    result = _run(data_dir, lambda ctx: tenants.onboard(
        ctx, _operator(ctx), tenant_id=tenant_id, model=model, name=name, region=region,
        attribute_key=attribute_key, attribute_value=attribute_value, metadata=extra))
    _print(result, True)


@tenants_app.command("list")
def list_tenants(status: str | None = None, model: str | None = None,
                 data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """List tenants in the registry."""
    rows = _run(data_dir, lambda ctx: tenants.list_all(ctx, _operator(ctx), status=status, model=model))
    _print(rows, as_json, _TENANT_COLUMNS)


@tenants_app.command("show")
def show(tenant_id: str, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Show one tenant's registry entry."""
    _print(_run(data_dir, lambda ctx: tenants.show(ctx, _operator(ctx), tenant_id)), True)


@tenants_app.command("suspend")
def suspend(tenant_id: str, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Refuse the tenant's credentials until it is resumed; its data stays."""
    row = _run(data_dir, lambda ctx: tenants.set_status(ctx, _operator(ctx), tenant_id, "suspended"))
    _print(row, as_json, _TENANT_COLUMNS)


@tenants_app.command("resume")
def resume(tenant_id: str, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Accept a suspended tenant's credentials again."""
    row = _run(data_dir, lambda ctx: tenants.set_status(ctx, _operator(ctx), tenant_id, "active"))
    _print(row, as_json, _TENANT_COLUMNS)


@tenants_app.command("offboard")
def offboard(tenant_id: str, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Remove the tenant's data as its model dictates and revoke its keys."""
    _print(_run(data_dir, lambda ctx: tenants.offboard(ctx, _operator(ctx), tenant_id)), True)


@accounts_app.command("list")
def list_accounts(data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """List the organization's accounts with their project caps."""
    rows = _run(data_dir, lambda ctx: organization.list_accounts(ctx, _operator(ctx)))
    _print(rows, as_json, ("id", "role", "status", "project_cap", "name"))


@accounts_app.command("set-project-cap")
def set_project_cap(account_id: str, cap: int, data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Raise an account's projects-per-region cap (default 100)."""
    row = _run(data_dir, lambda ctx: organization.set_project_cap(ctx, _operator(ctx), account_id, cap))
    _print(row, as_json, ("id", "role", "project_cap"))


TenantView = typer.Option(None, "--tenant", help="See the segment as this tenant's credentials would")


@segments_app.command("size")
def segment_size(project: str, segment: str, version: int | None = None, tenant: str | None = TenantView,
                 data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """How many endpoints a segment (or one of its versions) holds."""
    def count(ctx):
        viewer = segment_service.operator_view(ctx, _operator(ctx), project, tenant)
        return segment_service.size(ctx, viewer, project, segment, version)

    size = _run(data_dir, count)
    typer.echo(json.dumps({"size": size}) if as_json else str(size))


@segments_app.command("preview")
def segment_preview(project: str, segment: str, limit: int = 20, tenant: str | None = TenantView,
                    data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """The first endpoints of a segment, in id order."""
    def first(ctx):
        viewer = segment_service.operator_view(ctx, _operator(ctx), project, tenant)
        return segment_service.preview(ctx, viewer, project, segment, limit)

    rows = _run(data_dir, first)
    if as_json:
        _print(rows, True)
        return
    table = [{"id": r["Id"], "channel": r.get("ChannelType"), "address": r.get("Address"),
              "user": r.get("User", {}).get("UserId")} for r in rows]
    _print(table, False, ("id", "channel", "address", "user"))


@app.command("import")
def import_file(source: str = typer.Argument(..., help="A local file or folder, file://..., or s3://bucket/prefix"),
                project: str = typer.Option(..., help="The project (application) id"),
                segment_name: str | None = typer.Option(None, help="Also define an imported segment"),
                fmt: str = typer.Option("", "--format", help="CSV or JSON (default: from the file name)"),
                data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Run an import job now, with a progress bar; prints the finished job."""
    from pinfold.audience import imports, jobs
    from pinfold.bootstrap import JOB_RUNNERS

    url = source if "://" in source else Path(source).resolve().as_uri()
    request = {"S3Url": url, "Format": (fmt or ("JSON" if url.endswith((".json", ".jsonl")) else "CSV")).upper(),
               "RoleArn": "", "DefineSegment": bool(segment_name), "SegmentName": segment_name}

    def run(ctx):
        viewer = segment_service.operator_view(ctx, _operator(ctx), project)
        job = imports.create(ctx, viewer, project, {k: v for k, v in request.items() if v is not None},
                             run_here=True)
        runtime.settle()
        with typer.progressbar(length=1, label="importing", file=sys.stderr) as bar:
            def show(progress: dict) -> None:
                bar.length = max(progress["TotalPieces"], 1)
                bar.update(progress["CompletedPieces"] - bar.pos)

            return jobs.run_job(ctx, JOB_RUNNERS, job["Id"], viewer, show)

    finished = _run(data_dir, run)
    _print(finished, True)
    if finished["JobStatus"] != "COMPLETED":
        raise typer.Exit(1)


@api_app.command("coverage")
def coverage(as_json: bool = AsJson) -> None:
    """Per service: operations Pinfold implements out of those in the service model."""
    from pinfold.api.coverage import report

    _print(report(), as_json, ("service", "implemented", "total", "percent"))


webhooks_app = typer.Typer(help="HTTPS webhooks standing in for EventBridge buses (SES event destinations).",
                           no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
_WEBHOOK_COLUMNS = ("event_bus_arn", "url", "signed", "updated_at")


@webhooks_app.command("set")
def set_webhook(event_bus_arn: str, url: str,
                secret: str | None = typer.Option(None, envvar="PINFOLD_WEBHOOK_SECRET",
                                                  help="Signs each delivery; stored encrypted, never shown"),
                data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Deliver events for an EventBridge bus ARN to this URL (replaces an existing mapping)."""
    from pinfold.email import configuration_sets

    row = _run(data_dir, lambda ctx: configuration_sets.set_webhook(ctx, _operator(ctx), event_bus_arn, url, secret))
    _print(row, as_json, _WEBHOOK_COLUMNS)


@webhooks_app.command("list")
def list_webhooks(data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """List the bus-to-webhook mappings (secrets are never shown)."""
    from pinfold.email import configuration_sets

    _print(_run(data_dir, lambda ctx: configuration_sets.list_webhooks(ctx, _operator(ctx))), as_json,
           _WEBHOOK_COLUMNS)


@webhooks_app.command("remove")
def remove_webhook(event_bus_arn: str, data_dir: Path | None = DataDir) -> None:
    """Remove a bus's webhook; destinations naming the bus deliver nothing until it is set again."""
    from pinfold.email import configuration_sets

    _run(data_dir, lambda ctx: configuration_sets.remove_webhook(ctx, _operator(ctx), event_bus_arn))
    typer.echo(f"removed {event_bus_arn}")


# --- SES sandbox and identities (engineer D1) ---

identities_app = typer.Typer(help="SES email identities: verification and DNS records.", no_args_is_help=True)
app.add_typer(identities_app, name="identities")
_QUOTA_COLUMNS = ("account_id", "region", "production_access", "max_24h", "max_rate", "sending_enabled")


@accounts_app.command("production")
def production(account_id: str, region: str | None = None,
               max_24h: int = typer.Option(50_000, "--max-24h", help="Messages per rolling 24 hours"),
               max_rate: float = typer.Option(14.0, "--max-rate", help="Messages per second"),
               sandbox: bool = typer.Option(False, "--sandbox", help="Revoke: back to the sandbox (200/day, 1/s)"),
               data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """Grant an account production email access with these quotas (or --sandbox to revoke it)."""
    from pinfold.email import account as email_account

    row = _run(data_dir, lambda ctx: email_account.set_production(
        ctx, _operator(ctx), account_id, region, enabled=not sandbox, max_24h=max_24h, max_rate=max_rate))
    _print(row, as_json, _QUOTA_COLUMNS)


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
        return action(ctx, _operator(ctx), identity, account_id=account, region=region)

    result = _run(data_dir, verify)
    typer.echo(f"{identity}: {result['VerificationStatus']}")
    if result["VerificationStatus"] != "SUCCESS":
        raise typer.Exit(1)


@identities_app.command("records")
def identity_records(identity: str, account: str = typer.Option(..., "--account"), region: str | None = None,
                     data_dir: Path | None = DataDir, as_json: bool = AsJson) -> None:
    """The DNS records a domain identity needs (its DKIM public key as a TXT record)."""
    from pinfold.email import identities as email_identities

    rows = _run(data_dir, lambda ctx: email_identities.admin_dns_records(
        ctx, _operator(ctx), identity, account_id=account, region=region))
    _print(rows, as_json, ("name", "type", "value"))


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
