"""SES v2 list management through boto3 and the AWS CLI against a real server: contact lists and
contacts, a send with ListManagementOptions whose mail carries the one-click unsubscribe headers,
the click that opts the contact out, and the next send to that topic skipped."""

from __future__ import annotations

import email
import json
import time
from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard
from tests.wire.test_cli import aws

SIMULATOR = "simulator.amazonses.com"
TOPICS = [{"TopicName": "weekly", "DisplayName": "Weekly news", "DefaultSubscriptionStatus": "OPT_IN"},
          {"TopicName": "offers", "DisplayName": "Offers", "DefaultSubscriptionStatus": "OPT_OUT"}]


def _mail(server, message_id: str, timeout: float = 30) -> email.message.Message | None:
    """The delivered message with this id from the server's mailbox, waiting up to `timeout`."""
    mailbox = Path(server.env["PINFOLD_DATA_DIR"]) / "mailbox"
    deadline = time.monotonic() + timeout
    while True:
        for path in mailbox.rglob(f"{message_id}*.eml"):
            return email.message_from_bytes(path.read_bytes())
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


def _ses_tenant(server) -> tuple:
    placed = onboard(server, "ma-mp")
    ses = make_client(server, placed["credentials"], "sesv2")
    ses.create_email_identity(EmailIdentity="news.example.com")
    server.cli("identities", "verify", "news.example.com", "--account", placed["tenant"]["account_id"])
    server.cli("accounts", "production", placed["tenant"]["account_id"], "--max-24h", "1000", "--max-rate", "100")
    return ses, placed


def test_contact_lists_and_contacts_through_boto3(server):
    ses, _ = _ses_tenant(server)
    ses.create_contact_list(ContactListName="news", Topics=TOPICS, Description="All our news",
                            Tags=[{"Key": "team", "Value": "growth"}])
    got = ses.get_contact_list(ContactListName="news")
    assert got["Topics"] == TOPICS and got["Tags"] == [{"Key": "team", "Value": "growth"}]
    assert got["CreatedTimestamp"].tzinfo is not None
    assert [item["ContactListName"] for item in ses.list_contact_lists()["ContactLists"]] == ["news"]
    with pytest.raises(ClientError) as second:
        ses.create_contact_list(ContactListName="more")
    assert second.value.response["Error"]["Code"] == "LimitExceededException"

    ses.create_contact(ContactListName="news", EmailAddress="ann@example.org",
                       TopicPreferences=[{"TopicName": "offers", "SubscriptionStatus": "OPT_IN"}],
                       AttributesData='{"first": "Ann"}')
    ses.create_contact(ContactListName="news", EmailAddress="bob@example.org", UnsubscribeAll=True)
    with pytest.raises(ClientError) as again:
        ses.create_contact(ContactListName="news", EmailAddress="ann@example.org")
    assert again.value.response["Error"]["Code"] == "AlreadyExistsException"
    contact = ses.get_contact(ContactListName="news", EmailAddress="ann@example.org")
    assert contact["TopicDefaultPreferences"] == [{"TopicName": "weekly", "SubscriptionStatus": "OPT_IN"}]
    assert contact["AttributesData"] == '{"first": "Ann"}' and contact["UnsubscribeAll"] is False

    offers_in = ses.list_contacts(ContactListName="news", Filter={
        "FilteredStatus": "OPT_IN", "TopicFilter": {"TopicName": "offers", "UseDefaultIfPreferenceUnavailable": True}})
    assert [c["EmailAddress"] for c in offers_in["Contacts"]] == ["ann@example.org"]
    first = ses.list_contacts(ContactListName="news", PageSize=1)
    rest = ses.list_contacts(ContactListName="news", PageSize=1, NextToken=first["NextToken"])
    assert [c["EmailAddress"] for c in first["Contacts"] + rest["Contacts"]] == ["ann@example.org", "bob@example.org"]
    assert "NextToken" not in rest

    ses.update_contact(ContactListName="news", EmailAddress="bob@example.org", UnsubscribeAll=False)
    assert ses.get_contact(ContactListName="news", EmailAddress="bob@example.org")["UnsubscribeAll"] is False
    ses.delete_contact(ContactListName="news", EmailAddress="bob@example.org")
    for call, code in ((lambda: ses.get_contact(ContactListName="news", EmailAddress="bob@example.org"),
                        "NotFoundException"),
                       (lambda: ses.create_contact(ContactListName="news", EmailAddress="x@example.org",
                                                   TopicPreferences=[{"TopicName": "golf",
                                                                      "SubscriptionStatus": "OPT_IN"}]),
                        "BadRequestException"),
                       (lambda: ses.get_contact_list(ContactListName="nope"), "NotFoundException")):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == code
    ses.update_contact_list(ContactListName="news", Topics=TOPICS[:1])
    assert ses.get_contact_list(ContactListName="news")["Topics"] == TOPICS[:1]
    ses.delete_contact_list(ContactListName="news")
    assert ses.list_contact_lists()["ContactLists"] == []


def test_tenants_of_a_shared_account_do_not_see_each_others_lists(server):
    a = make_client(server, onboard(server, "sa-mp")["credentials"], "sesv2")
    b = make_client(server, onboard(server, "sa-mp")["credentials"], "sesv2")
    a.create_contact_list(ContactListName="a-only-list")
    assert "a-only-list" not in [item["ContactListName"] for item in b.list_contact_lists()["ContactLists"]]
    with pytest.raises(ClientError) as hidden:
        b.get_contact_list(ContactListName="a-only-list")
    assert hidden.value.response["Error"]["Code"] == "NotFoundException"
    a.delete_contact_list(ContactListName="a-only-list")


def test_a_managed_send_carries_the_link_a_click_opts_out_and_the_next_send_is_skipped(server):
    ses, _ = _ses_tenant(server)
    reader = f"success+reader@{SIMULATOR}"
    other = f"success+other@{SIMULATOR}"
    ses.create_contact_list(ContactListName="news", Topics=TOPICS)
    ses.create_contact(ContactListName="news", EmailAddress=reader)

    def send(to: str) -> str:
        return ses.send_email(FromEmailAddress="hello@news.example.com", Destination={"ToAddresses": [to]},
                              ListManagementOptions={"ContactListName": "news", "TopicName": "weekly"},
                              Content={"Simple": {"Subject": {"Data": "This week"}, "Body": {
                                  "Html": {"Data": '<p><a href="{{amazonSESUnsubscribeUrl}}">Unsubscribe</a></p>'}}}}
                              )["MessageId"]

    mailed = _mail(server, send(reader))
    assert mailed is not None, server.logs()[-3000:]
    assert mailed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = mailed["List-Unsubscribe"].split(">", 1)[0].lstrip("<")
    assert url.startswith(f"{server.url}/t/u/")
    assert f'href="{url}"' in mailed.get_payload(decode=True).decode()
    clicked = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
    assert clicked.status_code == 200
    contact = ses.get_contact(ContactListName="news", EmailAddress=reader)
    assert contact["TopicPreferences"] == [{"TopicName": "weekly", "SubscriptionStatus": "OPT_OUT"}]

    skipped, delivered = send(reader), send(other)
    assert _mail(server, delivered) is not None  # sent after the skipped one, so that one is decided too
    assert _mail(server, skipped, timeout=0) is None


def test_the_aws_cli_creates_and_lists_contacts(server):
    placed = onboard(server, "ma-mp")
    creds = placed["credentials"]
    created = aws(server, creds, "sesv2", "create-contact-list", "--contact-list-name", "cli-list",
                  "--topics", json.dumps(TOPICS))
    assert created.returncode == 0, created.stderr
    added = aws(server, creds, "sesv2", "create-contact", "--contact-list-name", "cli-list",
                "--email-address", "cli@example.org", "--unsubscribe-all")
    assert added.returncode == 0, added.stderr
    listed = aws(server, creds, "sesv2", "list-contacts", "--contact-list-name", "cli-list",
                 "--filter", "FilteredStatus=OPT_OUT")
    assert listed.returncode == 0, listed.stderr
    assert [c["EmailAddress"] for c in json.loads(listed.stdout)["Contacts"]] == ["cli@example.org"]
    missing = aws(server, creds, "sesv2", "get-contact-list", "--contact-list-name", "nope")
    assert missing.returncode != 0 and "NotFoundException" in missing.stderr
