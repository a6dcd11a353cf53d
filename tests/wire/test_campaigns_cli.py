"""`pinfold campaigns ...` as the operator runs it: the real CLI (a subprocess) on the database of a
real `pinfold serve`, whose scheduler runs what `campaigns run` makes due, into the mailbox simulator.
Campaigns are made with boto3, as a tenant makes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from pinfold.audience import segments
from pinfold.campaigns import campaigns
from pinfold.email import identities as email_identities
from pinfold.messaging import channels
from pinfold.projects import projects
from tests.conftest import make_client, onboard
from tests.service.helpers import operator

SIMULATOR = "simulator.amazonses.com"
EMAIL = {"EmailMessage": {"Title": "Autumn sale", "HtmlBody": "<p>30% off</p>"}}


def _future(days: int = 7) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def shop(server):
    """An ma-mp tenant with a verified email domain, three gold endpoints (one bounces) and a segment
    of them; yields (tenant placement, boto3 client, segment id)."""
    placed = onboard(server, "ma-mp")
    project, account, region = (placed["tenant"][key] for key in ("project_id", "account_id", "region"))
    pinpoint = make_client(server, placed["credentials"])
    make_client(server, placed["credentials"], "sesv2").create_email_identity(EmailIdentity="cli.example.com")
    server.cli("identities", "verify", "cli.example.com", "--account", account)
    pinpoint.update_email_channel(ApplicationId=project, EmailChannelRequest={
        "FromAddress": "news@cli.example.com", "Identity": f"arn:aws:ses:{region}:{account}:identity/cli.example.com"})
    for endpoint_id, local in (("r1", "success+r1"), ("r2", "success+r2"), ("r3", "bounce+r3")):
        pinpoint.update_endpoint(ApplicationId=project, EndpointId=endpoint_id, EndpointRequest={
            "ChannelType": "EMAIL", "Address": f"{local}@{SIMULATOR}", "Attributes": {"plan": ["gold"]}})
    segment = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={
        "Name": "gold", "Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}}},
    )["SegmentResponse"]["Id"]
    return placed, pinpoint, segment


def _campaign(shop, **members) -> str:
    placed, pinpoint, segment = shop
    request = {"Name": "autumn", "SegmentId": segment, "MessageConfiguration": EMAIL,
               "Schedule": {"StartTime": _future(), "Frequency": "ONCE"}, **members}
    return pinpoint.create_campaign(ApplicationId=placed["tenant"]["project_id"],
                                    WriteCampaignRequest=request)["CampaignResponse"]["Id"]


def _json(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_list_and_show_as_json_and_tables(server, shop):
    placed = shop[0]
    campaign_id = _campaign(shop, Name="listed")
    tenant_id, project = placed["tenant"]["tenant_id"], placed["tenant"]["project_id"]
    listed = _json(server.cli("campaigns", "list", "--tenant", tenant_id, "--json"))
    (row,) = [r for r in listed if r["id"] == campaign_id]
    assert (row["project"], row["tenant"], row["name"], row["state"], row["frequency"], row["runs"]) == (
        project, tenant_id, "listed", "SCHEDULED", "ONCE", 0)
    assert row["next_run"].startswith(_future()[:10])
    assert campaign_id in {r["id"] for r in _json(server.cli("campaigns", "list", "--project", project, "--json"))}
    table = server.cli("campaigns", "list", "--project", project).stdout
    assert "NEXT_RUN" in table and campaign_id in table and "SCHEDULED" in table
    _campaign(shop, Name="another")
    first = server.cli("campaigns", "list", "--project", project, "--limit", "1", "--json")
    assert len(_json(first)) == 1 and "next token: " in first.stderr
    token = first.stderr.split("next token: ")[1].strip()
    rest = _json(server.cli("campaigns", "list", "--project", project, "--next-token", token, "--json"))
    assert [r["name"] for r in rest][-1] == "another" and _json(first)[0]["id"] not in {r["id"] for r in rest}

    shown = _json(server.cli("campaigns", "show", campaign_id, "--json"))
    assert shown["Campaign"]["Id"] == campaign_id and shown["Campaign"]["Name"] == "listed"
    assert shown["Campaign"]["State"] == {"CampaignStatus": "SCHEDULED"} and shown["Activities"] == []
    text = server.cli("campaigns", "show", campaign_id).stdout
    assert f"id: {campaign_id}" in text and "state: SCHEDULED" in text and "ONCE" in text


def test_run_watch_follows_the_run_until_every_message_is_out(server, shop):
    campaign_id = _campaign(shop, Name="watched")
    result = server.cli("campaigns", "run", campaign_id, "--watch", "--json", check=False)
    assert result.returncode == 0, result.stderr + server.logs()[-3000:]
    finished = json.loads(result.stdout)
    assert finished["CampaignId"] == campaign_id and finished["Run"] == 1
    assert finished["Progress"]["Finished"] is True
    assert finished["Progress"]["Messages"] == {"queued": 0, "sent": 0, "delivered": 2, "failed": 1}
    (activity,) = finished["Progress"]["Activities"]
    assert activity["State"] == "COMPLETED" and activity["SuccessfulEndpointCount"] == 3
    assert "[" in result.stderr and "delivered 2" in result.stderr  # the bar, printed as lines off a terminal
    mail = _json(server.cli("mailbox", "list", "--to", f"success+r1@{SIMULATOR}", "--json"))
    assert "Autumn sale" in {m["subject"] for m in mail}

    shown = _json(server.cli("campaigns", "show", campaign_id, "--json"))
    assert shown["Campaign"]["State"] == {"CampaignStatus": "COMPLETED"} and shown["Runs"] == 1
    assert [(a["Run"], a["State"], a["Messages"]["delivered"]) for a in shown["Activities"]] == [(1, "COMPLETED", 2)]
    again = server.cli("campaigns", "run", campaign_id, "--no-watch", check=False)
    assert again.returncode == 5 and "COMPLETED" in again.stderr and "Traceback" not in again.stderr


def test_run_without_watch_then_watch(server, shop):
    campaign_id = _campaign(shop, Name="later")
    started = server.cli("campaigns", "run", campaign_id)  # stdout is a pipe: no watching by default
    assert f"pinfold campaigns watch {campaign_id}" in started.stdout and "is due now" in started.stderr
    watched = _json(server.cli("campaigns", "watch", campaign_id, "--json"))
    assert watched["Progress"]["Finished"] and watched["Progress"]["Messages"]["delivered"] == 2
    text = server.cli("campaigns", "watch", campaign_id).stdout
    assert "run 1: 0 queued, 0 sent, 2 delivered, 1 failed" in text


def test_pause_resume_and_refusals(server, shop):
    campaign_id = _campaign(shop, Name="paused")
    paused = _json(server.cli("campaigns", "pause", campaign_id, "--json"))
    assert paused["State"] == {"CampaignStatus": "PAUSED"} and paused["IsPaused"] is True
    refused = server.cli("campaigns", "run", campaign_id, "--no-watch", check=False)
    assert refused.returncode == 5 and "PAUSED" in refused.stderr and "resume" in refused.stderr
    resumed = server.cli("campaigns", "resume", campaign_id)
    assert "SCHEDULED" in resumed.stdout
    listed = _json(server.cli("campaigns", "list", "--project", shop[0]["tenant"]["project_id"], "--json"))
    assert {r["id"]: r["state"] for r in listed}[campaign_id] == "SCHEDULED"

    # An IMMEDIATE campaign cannot be paused (UpdateCampaign's rule); its segment here matches nobody.
    placed, pinpoint, _ = shop
    nobody = pinpoint.create_segment(ApplicationId=placed["tenant"]["project_id"], WriteSegmentRequest={
        "Name": "nobody", "Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["none"]}}}},
    )["SegmentResponse"]["Id"]
    immediate = _campaign((placed, pinpoint, nobody), Schedule={"StartTime": "IMMEDIATE", "Frequency": "ONCE"})
    cannot = server.cli("campaigns", "pause", immediate, check=False)
    assert cannot.returncode == 2 and "cannot be paused" in cannot.stderr

    event = _campaign(shop, Schedule={"StartTime": _future(), "EndTime": _future(9), "Frequency": "EVENT",
                                      "EventFilter": {"FilterType": "ENDPOINT",
                                                      "Dimensions": {"EventType": {"Values": ["buy"]}}}})
    refused = server.cli("campaigns", "run", event, "--no-watch", check=False)
    assert refused.returncode == 5 and "event-based" in refused.stderr
    missing = server.cli("campaigns", "show", "0" * 32, check=False)
    assert missing.returncode == 4 and "not found" in missing.stderr.lower()


def test_watch_says_when_no_scheduler_runs(ctx, tmp_path):
    """A database no server runs on: the run stays due, and the watcher says why and gives up."""
    admin = operator(ctx)
    project = projects.create(ctx, admin, {"Name": "quiet"})["Id"]
    email_identities.create(ctx, admin, {"EmailIdentity": "example.com"})
    channels.update_email(ctx, admin, project, {
        "FromAddress": "news@example.com", "Identity": f"arn:aws:ses:{admin.region}:{admin.account_id}:identity/"
                                                       "example.com"})
    segment = segments.create(ctx, admin, project, {"Name": "everyone", "Dimensions": {}})["Id"]
    campaign_id = campaigns.create(ctx, admin, project, {
        "Name": "stuck", "SegmentId": segment, "MessageConfiguration": EMAIL,
        "Schedule": {"StartTime": _future(), "Frequency": "ONCE"}})["Id"]
    env = {**os.environ, "PINFOLD_DATA_DIR": str(ctx.settings.data_dir),
           "PINFOLD_DATABASE_URL": ctx.settings.resolved_database_url, "PINFOLD_LOG_LEVEL": "warning"}
    result = subprocess.run([sys.executable, "-m", "pinfold", "campaigns", "run", campaign_id, "--watch",
                             "--wait", "2"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "`pinfold serve` or `pinfold worker`" in result.stderr and "gave up after 2 s" in result.stderr
    shown = subprocess.run([sys.executable, "-m", "pinfold", "campaigns", "show", campaign_id, "--json"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert json.loads(shown.stdout)["Campaign"]["State"] == {"CampaignStatus": "SCHEDULED"}  # still due
