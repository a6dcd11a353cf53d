"""Email end to end through boto3 against a real server that relays to a real SMTP server (aiosmtpd):
identity, configuration set, templates, sends through both APIs, mail received (DKIM-signed), events
in the lake with the tenant, and a bounce landing in the tenant account's suppression list."""

from __future__ import annotations

import email
import json
import time
from pathlib import Path

import dkim
import duckdb
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from botocore.exceptions import ClientError

from tests.conftest import Server, free_port, make_client, onboard


class Inbox:
    """An SMTP server that keeps what it accepts and refuses `refuse@` recipients with a 550."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802 (aiosmtpd's hook name)
        if address.startswith("refuse@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 Ok: queued as X1"

    def wait_for(self, count: int, timeout: float = 30) -> list[tuple[list[str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return list(self.messages)


@pytest.fixture
def relay():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(),
                            server_kwargs={"decode_data": False})
    controller.factory = lambda: SMTP(inbox, hostname="relay.test")  # plain SMTP, no STARTTLS offered
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def mail_server(tmp_path, database_url, moto_s3, relay):
    _inbox, port = relay
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    running = Server(data_dir, database_url, moto_s3, PINFOLD_EMAIL_RELAY=f"smtp://127.0.0.1:{port}?starttls=off",
                     PINFOLD_LAKE_ROLL_SECONDS="1", PINFOLD_EMAIL_RETRY_SECONDS="1")
    yield running
    running.stop()


def _lake(data_dir) -> list[tuple]:
    pattern = data_dir / "lake" / "events" / "**" / "*.parquet"
    try:
        return duckdb.sql(f"SELECT event_type, pinfold.tenant_id, facets FROM read_parquet('{pattern}')").fetchall()
    except duckdb.IOException:
        return []


def _wait_lake(data_dir, predicate, timeout: float = 30) -> list[tuple]:
    deadline = time.monotonic() + timeout
    rows = _lake(data_dir)
    while not predicate(rows) and time.monotonic() < deadline:
        time.sleep(0.5)
        rows = _lake(data_dir)
    return rows


def test_a_boto3_user_sends_through_both_apis_to_a_real_smtp_server(mail_server, relay):
    inbox, _port = relay
    placed = onboard(mail_server, "ma-mp")
    tenant, creds = placed["tenant"], placed["credentials"]
    account, project = tenant["account_id"], tenant["project_id"]
    ses, pinpoint = make_client(mail_server, creds, "sesv2"), make_client(mail_server, creds)

    identity = ses.create_email_identity(EmailIdentity="shop.example.com")
    assert identity["IdentityType"] == "DOMAIN" and identity["VerifiedForSendingStatus"] is False
    mail_server.cli("identities", "verify", "shop.example.com", "--account", account)
    assert ses.get_email_identity(EmailIdentity="shop.example.com")["VerifiedForSendingStatus"] is True
    with pytest.raises(ClientError) as refused:  # still in the sandbox: recipients must be verified
        ses.send_email(FromEmailAddress="news@shop.example.com", Destination={"ToAddresses": ["a@elsewhere.org"]},
                       Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}})
    assert refused.value.response["Error"]["Code"] == "MessageRejected"
    mail_server.cli("accounts", "production", account, "--max-24h", "1000", "--max-rate", "100")
    assert ses.get_account()["ProductionAccessEnabled"] is True

    ses.create_configuration_set(ConfigurationSetName="transactional")
    ses.create_email_template(TemplateName="welcome", TemplateContent={
        "Subject": "Welcome, {{name}}", "Text": "Hello {{name}}", "Html": "<p>Hello {{name}}</p>"})
    welcome = {"TemplateName": "welcome", "TemplateData": json.dumps({"name": "Ann"})}
    sent = ses.send_email(FromEmailAddress="news@shop.example.com", ConfigurationSetName="transactional",
                          Destination={"ToAddresses": ["ann@elsewhere.org"]}, Content={"Template": welcome})

    pinpoint.update_email_channel(ApplicationId=project, EmailChannelRequest={
        "Enabled": True, "FromAddress": "hello@shop.example.com",
        "Identity": f"arn:aws:ses:us-east-1:{account}:identity/shop.example.com"})
    pinpoint.create_email_template(TemplateName="promo", EmailTemplateRequest={
        "Subject": "For {{User.UserAttributes.FirstName}}", "HtmlPart": "<p>Hi {{User.UserAttributes.FirstName}}</p>",
        "DefaultSubstitutions": json.dumps({"User.UserAttributes.FirstName": "friend"})})
    pinpoint.update_endpoint(ApplicationId=project, EndpointId="bob", EndpointRequest={
        "ChannelType": "EMAIL", "Address": "bob@elsewhere.org", "User": {"UserAttributes": {"FirstName": ["Bob"]}}})
    response = pinpoint.send_messages(ApplicationId=project, MessageRequest={
        "Endpoints": {"bob": {}}, "Addresses": {"refuse@elsewhere.org": {"ChannelType": "EMAIL"}},
        "MessageConfiguration": {"EmailMessage": {}},
        "TemplateConfiguration": {"EmailTemplate": {"Name": "promo"}}})["MessageResponse"]
    assert response["EndpointResult"]["bob"]["DeliveryStatus"] == "SUCCESSFUL"
    assert response["Result"]["refuse@elsewhere.org"]["DeliveryStatus"] == "SUCCESSFUL"  # refused later, by the relay

    received = inbox.wait_for(2)
    by_recipient = {rcpts[0]: email.message_from_bytes(data) for rcpts, data in received}
    assert set(by_recipient) == {"ann@elsewhere.org", "bob@elsewhere.org"}
    assert by_recipient["ann@elsewhere.org"]["Subject"] == "Welcome, Ann"
    assert by_recipient["ann@elsewhere.org"]["X-Pinfold-Message-Id"] == sent["MessageId"]
    assert by_recipient["bob@elsewhere.org"]["Subject"] == "For Bob"
    assert by_recipient["bob@elsewhere.org"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert all(message["DKIM-Signature"] and "d=shop.example.com" in message["DKIM-Signature"]
               for message in by_recipient.values())
    public_key = ses.get_email_identity(EmailIdentity="shop.example.com")  # the record a user would publish
    assert public_key["DkimAttributes"]["SigningEnabled"] is True

    def bounced(rows):
        return any(row[0] == "_email.hardbounce" for row in rows) and sum(r[0] == "_email.delivered" for r in rows) >= 2

    rows = _wait_lake(Path(mail_server.env["PINFOLD_DATA_DIR"]), bounced)
    assert bounced(rows), rows
    assert {row[1] for row in rows} == {tenant["tenant_id"]}
    assert ses.get_suppressed_destination(EmailAddress="refuse@elsewhere.org")[
        "SuppressedDestination"]["Reason"] == "BOUNCE"
    with pytest.raises(ClientError):  # the tenant's account holds the entry; the operator's does not
        make_client(mail_server, mail_server.admin, "sesv2").get_suppressed_destination(
            EmailAddress="refuse@elsewhere.org")

    # The signature verifies against the TXT record Pinfold tells the user to publish.
    records = json.loads(mail_server.cli("identities", "records", "shop.example.com", "--account", account,
                                         "--json").stdout)
    published = {record["name"].rstrip(".") + ".": record["value"].encode() for record in records}
    for _rcpts, data in received:
        assert dkim.verify(data, dnsfunc=lambda name, timeout=5: published.get(name.decode()))
