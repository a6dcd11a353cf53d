"""A real `pinfold serve` running an IMMEDIATE email campaign into Postfix's smtp-sink is killed with
SIGKILL twice (once while its scheduler is still planning the campaign's slices, once while the mail
goes out) and restarted: every endpoint gets its message, each kill repeats at most the group in
flight at the relay, the campaign runs once and ends COMPLETED, and the restarted server takes the
dead one's work over: the campaign's planning at once, the mail within 30 seconds."""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from pathlib import Path

from pinfold.campaigns.store import activities as activity_store
from pinfold.db.database import Database
from pinfold.email.store import messages as email_messages
from pinfold.sending import worker as worker_module
from tests.conftest import Server, make_client, onboard
from tests.service.test_smtp_adapter import smtp_sink  # noqa: F401  (the fixture)

ENDPOINTS = 3_000
CONNECTIONS = 4
_TO = re.compile(rb"^To: (\S+)", re.MULTILINE)


def _delivered(folder: Path) -> Counter:
    """Deliveries per recipient, from the messages smtp-sink dumped (one file per transaction)."""
    found = Counter()
    for path in folder.iterdir():
        match = _TO.search(path.read_bytes())
        if match:
            found[match[1].decode().strip("<>")] += 1
    return found


def _campaign_sender(server: Server) -> tuple[dict, str]:
    """A production account whose project has an email channel on a verified domain, and 3,000 email
    endpoints; returns the credentials and the project id."""
    placed = onboard(server, "ma-mp")
    project, account, region = (placed["tenant"][key] for key in ("project_id", "account_id", "region"))
    make_client(server, placed["credentials"], "sesv2").create_email_identity(EmailIdentity="shop.example.com")
    server.cli("identities", "verify", "shop.example.com", "--account", account)
    server.cli("accounts", "production", account, "--max-24h", "1000000", "--max-rate", "1000000")
    pinpoint = make_client(server, placed["credentials"])
    identity = f"arn:aws:ses:{region}:{account}:identity/shop.example.com"
    pinpoint.update_email_channel(ApplicationId=project, EmailChannelRequest={
        "FromAddress": "news@shop.example.com", "Identity": identity})
    for first in range(0, ENDPOINTS, 100):
        pinpoint.update_endpoints_batch(ApplicationId=project, EndpointBatchRequest={"Item": [
            {"Id": f"reader-{n:05d}", "ChannelType": "EMAIL", "Address": f"r{n}@example.org",
             "Attributes": {"plan": ["gold"]}} for n in range(first, first + 100)]})
    return placed["credentials"], project


def test_a_campaign_killed_twice_sends_everyone_once_and_runs_once(
        tmp_path, database_url, moto_s3, smtp_sink):  # noqa: F811
    port, sink = smtp_sink(dump=True)
    (tmp_path / "data").mkdir()
    server = Server(tmp_path / "data", database_url, moto_s3,
                    PINFOLD_EMAIL_RELAY=f"smtp://127.0.0.1:{port}?starttls=off&connections={CONNECTIONS}",
                    PINFOLD_SENDING_LEASE_SECONDS="8")  # a killed server's messages go again 8 s on
    database = Database(database_url)
    try:
        creds, project = _campaign_sender(server)
        pinpoint = make_client(server, creds)
        segment = pinpoint.create_segment(ApplicationId=project, WriteSegmentRequest={
            "Name": "gold", "Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE",
                                                                   "Values": ["gold"]}}}})["SegmentResponse"]
        campaign_id = pinpoint.create_campaign(ApplicationId=project, WriteCampaignRequest={
            "Name": "clearance", "SegmentId": segment["Id"], "SegmentVersion": 1,
            "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
            "MessageConfiguration": {"EmailMessage": {
                "Title": "Clearance", "HtmlBody": "<p>" + "Everything must go. " * 100 + "</p>"}}},
        )["CampaignResponse"]["Id"]
        started = time.monotonic()

        def planned() -> int:
            """Endpoints the campaign's activities have planned so far."""
            with database.read() as conn:
                return sum(a["counts"]["TotalEndpointCount"] for a in activity_store.of_campaign(conn, campaign_id))

        kills: list[tuple[int, int]] = []  # (endpoints planned, messages delivered) at each kill
        restarted = 0.0

        def kill_and_restart() -> None:
            nonlocal restarted
            kills.append((planned(), len(os.listdir(sink))))
            server.kill()
            server.start()
            restarted = time.monotonic()

        # Kill once the scheduler has planned some slices but not all (it dies holding the activity),
        # then once half the mail is out.
        deadline = time.monotonic() + 60
        while not kills and time.monotonic() < deadline:
            if 0 < planned() < ENDPOINTS:
                kill_and_restart()
            time.sleep(0.005)
        assert kills and 0 < kills[0][0] < ENDPOINTS, (kills, server.logs()[-3000:])  # it came mid-planning
        while planned() == kills[0][0] and time.monotonic() < deadline:
            time.sleep(0.05)
        resumed = time.monotonic() - restarted  # the restarted scheduler took the activity over
        while len(kills) < 2 and time.monotonic() < deadline:
            if len(os.listdir(sink)) >= ENDPOINTS // 2:
                kill_and_restart()
            time.sleep(0.01)
        assert len(kills) == 2 and 0 < kills[1][1] < ENDPOINTS, (kills, planned(), server.logs()[-3000:])

        def finished() -> tuple[list[dict], dict]:
            activities = pinpoint.get_campaign_activities(ApplicationId=project, CampaignId=campaign_id)
            state = pinpoint.get_campaign(ApplicationId=project, CampaignId=campaign_id)["CampaignResponse"]["State"]
            return activities["ActivitiesResponse"]["Item"], state

        pinpoint = make_client(server, creds)
        activities, state = finished()
        delivered = _delivered(sink)
        while (len(delivered) < ENDPOINTS or state["CampaignStatus"] != "COMPLETED") \
                and time.monotonic() < restarted + 45:
            time.sleep(0.2)
            activities, state = finished()
            delivered = _delivered(sink)
        recovered = time.monotonic() - restarted
        took = time.monotonic() - started
        with database.read() as conn:
            queued = email_messages.counts(conn)
        expected = {f"r{n}@example.org" for n in range(ENDPOINTS)}
        lost = len(expected - set(delivered))
        duplicated = sum(copies - 1 for copies in delivered.values())
        bound = worker_module.GROUP_SIZE + CONNECTIONS
        print(f"\n{ENDPOINTS} endpoints, killed at (planned, delivered) {kills}: lost {lost}, duplicated "
              f"{duplicated} (bound {bound} a kill), planning resumed {resumed:.1f} s after the first restart, "
              f"all delivered {recovered:.1f} s after the last, {took:.1f} s from creation")
        assert resumed <= 10  # not the activity lease's LEASE_SECONDS: the new scheduler takes over at once
        assert queued == {"delivered": ENDPOINTS}  # each endpoint planned once: no slice planned twice
        assert set(delivered) <= expected
        assert lost == 0, server.logs()[-3000:]
        assert duplicated <= bound * len(kills)
        assert state == {"CampaignStatus": "COMPLETED"}
        [activity] = activities  # one run, one treatment: started once
        assert (activity["State"], activity["Result"]) == ("COMPLETED", "SUCCESS")
        assert (activity["TotalEndpointCount"], activity["SuccessfulEndpointCount"]) == (ENDPOINTS, ENDPOINTS)
        assert recovered <= 30
    finally:
        server.stop()
        database.dispose()
