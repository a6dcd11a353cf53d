"""The AWS CLI against the server, and the operator's `pinfold` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from botocore.exceptions import ClientError

from pinfold.api import pinpoint as pinpoint_api
from tests.conftest import make_client

AWS = str(Path(sys.executable).with_name("aws"))


def aws(server, creds: dict, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
           "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"], "AWS_DEFAULT_REGION": creds["region"],
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    return subprocess.run([AWS, "--endpoint-url", server.url, "--output", "json", *args],
                          env=env, capture_output=True, text=True)


def test_aws_cli_creates_reads_and_errors(server):
    created = aws(server, server.admin, "pinpoint", "create-app", "--create-application-request", "Name=from-cli")
    assert created.returncode == 0, created.stderr
    app_id = json.loads(created.stdout)["ApplicationResponse"]["Id"]
    updated = aws(server, server.admin, "pinpoint", "update-endpoint", "--application-id", app_id,
                  "--endpoint-id", "cli-1", "--endpoint-request",
                  json.dumps({"ChannelType": "SMS", "Address": "+15550199"}))
    assert updated.returncode == 0, updated.stderr
    endpoint = json.loads(aws(server, server.admin, "pinpoint", "get-endpoint", "--application-id", app_id,
                              "--endpoint-id", "cli-1").stdout)["EndpointResponse"]
    assert endpoint["Address"] == "+15550199"
    listed = json.loads(aws(server, server.admin, "pinpoint", "get-apps").stdout)["ApplicationsResponse"]["Item"]
    assert app_id in {app["Id"] for app in listed}
    missing = aws(server, server.admin, "pinpoint", "get-endpoint", "--application-id", app_id, "--endpoint-id", "nope")
    assert missing.returncode != 0 and "NotFoundException" in missing.stderr


def test_tenant_commands_with_json(server):
    onboarded = json.loads(server.cli("tenants", "onboard", "cli-tenant", "--model", "sa-sp", "--json",
                                      "--metadata", '{"plan": "pro"}').stdout)
    assert onboarded["tenant"]["model"] == "sa-sp" and onboarded["tenant"]["metadata"] == {"plan": "pro"}
    assert onboarded["credentials"]["aws_secret_access_key"]
    client = make_client(server, onboarded["credentials"])
    assert client.get_app(ApplicationId=onboarded["tenant"]["project_id"])["ApplicationResponse"]["Name"]
    listed = json.loads(server.cli("tenants", "list", "--json").stdout)
    assert "cli-tenant" in {t["tenant_id"] for t in listed}
    assert "cli-tenant" in server.cli("tenants", "list").stdout  # the table form
    assert json.loads(server.cli("tenants", "suspend", "cli-tenant", "--json").stdout)["status"] == "suspended"
    assert json.loads(server.cli("tenants", "resume", "cli-tenant", "--json").stdout)["status"] == "active"
    shown = json.loads(server.cli("tenants", "show", "cli-tenant", "--json").stdout)
    assert shown["attribute_key"] == "TenantId" and shown["attribute_value"] == "cli-tenant"
    gone = json.loads(server.cli("tenants", "offboard", "cli-tenant", "--json").stdout)
    assert gone["tenant"]["status"] == "offboarded" and gone["removed"]["revoked_keys"] == 1


def test_suspension_by_the_cli_reaches_the_running_server_within_a_second(server):
    tenant = json.loads(server.cli("tenants", "onboard", "cli-suspended", "--model", "ma-mp").stdout)
    client = make_client(server, tenant["credentials"])
    client.get_apps()  # the server now holds this key in its lookup cache
    server.cli("tenants", "suspend", "cli-suspended")
    suspended_at = time.monotonic()
    while True:
        try:
            client.get_apps()
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ForbiddenException"
            break
        assert time.monotonic() - suspended_at < 1.5, "suspension did not reach the server within a second"
        time.sleep(0.05)


def test_cli_errors_are_messages_not_tracebacks(server):
    result = server.cli("tenants", "show", "nobody", check=False)
    assert result.returncode == 4 and result.stderr.strip() == "error: Tenant nobody is not in the registry"
    result = server.cli("tenants", "onboard", "x", "--model", "bogus", check=False)
    assert result.returncode == 2 and "Unknown tenancy model" in result.stderr
    result = server.cli("admin", "bootstrap", check=False)
    assert result.returncode == 5 and "already exists" in result.stderr


def test_accounts_and_project_cap(server):
    accounts = json.loads(server.cli("accounts", "list", "--json").stdout)
    management = next(a for a in accounts if a["role"] == "management")
    assert management["project_cap"] == 100
    raised = json.loads(server.cli("accounts", "set-project-cap", management["id"], "250", "--json").stdout)
    assert raised["project_cap"] == 250


def test_api_coverage(server):
    rows = json.loads(server.cli("api", "coverage", "--json").stdout)
    by_service = {row["service"]: row for row in rows}
    assert set(by_service) == {"pinpoint", "sesv2", "pinpoint-sms-voice-v2"}
    # Every handler must name a real operation of the model, so none is silently unreachable.
    assert by_service["pinpoint"]["implemented"] == len(pinpoint_api.HANDLERS)
    assert by_service["pinpoint"]["total"] == 122
    assert {"UpdateEndpointsBatch", "CreateSegment"} <= set(by_service["pinpoint"]["operations"])
    table = server.cli("api", "coverage").stdout
    assert "pinpoint" in table and str(len(pinpoint_api.HANDLERS)) in table


def test_serve_with_several_workers_shares_the_database(server):
    import urllib.request

    from tests.conftest import free_port

    port = free_port()
    env = {**server.env, "PINFOLD_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "pinfold", "serve", "--workers", "2"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "workers did not start"
                time.sleep(0.2)
        other = make_client(server, server.admin)
        created = other.create_app(CreateApplicationRequest={"Name": "seen-by-workers"})["ApplicationResponse"]
        server.url, original = f"http://127.0.0.1:{port}", server.url
        try:
            workers = make_client(server, server.admin)
            for _ in range(6):  # several connections, so both workers answer
                assert workers.get_app(ApplicationId=created["Id"])["ApplicationResponse"]["Name"] == "seen-by-workers"
        finally:
            server.url = original
    finally:
        process.terminate()
        process.wait(15)


def test_pinfold_import_runs_a_job_with_progress(server, tmp_path):
    client = make_client(server, server.admin)
    project = client.create_app(CreateApplicationRequest={"Name": "cli import"})["ApplicationResponse"]["Id"]
    source = tmp_path / "list.csv"
    source.write_text("ChannelType,Address,Id,Attributes.plan\nEMAIL,x1@example.com,x1,gold\n"
                      "EMAIL,x2@example.com,x2,free\nPIGEON,x3@example.com,x3,gold\n")
    result = server.cli("import", str(source), "--project", project, "--segment-name", "cli list", check=False)
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)
    assert (job["JobStatus"], job["TotalProcessed"], job["TotalFailures"]) == ("COMPLETED", 3, 1)
    assert "importing" in result.stderr  # the progress bar
    assert client.get_endpoint(ApplicationId=project, EndpointId="x2")["EndpointResponse"]["Attributes"] == {
        "plan": ["free"]}
    segment = client.get_segment(ApplicationId=project, SegmentId=job["Definition"]["SegmentId"])["SegmentResponse"]
    assert segment["ImportDefinition"]["Size"] == 2
