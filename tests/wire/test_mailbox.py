"""Reading the mailbox simulator back after real SES v2 sends through boto3: `pinfold mailbox list|show`
and GET /admin/v1/mailbox against a real server. Newest first, filters, key-based paging that survives
new mail, organization administrators only, and ids that never read outside the mailbox."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from typer.testing import CliRunner

from pinfold.cli.mailbox import mailbox_app
from tests.conftest import admin_request, make_client, onboard

SIMULATOR = "simulator.amazonses.com"


@pytest.fixture
def sender(server) -> tuple:
    """An SES v2 client for a new account in production, allowed to send from mailbox.example.com, and
    the account's own credentials."""
    placed = onboard(server, "ma-mp")
    account = placed["tenant"]["account_id"]
    client = make_client(server, placed["credentials"], "sesv2")
    client.create_email_identity(EmailIdentity="mailbox.example.com")
    server.cli("identities", "verify", "mailbox.example.com", "--account", account)
    server.cli("accounts", "production", account, "--max-24h", "1000", "--max-rate", "100")
    return client, placed["credentials"]


def _mailbox(server) -> Path:
    return Path(server.env["PINFOLD_DATA_DIR"]) / "mailbox"


def _recipient() -> str:
    return f"success+{uuid.uuid4().hex[:12]}@{SIMULATOR}"


def _send(server, ses, to: str, subject: str = "Hello", text: str | None = "Hi", html: str | None = None) -> str:
    """Send one message and wait until the mailbox has stored it; returns its MessageId."""
    body = {kind: {"Data": data} for kind, data in (("Text", text), ("Html", html)) if data is not None}
    message_id = ses.send_email(FromEmailAddress="news@mailbox.example.com", Destination={"ToAddresses": [to]},
                                Content={"Simple": {"Subject": {"Data": subject}, "Body": body}})["MessageId"]
    _stored(server, message_id)
    return message_id


def _stored(server, message_id: str, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in _mailbox(server).rglob(f"{message_id}*.eml"):
            return path
        time.sleep(0.05)
    raise AssertionError(f"message {message_id} was not delivered to the mailbox within {timeout} s")


def _listed(server, *args: str) -> tuple[list[dict], str | None]:
    """`pinfold mailbox list --json ...`: the summaries and the next token printed on stderr, if any."""
    result = server.cli("mailbox", "list", "--json", *args)
    token = None
    for line in result.stderr.splitlines():
        if line.startswith("next token: "):
            token = line.removeprefix("next token: ")
    return json.loads(result.stdout), token


def _cli_bytes(server, *args: str) -> subprocess.CompletedProcess:
    """A CLI run whose output is kept as bytes (no newline translation)."""
    return subprocess.run([sys.executable, "-m", "pinfold", *args], env=server.env, capture_output=True)


def _raw_get(server, creds: dict, raw_path: str) -> tuple[int, bytes]:
    """GET exactly `raw_path` (no client-side dot-segment or escape normalisation), signed for the admin API."""
    request = AWSRequest(method="GET", url=f"{server.url}{raw_path}")
    SigV4Auth(Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"]), "pinfold",
              creds["region"]).add_auth(request)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", raw_path, headers=dict(request.headers))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_listing_is_newest_first_filtered_and_paged_by_key(server, sender):
    ses, _ = sender
    to = _recipient()
    sent = [_send(server, ses, to, subject=f"number {n}") for n in range(5)]

    listed, token = _listed(server, "--to", to.upper())
    assert token is None
    assert [m["message_id"] for m in listed] == sent[::-1]
    newest = listed[0]
    path = _mailbox(server) / newest["id"]
    assert newest["to"] == [to] and newest["from"] == "news@mailbox.example.com"
    assert newest["subject"] == "number 4" and newest["size"] == path.stat().st_size
    assert newest["id"] == _stored(server, sent[-1]).relative_to(_mailbox(server)).as_posix()
    assert newest["received"].endswith("Z")
    assert _listed(server, "--message-id", sent[2])[0] == [listed[2]]
    assert _listed(server, "--to", to, "--message-id", "nope")[0] == []

    # Two at a time; mail that arrives meanwhile goes to the front and never shifts the pages.
    first, token = _listed(server, "--to", to, "--limit", "2")
    late = _send(server, ses, to, subject="late")
    pages = [first]
    while token:
        page, token = _listed(server, "--to", to, "--limit", "2", "--next-token", token)
        pages.append(page)
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [m["message_id"] for page in pages for m in page] == sent[::-1]
    assert _listed(server, "--to", to, "--limit", "1")[0][0]["message_id"] == late

    table = server.cli("mailbox", "list", "--to", to, "--limit", "2")
    assert table.stdout.split()[:5] == ["ID", "RECEIVED", "FROM", "TO", "SUBJECT"]
    assert "late" in table.stdout and table.stderr.startswith("next token: ")


def test_the_admin_route_lists_and_serves_mail_to_the_organization_admin(server, sender):
    ses, _ = sender
    to = _recipient()
    sent = [_send(server, ses, to, subject=f"route {n}") for n in range(3)]
    seen, token = [], None
    while True:
        query = {"limit": 2, "to": to, **({"next_token": token} if token else {})}
        response = admin_request(server, server.admin, "GET", f"/admin/v1/mailbox?{urlencode(query, quote_via=quote)}")
        assert response.status_code == 200, response.text
        seen += response.json()["messages"]
        token = response.json()["next_token"]
        if token is None:
            break
    assert [m["message_id"] for m in seen] == sent[::-1]

    one = admin_request(server, server.admin, "GET", f"/admin/v1/mailbox?message_id={sent[0]}").json()["messages"]
    message = admin_request(server, server.admin, "GET", f"/admin/v1/mailbox/{one[0]['id']}")
    assert message.status_code == 200 and message.headers["content-type"] == "message/rfc822"
    assert message.content == (_mailbox(server) / one[0]["id"]).read_bytes()

    refused = admin_request(server, server.admin, "GET", "/admin/v1/mailbox?next_token=forged")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_input", refused.text


def test_tenant_credentials_are_refused(server, sender):
    ses, own = sender
    message_id = _send(server, ses, _recipient())
    path = _stored(server, message_id)
    for route in ("/admin/v1/mailbox", f"/admin/v1/mailbox?message_id={message_id}",
                  f"/admin/v1/mailbox/{path.parent.name}/{path.name}"):
        response = admin_request(server, own, "GET", route)
        assert response.status_code == 403, response.text
        assert list(response.json()) == ["error"] and set(response.json()["error"]) == {"code", "message"}
        assert response.json()["error"]["code"] == "forbidden"
        assert message_id not in response.text


def test_show_prints_the_headers_and_text_or_the_raw_bytes(server, sender):
    ses, _ = sender
    to = _recipient()
    both = _send(server, ses, to, subject="Grüße 🎉", text="The plain part.", html="<p>The HTML part.</p>")
    html_only = _send(server, ses, to, subject="html", text=None,
                      html="<html><head><style>p {}</style></head><body><p>Hello <b>there</b> &amp; welcome</p>"
                           "<p>Second line</p></body></html>")
    summaries = {m["message_id"]: m for m in _listed(server, "--to", to)[0]}
    assert summaries[both]["subject"] == "Grüße 🎉"  # RFC 2047 decoded

    shown = server.cli("mailbox", "show", summaries[both]["id"]).stdout
    head, _, body = shown.partition("\n\n")
    assert [line.split(":", 1)[0] for line in head.splitlines()] == [
        "From", "To", "Subject", "Date", "X-Pinfold-Message-Id"]
    assert f"To: {to}" in head and "Subject: Grüße 🎉" in head and f"X-Pinfold-Message-Id: {both}" in head
    assert body.strip() == "The plain part."
    shown = server.cli("mailbox", "show", summaries[html_only]["id"]).stdout
    assert shown.partition("\n\n")[2].strip() == "Hello there & welcome\nSecond line"

    raw = _cli_bytes(server, "mailbox", "show", summaries[both]["id"], "--raw")
    assert raw.returncode == 0 and raw.stdout == (_mailbox(server) / summaries[both]["id"]).read_bytes()
    assert raw.stdout.startswith(b"Return-Path: <")


HOSTILE_IDS = ["../../master.key", "2026-12-06/../../x.eml", "%2e%2e/%2e%2e/master.key", "2026-12-06/%2e%2e.eml",
               "/etc/passwd", "2026-12-06//x.eml", "2026-12-06/x.eml/", "2026-12-06\\..\\x.eml", "2026-12-06/x.txt"]


def test_hostile_ids_are_refused_without_reading_outside(server, sender, tmp_path):
    _send(server, sender[0], _recipient())  # the mailbox and a day folder exist
    data_dir = Path(server.env["PINFOLD_DATA_DIR"])
    secrets = [(data_dir / "master.key").read_bytes().strip()]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.eml").write_bytes(b"Subject: outside-secret\r\n\r\noutside-secret\r\n")
    secrets.append(b"outside-secret")
    linked_file, linked_day = _mailbox(server) / "2000-01-01", _mailbox(server) / "2000-01-02"
    linked_file.mkdir()
    (linked_file / "evil.eml").symlink_to(outside / "x.eml")
    linked_day.symlink_to(outside, target_is_directory=True)
    try:
        ids = [*HOSTILE_IDS, str(outside / "x.eml"), "2000-01-01/evil.eml", "2000-01-02/x.eml"]
        for message in ids:  # in process: a subprocess per id would take a second each
            for raw in ([], ["--raw"]):
                result = CliRunner().invoke(mailbox_app, ["show", message, *raw, "--data-dir", str(data_dir)])
                assert result.exit_code in (2, 4), (message, result.output)
                assert b"error: " in result.stderr_bytes and result.stdout_bytes == b""
                assert not any(secret in result.stderr_bytes for secret in secrets)
        assert _cli_bytes(server, "mailbox", "show", "../../master.key", "--raw").returncode == 2

        for path in ["/admin/v1/mailbox/../../master.key", "/admin/v1/mailbox/2026-12-06/../../x.eml",
                     "/admin/v1/mailbox/%2e%2e/%2e%2e/master.key", "/admin/v1/mailbox/2026-12-06/%2e%2e.eml",
                     "/admin/v1/mailbox//etc/passwd", f"/admin/v1/mailbox/{outside}/x.eml",
                     "/admin/v1/mailbox/2026-12-06/x.eml%00", "/admin/v1/mailbox/2000-01-01/..%2f..%2fmaster.key",
                     "/admin/v1/mailbox/2000-01-01/evil.eml", "/admin/v1/mailbox/2000-01-02/x.eml"]:
            status, body = _raw_get(server, server.admin, path)
            assert status in (400, 403, 404), (path, status, body)
            assert set(json.loads(body)) == {"error"}, (path, body)
            assert not any(secret in body for secret in secrets), path
        # The symlinks reach the handler with a valid signature and are refused there.
        for path in ["/admin/v1/mailbox/2000-01-01/evil.eml", "/admin/v1/mailbox/2000-01-02/x.eml"]:
            assert _raw_get(server, server.admin, path)[0] == 404

        listed = json.dumps(_listed(server, "--limit", "1000")[0])
        assert "2000-01-0" not in listed and "outside-secret" not in listed
    finally:
        (linked_file / "evil.eml").unlink()
        linked_file.rmdir()
        linked_day.unlink()


def test_a_missing_mailbox_is_an_empty_list_and_bad_paging_is_refused(server, tmp_path):
    fresh = tmp_path / "never-used"
    assert _listed(server, "--data-dir", str(fresh)) == ([], None)
    assert not fresh.exists()
    forged = server.cli("mailbox", "list", "--next-token", "forged", check=False)
    assert forged.returncode == 2 and "next_token" in forged.stderr
    assert server.cli("mailbox", "list", "--limit", "1001", check=False).returncode == 2
    missing = server.cli("mailbox", "show", "2000-01-03/none.eml", check=False)
    assert missing.returncode == 4 and "error: " in missing.stderr


def test_the_listing_reads_only_the_header_block(server, tmp_path):
    """A message with a 4 GiB body (sparse) lists at once: reading the body would take minutes."""
    day = tmp_path / "mailbox" / "2000-01-04"
    day.mkdir(parents=True)
    head = (b"Return-Path: <a@example.org>\r\nX-Pinfold-Envelope-To: b@example.org\r\nFrom: a@example.org\r\n"
            b"Subject: =?utf-8?b?R3LDvMOfZQ==?=\r\nX-Pinfold-Message-Id: big\r\n\r\n")
    with open(day / "big.eml", "wb") as big:
        big.write(head)
        big.truncate(4 * 1024**3)
    os.utime(day / "big.eml", ns=(0, 10**18))
    started = time.monotonic()
    listed, _ = _listed(server, "--data-dir", str(tmp_path))
    assert time.monotonic() - started < 20
    assert listed == [{"id": "2000-01-04/big.eml", "received": "2001-09-09T01:46:40.000Z", "from": "a@example.org",
                       "to": ["b@example.org"], "subject": "Grüße", "message_id": "big", "size": 4 * 1024**3}]
