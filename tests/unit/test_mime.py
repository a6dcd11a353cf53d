"""The message builder, Raw content preparation and DKIM signing, read back with independent parsers
(the standard library's email package and dkimpy)."""

from __future__ import annotations

import base64
import binascii
import email
import email.utils
import json
import re
from email import policy

import dkim as dkimpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinfold.core.errors import InvalidInput
from pinfold.email import mime
from pinfold.email.mime import build_message, encode_header, prepare_raw, quoted_printable
from pinfold.email.rules import dkim


def build(**overrides) -> bytes:
    fields = dict(message_id="0100-abc", mail_domain="mail.pinfold.test", from_addr="Sender <s@pinfold.test>",
                  to=["a@example.test"], cc=[], reply_to=[], subject="Hello", html=None, text="Hi there.\n")
    return build_message(**{**fields, **overrides})


def parse(data: bytes) -> email.message.EmailMessage:
    """Parse as a mail reader would, after its transport turned CRLF into local line endings."""
    return email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=policy.default)


def assert_wire_clean(data: bytes) -> None:
    """CRLF everywhere, no line over RFC 5322's 998 characters, 7-bit clean."""
    assert data.count(b"\n") == data.count(b"\r\n") and data.count(b"\r") == data.count(b"\r\n")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert data.isascii()
    assert data.endswith(b"\r\n")


def test_headers_and_a_plain_text_body():
    data = build(cc=["c@example.test"], reply_to=["r@example.test"])
    message = parse(data)
    assert message["Message-ID"] == "<0100-abc@mail.pinfold.test>"
    assert message["X-Pinfold-Message-Id"] == "0100-abc"
    assert message["MIME-Version"] == "1.0"
    assert message["To"] == "a@example.test" and message["Cc"] == "c@example.test"
    assert message["Reply-To"] == "r@example.test"
    assert email.utils.parsedate_to_datetime(message["Date"]).utcoffset().total_seconds() == 0
    assert message.get_content_type() == "text/plain" and message["Content-Transfer-Encoding"] == "7bit"
    assert message.get_content() == "Hi there.\n"
    assert "Bcc" not in message and "List-Unsubscribe" not in message
    assert_wire_clean(data)


def test_both_bodies_make_multipart_alternative():
    html = "<p>Hi <b>there</b></p>"
    message = parse(build(html=html, text="Hi there"))
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    assert (plain.get_content_type(), plain.get_content()) == ("text/plain", "Hi there\n")
    assert (rich.get_content_type(), rich.get_content()) == ("text/html", html + "\n")
    assert parse(build(html=html, text=None)).get_content_type() == "text/html"


@pytest.mark.parametrize(("body", "encoding"), [
    ("plain ascii\nsecond line\n", "7bit"),
    ("Grüße aus Köln, café crème.\n", "quoted-printable"),
    ("<p>" + "x" * 3000 + "</p>\n", "quoted-printable"),  # ASCII, but a line too long for 7bit
    ("日本語のメッセージです。よろしくお願いします。\n", "base64"),
])
def test_transfer_encoding_is_chosen_by_content_and_round_trips(body, encoding):
    data = build(text=body)
    message = parse(data)
    assert message["Content-Transfer-Encoding"] == encoding
    assert message.get_content().replace("\r\n", "\n") == body  # base64 text is canonical CRLF
    assert 'charset="utf-8"' in message["Content-Type"].lower() or "charset=utf-8" in message["Content-Type"].lower()
    assert_wire_clean(data)


def test_line_endings_are_normalised_to_crlf():
    data = build(text="one\rtwo\nthree\r\nfour")
    assert_wire_clean(data)
    assert parse(data).get_content() == "one\ntwo\nthree\nfour\n"


def test_non_ascii_headers_use_encoded_words():
    subject = "Ünïcödé subject " * 8 + "— 日本"
    data = build(subject=subject, from_addr="Jürgen Müller <j@pinfold.test>", to=["Zoë <z@bücher.test>"])
    message = parse(data)
    assert message["Subject"] == subject.strip()
    assert message["From"].addresses[0].display_name == "Jürgen Müller"
    assert message["To"].addresses[0].domain == "xn--bcher-kva.test"
    for word in re.findall(rb"=\?UTF-8\?B\?[^?]*\?=", data):
        assert len(word) <= 75
    assert_wire_clean(data)


def test_encode_header_keeps_short_ascii_and_splits_long_values_on_character_boundaries():
    assert encode_header("plain") == "plain"
    encoded = encode_header("é" * 100)
    words = encoded.split("\r\n ")
    assert len(words) > 1
    assert "".join(base64.b64decode(w[10:-2]).decode() for w in words) == "é" * 100


def test_many_recipients_fold_the_address_header():
    recipients = [f"person{i}@example.test" for i in range(60)]
    message = parse(data := build(to=recipients))
    assert [a.addr_spec for a in message["To"].addresses] == recipients
    assert_wire_clean(data)


def test_one_click_unsubscribe_headers():
    message = parse(build(list_unsubscribe=("https://u.pinfold.test/x?t=1", "unsub@pinfold.test")))
    assert message["List-Unsubscribe"] == "<https://u.pinfold.test/x?t=1>, <mailto:unsub@pinfold.test>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_custom_headers_are_added_and_checked():
    message = parse(build(headers=[("X-Campaign", "spring"), ("List-Unsubscribe", "<mailto:u@x.test>")]))
    assert message["X-Campaign"] == "spring" and message["List-Unsubscribe"] == "<mailto:u@x.test>"
    with pytest.raises(InvalidInput):
        build(headers=[("X-Evil", "a\r\nBcc: victim@example.test")])
    with pytest.raises(InvalidInput):
        build(headers=[("Message-ID", "<mine@x.test>")])
    with pytest.raises(InvalidInput):
        build(headers=[("Bad:Name", "x")])
    with pytest.raises(InvalidInput):
        build(headers=[("List-Unsubscribe", "<mailto:u@x.test>")], list_unsubscribe=("https://u", "u@x"))
    with pytest.raises(InvalidInput):
        build(to=["a@example.test\r\nBcc: b@example.test"])
    # A subject is one line; breaks inside it become spaces rather than new headers.
    assert parse(build(subject="one\r\nBcc: x@y.test")).get("Bcc") is None


def test_attachments_regular_and_inline():
    pdf = bytes(range(256)) * 10
    data = build(html='<img src="cid:logo1">', text="see attached", attachments=[
        {"RawContent": base64.b64encode(pdf).decode(), "FileName": "report.pdf"},  # base64 text, as in JSON
        {"RawContent": b"\x89PNG...", "FileName": "logo.png", "ContentDisposition": "INLINE", "ContentId": "logo1"},
        {"RawContent": b"a,b\n1,2\n", "FileName": "données.csv", "ContentTransferEncoding": "SEVEN_BIT",
         "ContentType": "text/csv", "ContentDescription": "the data"},
    ])
    message = parse(data)
    assert message.get_content_type() == "multipart/mixed"
    related, report, csv = message.iter_parts()
    assert related.get_content_type() == "multipart/related"
    alternative, logo = related.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert logo["Content-ID"] == "<logo1>" and logo.get_content_disposition() == "inline"
    assert logo.get_content() == b"\x89PNG..."
    assert report.get_filename() == "report.pdf" and report.get_content_type() == "application/pdf"
    assert report.get_content() == pdf
    assert csv.get_filename() == "données.csv" and csv["Content-Transfer-Encoding"] == "7bit"
    assert csv.get_content() == "a,b\n1,2\n" and csv["Content-Description"] == "the data"
    assert_wire_clean(data)
    with pytest.raises(InvalidInput):
        build(attachments=[{"RawContent": "not base64!", "FileName": "x.bin"}])


def test_stored_attachments_are_json_ready_and_checked_up_front():
    pdf = bytes(range(256))
    stored = mime.stored_attachments([{"RawContent": pdf, "FileName": "a.pdf", "ContentId": "c1"}])
    assert json.loads(json.dumps(stored)) == [
        {"RawContent": base64.b64encode(pdf).decode(), "FileName": "a.pdf", "ContentId": "c1"}]
    assert parse(build(attachments=stored)).get_payload()[1].get_content() == pdf
    for bad in ({"RawContent": b"x"}, {"FileName": "a.txt"}, {"RawContent": b"x", "FileName": "a\nB: c"},
                {"RawContent": b"x", "FileName": "a.txt", "ContentType": "text/plain\r\nX: y"}):
        with pytest.raises(InvalidInput):
            mime.stored_attachments([bad])


def test_prepare_raw_strips_bcc_adds_ids_and_returns_the_envelope():
    raw = (b"From: Sender <s@pinfold.test>\n"
           b"To: a@example.test, B <b@example.test>\n"
           b"Cc: c@example.test\n"
           b"Bcc: hidden@example.test,\n\tother@example.test\n"
           b"X-Pinfold-Message-Id: someone-elses-id\n"
           b"Subject: raw\n\nbody\n")
    data, sender, recipients = prepare_raw(raw, "0100-raw", "mail.pinfold.test")
    message = parse(data)
    assert sender == "s@pinfold.test"
    assert recipients == ["a@example.test", "b@example.test", "c@example.test", "hidden@example.test",
                          "other@example.test"]
    assert b"hidden@" not in data and b"other@" not in data and "Bcc" not in message
    assert message.get_all("X-Pinfold-Message-Id") == ["0100-raw"]
    assert message["Message-ID"] == "<0100-raw@mail.pinfold.test>" and message["Date"]
    assert message.get_content() == "body\n"
    assert data.count(b"\n") == data.count(b"\r\n")


def test_prepare_raw_keeps_an_existing_message_id_and_date():
    raw = b"From: s@pinfold.test\r\nTo: a@example.test\r\nMessage-ID: <own@x.test>\r\nDate: Mon, 1 Jan 2024 " \
          b"00:00:00 +0000\r\n\r\nbody\r\n"
    data, _, recipients = prepare_raw(raw, "0100-raw", "mail.pinfold.test")
    message = parse(data)
    assert message.get_all("Message-ID") == ["<own@x.test>"]
    assert data.count(b"\r\nDate: ") == 1 and b"\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n" in data
    assert recipients == ["a@example.test"]
    with pytest.raises(InvalidInput):
        prepare_raw(b"From: s@pinfold.test\r\nthis is not a header\r\n\r\nbody", "x", "y.test")


# -- DKIM ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key() -> tuple[str, str]:
    return dkim.generate_key()


def verify(data: bytes, public_b64: str, domain: str = "pinfold.test", selector: str = "s1") -> bool:
    record = dkim.dns_records(domain, selector, public_b64)[0]

    def dns(name, timeout=5):
        return record["value"].encode() if name == f"{record['name']}.".encode() else None

    return dkimpy.verify(data, dnsfunc=dns)


def test_dkim_signature_verifies_with_dkimpy_and_detects_tampering(key):
    private_pem, public_b64 = key
    data = build(html="<p>Hi   there </p>\n\n\n", text="trailing spaces   \n\ttabs\t\n",
                 list_unsubscribe=("https://u.pinfold.test/1", "u@pinfold.test"), cc=["c@example.test"])
    signed = dkim.sign(data, domain="pinfold.test", selector="s1", private_pem=private_pem)
    assert signed.endswith(data) and signed.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
    tags = parse(signed)["DKIM-Signature"]
    signed_names = re.search(r"h=([^;]+);", tags)[1].split(":")
    for name in ("from", "to", "cc", "subject", "date", "message-id", "mime-version", "content-type",
                 "list-unsubscribe", "list-unsubscribe-post"):
        assert name in signed_names
    assert signed_names.count("from") == 2  # oversigned
    assert verify(signed, public_b64)
    # Relaxed canonicalization tolerates whitespace changes; content changes break the signature.
    assert verify(signed.replace(b"Subject: Hello", b"Subject:   Hello  "), public_b64)
    assert not verify(signed.replace(b"Subject: Hello", b"Subject: Hell0"), public_b64)
    assert not verify(signed.replace(b"tabs", b"tabz"), public_b64)
    assert not verify(signed.replace(b"\r\n\r\n", b"\r\nFrom: evil@x.test\r\n\r\n", 1), public_b64)
    assert not verify(signed, dkim.generate_key()[1])


def test_dkim_signs_raw_messages_and_empty_bodies(key):
    private_pem, public_b64 = key
    for raw in (b"From: s@pinfold.test\r\nTo: a@example.test\r\nSubject: x\r\n\r\n",
                b"From: s@pinfold.test\r\nTo: a@example.test\r\nTo: b@example.test\r\n\r\nline\r\n\r\n\r\n"):
        data, _, _ = prepare_raw(raw, "id1", "pinfold.test")
        assert verify(dkim.sign(data, domain="pinfold.test", selector="s1", private_pem=private_pem), public_b64)


def test_dkim_rejects_bad_input(key):
    private_pem, _ = key
    with pytest.raises(InvalidInput):
        dkim.sign(b"To: a@example.test\r\n\r\nbody\r\n", domain="pinfold.test", selector="s1",
                  private_pem=private_pem)
    with pytest.raises(InvalidInput):
        dkim.sign(build(), domain="pinfold.test; x=y", selector="s1", private_pem=private_pem)
    with pytest.raises(InvalidInput):
        dkim.dns_records("pinfold.test", "bad selector", "AAAA")


def test_dns_record_publishes_the_key_in_255_byte_strings(key):
    _, public_b64 = key
    record, = dkim.dns_records("Pinfold.Test.", "s1", public_b64)
    assert record["name"] == "s1._domainkey.pinfold.test" and record["type"] == "TXT"
    assert record["value"] == f"v=DKIM1; k=rsa; p={public_b64}"
    assert "".join(record["strings"]) == record["value"] and max(map(len, record["strings"])) <= 255
    assert dkim.record_matches(" ".join(record["strings"]).replace("p=", "p= "), public_b64)
    assert not dkim.record_matches(record["value"], dkim.generate_key()[1])


_TEXT_LINES = st.lists(st.text(alphabet=st.sampled_from("ab =<>/\"\t.é\x01"), max_size=400), min_size=1, max_size=6)


@given(_TEXT_LINES)
@settings(max_examples=300, deadline=None)
def test_quoted_printable_round_trips_in_lines_of_at_most_76(lines):
    data = "\r\n".join(lines).encode() + b"\r\n"
    encoded = quoted_printable(data)
    assert binascii.a2b_qp(encoded) == data
    assert max(map(len, encoded.split(b"\r\n"))) <= 76
    assert not encoded.translate(None, bytes(range(32, 127)) + b"\t\r\n")  # 7-bit, no controls
    for line in encoded.split(b"\r\n"):
        assert not line.endswith((b" ", b"\t"))  # white space ending a line would be lost in transit


@pytest.mark.parametrize("line", [
    "x" * 74 + "=" + "y" * 200,  # an escape would straddle the first soft break at each offset
    "x" * 73 + "=" + "y" * 200,
    "x" * 75 + "=" + "y" * 200,
    "=" * 300,
    "x" * 75 + "=",  # short enough raw, too long escaped
])
def test_quoted_printable_never_cuts_an_escape(line):
    data = line.encode() + b"\r\n"
    encoded = quoted_printable(data)
    assert binascii.a2b_qp(encoded) == data
    assert max(map(len, encoded.split(b"\r\n"))) <= 76


def test_ascii_html_with_long_lines_is_encoded_without_the_byte_at_a_time_encoder(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("binascii.b2a_qp was used for plain ASCII text")

    monkeypatch.setattr(mime.binascii, "b2a_qp", refuse)
    html = ('<p class="intro">Hello, <a href="https://example.com/?a=1&b=2">shop</a> now.</p>' * 60 + "\r\n").encode()
    encoded = quoted_printable(html)
    assert binascii.a2b_qp(encoded) == html and b"=3D" in encoded
