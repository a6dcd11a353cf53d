"""SES v2 attachments through boto3 against a real server: boto3 sends RawContent as base64, the
server takes it as bytes, and the delivered message (the mailbox simulator's .eml) carries each
attachment with its name, type, disposition, Content-ID, description and exact bytes."""

from __future__ import annotations

import email
import email.policy
import json
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard

SUCCESS = "success@simulator.amazonses.com"
PDF = b"%PDF-1.4\n\x00\x01\x02\xff binary \r\n tail\n" * 40
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
NOTES = "Line one\nLine two, caf\u00e9\n".encode()


def _delivered(server, message_id: str, timeout: float = 30) -> email.message.EmailMessage:
    mailbox = Path(server.env["PINFOLD_DATA_DIR"]) / "mailbox"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in mailbox.rglob(f"{message_id}*.eml"):
            return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        time.sleep(0.2)
    raise AssertionError(f"message {message_id} was not delivered within {timeout} s")


def _sender(server):
    placed = onboard(server, "ma-mp")
    ses = make_client(server, placed["credentials"], "sesv2")
    ses.create_email_identity(EmailIdentity="files.example.com")
    server.cli("identities", "verify", "files.example.com", "--account", placed["tenant"]["account_id"])
    return ses


def _parts(message) -> dict[str, email.message.EmailMessage]:
    return {part.get_filename(): part for part in message.walk() if part.get_filename()}


ATTACHMENTS = [
    {"RawContent": PDF, "FileName": "report.pdf", "ContentType": "application/pdf",
     "ContentDescription": "Quarterly report", "ContentDisposition": "ATTACHMENT"},
    {"RawContent": PNG, "FileName": "logo.png", "ContentDisposition": "INLINE", "ContentId": "logo1"},
    {"RawContent": NOTES, "FileName": "notes.txt", "ContentType": "text/plain",
     "ContentTransferEncoding": "QUOTED_PRINTABLE"},
]


def test_send_email_with_attachments_delivers_them_in_the_mime(server):
    ses = _sender(server)
    sent = ses.send_email(FromEmailAddress="docs@files.example.com", Destination={"ToAddresses": [SUCCESS]},
                          Content={"Simple": {"Subject": {"Data": "Your files"}, "Body": {
                              "Html": {"Data": '<p>See <img src="cid:logo1"></p>'}, "Text": {"Data": "See attached"}},
                              "Attachments": ATTACHMENTS}})
    message = _delivered(server, sent["MessageId"])
    assert message.get_content_type() == "multipart/mixed"
    parts = _parts(message)
    assert set(parts) == {"report.pdf", "logo.png", "notes.txt"}
    report, logo, notes = parts["report.pdf"], parts["logo.png"], parts["notes.txt"]
    assert report.get_content_type() == "application/pdf" and report.get_content_disposition() == "attachment"
    assert report["Content-Description"] == "Quarterly report" and report.get_payload(decode=True) == PDF
    assert logo.get_content_type() == "image/png" and logo.get_content_disposition() == "inline"
    assert logo["Content-ID"] == "<logo1>" and logo.get_payload(decode=True) == PNG
    assert notes["Content-Transfer-Encoding"] == "quoted-printable"
    assert notes.get_payload(decode=True).replace(b"\r\n", b"\n") == NOTES
    # The inline image sits beside the HTML it illustrates; the regular attachments beside both.
    related = next(part for part in message.walk() if part.get_content_type() == "multipart/related")
    assert [p.get_content_type() for p in related.iter_parts()] == ["multipart/alternative", "image/png"]


def test_send_bulk_email_with_template_attachments_gives_every_recipient_the_file(server):
    ses = _sender(server)
    ses.create_email_template(TemplateName="invoice", TemplateContent={
        "Subject": "Invoice for {{name}}", "Text": "Hello {{name}}, your invoice is attached."})
    result = ses.send_bulk_email(
        FromEmailAddress="billing@files.example.com",
        DefaultContent={"Template": {"TemplateName": "invoice", "TemplateData": json.dumps({"name": "you"}),
                                     "Attachments": [{"RawContent": PDF, "FileName": "invoice.pdf"}]}},
        BulkEmailEntries=[
            {"Destination": {"ToAddresses": [f"success+{n}@simulator.amazonses.com"]},
             "ReplacementEmailContent": {"ReplacementTemplate": {
                 "ReplacementTemplateData": json.dumps({"name": n})}}} for n in ("ann", "bob")])
    statuses = result["BulkEmailEntryResults"]
    assert [entry["Status"] for entry in statuses] == ["SUCCESS", "SUCCESS"]
    for entry, name in zip(statuses, ("ann", "bob"), strict=True):
        message = _delivered(server, entry["MessageId"])
        assert message["Subject"] == f"Invoice for {name}"
        [invoice] = _parts(message).values()
        assert invoice.get_filename() == "invoice.pdf" and invoice.get_content_type() == "application/pdf"
        assert invoice.get_content_disposition() == "attachment" and invoice.get_payload(decode=True) == PDF


def test_a_malformed_attachment_is_refused_when_sent_not_when_delivered(server):
    ses = _sender(server)
    with pytest.raises(ClientError) as refused:
        ses.send_email(FromEmailAddress="docs@files.example.com", Destination={"ToAddresses": [SUCCESS]},
                       Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}},
                                           "Attachments": [{"RawContent": b"x", "FileName": "a\r\nBcc: b"}]}})
    assert refused.value.response["Error"]["Code"] == "BadRequestException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
