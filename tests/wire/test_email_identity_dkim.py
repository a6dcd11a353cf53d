"""DKIM signing of an email address identity, as the SES guide drives it with the AWS CLI and boto3:
an address follows its domain's signing and may opt out of it (and back in)."""

from __future__ import annotations

import email
import json
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard
from tests.wire.test_cli import aws

SUCCESS = "success@simulator.amazonses.com"


def _delivered(server, message_id: str, timeout: float = 30) -> email.message.Message:
    mailbox = Path(server.env["PINFOLD_DATA_DIR"]) / "mailbox"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in mailbox.rglob(f"{message_id}*.eml"):
            return email.message_from_bytes(path.read_bytes())
        time.sleep(0.2)
    raise AssertionError(f"message {message_id} was not delivered within {timeout} s")


def _signed_by(server, ses, sender: str) -> str | None:
    sent = ses.send_email(FromEmailAddress=sender, Destination={"ToAddresses": [SUCCESS]},
                          Content={"Simple": {"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "hi"}}}})
    signature = _delivered(server, sent["MessageId"])["DKIM-Signature"]
    return signature and dict(tag.strip().split("=", 1) for tag in signature.split(";") if "=" in tag)["d"]


def test_an_address_opts_out_of_its_domains_dkim_with_the_cli_and_back_in_with_boto3(server):
    placed = onboard(server, "ma-mp")
    creds, account = placed["credentials"], placed["tenant"]["account_id"]
    ses = make_client(server, creds, "sesv2")
    ses.create_email_identity(EmailIdentity="example.com")
    ses.create_email_identity(EmailIdentity="marketing@example.com")
    server.cli("identities", "verify", "example.com", "--account", account)
    server.cli("accounts", "production", account, "--max-24h", "1000", "--max-rate", "100")
    assert ses.get_email_identity(EmailIdentity="marketing@example.com")["DkimAttributes"]["SigningEnabled"] is True
    assert _signed_by(server, ses, "marketing@example.com") == "example.com"

    # Straight from the SES guide: stop signing the address's mail while the domain keeps signing.
    done = aws(server, creds, "sesv2", "put-email-identity-dkim-attributes",
               "--email-identity", "marketing@example.com", "--no-signing-enabled")
    assert done.returncode == 0, done.stderr
    shown = json.loads(aws(server, creds, "sesv2", "get-email-identity",
                           "--email-identity", "marketing@example.com").stdout)["DkimAttributes"]
    assert shown["SigningEnabled"] is False and shown["Status"] == "SUCCESS"
    assert ses.get_email_identity(EmailIdentity="example.com")["DkimAttributes"]["SigningEnabled"] is True
    assert _signed_by(server, ses, "marketing@example.com") is None
    assert _signed_by(server, ses, "support@example.com") == "example.com"

    ses.put_email_identity_dkim_attributes(EmailIdentity="marketing@example.com", SigningEnabled=True)
    assert ses.get_email_identity(EmailIdentity="marketing@example.com")["DkimAttributes"]["SigningEnabled"] is True
    assert _signed_by(server, ses, "marketing@example.com") == "example.com"


def test_an_address_cannot_turn_on_signing_its_domain_does_not_do(server):
    placed = onboard(server, "ma-mp")
    ses = make_client(server, placed["credentials"], "sesv2")
    ses.create_email_identity(EmailIdentity="quiet.example.com")
    ses.create_email_identity(EmailIdentity="team@quiet.example.com")
    ses.create_email_identity(EmailIdentity="solo@nodomain.example.org")
    ses.put_email_identity_dkim_attributes(EmailIdentity="quiet.example.com", SigningEnabled=False)
    for address in ("team@quiet.example.com", "solo@nodomain.example.org"):
        ses.put_email_identity_dkim_attributes(EmailIdentity=address, SigningEnabled=False)  # always accepted
        with pytest.raises(ClientError) as refused:
            ses.put_email_identity_dkim_attributes(EmailIdentity=address, SigningEnabled=True)
        assert refused.value.response["Error"]["Code"] == "BadRequestException"
        assert "domain" in refused.value.response["Error"]["Message"]
        assert ses.get_email_identity(EmailIdentity=address)["DkimAttributes"]["SigningEnabled"] is False
