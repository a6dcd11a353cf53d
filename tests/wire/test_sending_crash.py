"""A real `pinfold serve` relaying a bulk send into Postfix's smtp-sink is killed with SIGKILL twice
mid-send and restarted: nothing is lost, each kill repeats at most one group of outcomes (plus one
message per relay connection), and the restarted server takes the dead one's messages over within
30 seconds."""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from pathlib import Path

from pinfold.db.database import Database
from pinfold.email.store import messages as email_messages
from pinfold.sending import worker as worker_module
from tests.conftest import Server, make_client, onboard
from tests.service.test_smtp_adapter import smtp_sink  # noqa: F401  (the fixture)

MESSAGES = 3_000
CONNECTIONS = 4
_MESSAGE_ID = re.compile(rb"^X-Pinfold-Message-Id: (\S+)", re.MULTILINE)


def _delivered(folder: Path) -> Counter:
    """Deliveries per SES MessageId, from the messages smtp-sink dumped (one file per transaction)."""
    found = Counter()
    for path in folder.iterdir():
        match = _MESSAGE_ID.search(path.read_bytes())
        if match:
            found[match[1].decode()] += 1
    return found


def _bulk_sender(server: Server):
    """An account in production with a verified domain and a template; returns its SES v2 client."""
    placed = onboard(server, "ma-mp")
    ses = make_client(server, placed["credentials"], "sesv2")
    ses.create_email_identity(EmailIdentity="shop.example.com")
    server.cli("identities", "verify", "shop.example.com", "--account", placed["tenant"]["account_id"])
    server.cli("accounts", "production", placed["tenant"]["account_id"], "--max-24h", "1000000",
               "--max-rate", "1000000")
    ses.create_email_template(TemplateName="sale", TemplateContent={
        "Subject": "Sale for {{name}}", "Text": "Hello {{name}}, " + "everything must go. " * 100})
    return placed["credentials"]


def test_killed_twice_mid_send_loses_nothing_and_repeats_at_most_a_group_per_kill(
        tmp_path, database_url, moto_s3, smtp_sink):  # noqa: F811
    port, sink = smtp_sink(dump=True)
    (tmp_path / "data").mkdir()
    server = Server(tmp_path / "data", database_url, moto_s3,
                    PINFOLD_EMAIL_RELAY=f"smtp://127.0.0.1:{port}?starttls=off&connections={CONNECTIONS}",
                    PINFOLD_SENDING_LEASE_SECONDS="8")  # a killed server's messages go again 8 s on
    database = Database(database_url)
    try:
        creds = _bulk_sender(server)
        kills, restarted = [], 0.0

        def kill_and_restart() -> None:
            nonlocal restarted
            kills.append(len(os.listdir(sink)))
            server.kill()
            server.start()
            restarted = time.monotonic()

        # Queue 60 SendBulkEmail calls of 50; the server sends while they arrive. Kill it once a
        # sixth of the mail is out and again once half is, between two calls as a crash would.
        thresholds = [MESSAGES // 6, MESSAGES // 2]
        ses = make_client(server, creds, "sesv2")
        for first in range(0, MESSAGES, 50):
            entries = [{"Destination": {"ToAddresses": [f"r{n}@example.org"]},
                        "ReplacementEmailContent": {"ReplacementTemplate": {
                            "ReplacementTemplateData": f'{{"name": "Reader {n}"}}'}}} for n in range(first, first + 50)]
            results = ses.send_bulk_email(FromEmailAddress="news@shop.example.com", BulkEmailEntries=entries,
                                          DefaultContent={"Template": {"TemplateName": "sale",
                                                                       "TemplateData": '{"name": "friend"}'}})
            assert {r["Status"] for r in results["BulkEmailEntryResults"]} == {"SUCCESS"}
            if len(kills) < len(thresholds) and len(os.listdir(sink)) >= thresholds[len(kills)]:
                kill_and_restart()
                ses = make_client(server, creds, "sesv2")
        deadline = time.monotonic() + 60
        while len(kills) < len(thresholds) and time.monotonic() < deadline:  # the sending outran the queueing
            if len(os.listdir(sink)) >= thresholds[len(kills)]:
                kill_and_restart()
            time.sleep(0.01)
        assert all(0 < out < MESSAGES for out in kills), kills  # each kill came mid-send

        with database.read() as conn:
            waiting = email_messages.waiting(conn)
        while waiting and time.monotonic() < restarted + 45:
            time.sleep(0.2)
            with database.read() as conn:
                waiting = email_messages.waiting(conn)
        recovered = time.monotonic() - restarted
        with database.read() as conn:
            counts = email_messages.counts(conn)
        delivered = _delivered(sink)
        lost = MESSAGES - len(delivered)
        duplicated = sum(copies - 1 for copies in delivered.values())
        bound = worker_module.GROUP_SIZE + CONNECTIONS
        print(f"\n{MESSAGES} messages, killed at {kills} delivered: lost {lost}, duplicated {duplicated} "
              f"(bound {bound} a kill), recovered {recovered:.1f} s after the last restart")
        assert counts == {"delivered": MESSAGES}
        assert lost == 0
        assert duplicated <= bound * len(kills)
        assert recovered <= 30
    finally:
        server.stop()
        database.dispose()
