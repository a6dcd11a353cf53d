"""Bounce and complaint parsing: Postfix and Exchange DSNs, ARF reports, plain-text bounces, garbage."""

from __future__ import annotations

import os
import time

from pinfold.email.adapters.base import Feedback
from pinfold.email.reports import parse

MID = "0100018f-a1b2c3d4-77aa-4c1e-9e51-5b0f3c6d2e10-000000"
VERP = f"bounce+{MID}@feedback.pinfold.test"


def crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def original(*, pinfold_id: str | None = MID, message_id: str = MID, to: str = "nobody@example.com") -> str:
    extra = f"X-Pinfold-Message-Id: {pinfold_id}\n" if pinfold_id else ""
    return (f"Received: from mail.pinfold.test (mail.pinfold.test [198.51.100.4])\n"
            f"\tby mx.example.com with ESMTPS id 4VfQ2x; Tue, 14 May 2024 10:00:00 +0000\n"
            f"Message-ID: <{message_id}@mail.pinfold.test>\n{extra}"
            f"From: Shop <news@shop.example>\nTo: {to}\nSubject: Your May offers\n"
            f"Date: Tue, 14 May 2024 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain\n\n"
            f"Hello there, this body should never matter.\n")


def postfix_dsn(recipients: str, *, returned: str | None = None, returned_type: str = "message/rfc822",
                report_type: str = "message/delivery-status") -> bytes:
    returned = original() if returned is None else returned
    return crlf(f"""Return-Path: <>
Received: by mx.pinfold.test (Postfix) id 3F2A1C0001; Tue, 14 May 2024 10:00:01 +0000 (UTC)
Date: Tue, 14 May 2024 10:00:01 +0000 (UTC)
From: MAILER-DAEMON@mx.pinfold.test (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {VERP}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="3F2A1C0001.1715680801/mx.pinfold.test"
Message-Id: <20240514100001.3F2A1C0001@mx.pinfold.test>

This is a MIME-encapsulated message.

--3F2A1C0001.1715680801/mx.pinfold.test
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.pinfold.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<nobody@example.com>: host mx.example.com[192.0.2.10] said: 550 5.1.1
    <nobody@example.com>: Recipient address rejected: User unknown (in reply to
    RCPT TO command)

--3F2A1C0001.1715680801/mx.pinfold.test
Content-Description: Delivery report
Content-Type: {report_type}

Reporting-MTA: dns; mx.pinfold.test
X-Postfix-Queue-ID: 3F2A1C0001
X-Postfix-Sender: rfc822; {VERP}
Arrival-Date: Tue, 14 May 2024 10:00:00 +0000 (UTC)

{recipients.strip()}

--3F2A1C0001.1715680801/mx.pinfold.test
Content-Description: Undelivered Message
Content-Type: {returned_type}

{returned}
--3F2A1C0001.1715680801/mx.pinfold.test--
""")


USER_UNKNOWN = """Final-Recipient: rfc822; nobody@example.com
Original-Recipient: rfc822;nobody@example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.com>: Recipient address
    rejected: User unknown
"""


def test_postfix_dsn_is_one_permanent_bounce_with_the_original_id():
    [feedback] = parse(postfix_dsn(USER_UNKNOWN))
    assert feedback == Feedback(
        kind="bounce", recipients=("nobody@example.com",), message_id=MID, bounce_type="Permanent",
        status="5.1.1", detail="smtp; 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown",
        reporting_mta="mx.pinfold.test")


def test_original_recipient_wins_over_final_recipient_after_forwarding():
    blocks = USER_UNKNOWN.replace("Original-Recipient: rfc822;nobody@example.com",
                                  "Original-Recipient: rfc822;alias@example.com")
    [feedback] = parse(postfix_dsn(blocks))
    assert feedback.recipients == ("alias@example.com",)


def test_multi_recipient_dsn_reports_only_failed_and_delayed_recipients():
    blocks = """Final-Recipient: rfc822; full@example.com
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full

Final-Recipient: rfc822; ok@example.com
Action: delivered
Status: 2.0.0

Final-Recipient: rfc822; list@example.com
Action: expanded
Status: 2.0.0

Final-Recipient: rfc822; relay@legacy.example
Action: relayed
Status: 2.0.0

Final-Recipient: rfc822; greylisted@example.net
Action: failed
Status: 4.7.1
Diagnostic-Code: smtp; 450 4.7.1 Try again later

Final-Recipient: rfc822; slow@example.org
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.org[192.0.2.9]:25: Connection timed out
"""
    found = parse(postfix_dsn(blocks))
    assert [(f.recipients, f.bounce_type, f.status) for f in found] == [
        (("full@example.com",), "Permanent", "5.2.2"),
        (("greylisted@example.net",), "Transient", "4.7.1"),
        (("slow@example.org",), "Transient", "4.4.1"),
    ]
    assert {f.message_id for f in found} == {MID}
    assert found[2].detail.startswith("X-Postfix; connect to mx.example.org")


def test_delayed_dsn_is_a_transient_bounce():
    blocks = """Final-Recipient: rfc822; later@example.org
Original-Recipient: rfc822;later@example.org
Action: delayed (retrying)
Status: 4.4.7
Will-Retry-Until: Fri, 17 May 2024 10:00:00 +0000
Diagnostic-Code: smtp; 421 4.4.7 Service temporarily unavailable
"""
    [feedback] = parse(postfix_dsn(blocks))
    assert (feedback.bounce_type, feedback.status, feedback.recipients) == ("Transient", "4.4.7",
                                                                            ("later@example.org",))


def test_failed_without_status_takes_the_code_from_the_diagnostic():
    blocks = """Final-Recipient: rfc822; x@example.com
Action: failed
Diagnostic-Code: smtp; 554 5.7.1 Rejected by policy
"""
    [feedback] = parse(postfix_dsn(blocks))
    assert (feedback.bounce_type, feedback.status) == ("Permanent", "5.7.1")


EXCHANGE_NDR = f"""Received: from BN8PR12MB3456.namprd12.prod.outlook.com (2603:10b6:408:6e::20)
 by BN8PR12MB3456.namprd12.prod.outlook.com with mapi; Tue, 14 May 2024 10:00:02 +0000
From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.com>
To: <{VERP}>
Date: Tue, 14 May 2024 10:00:02 +0000
Subject: Undeliverable: Your May offers
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="_000_c2b1e4a0d9f14e5fa4d8a1d9f6b3c201BN8PR12MB3456namp_"
MIME-Version: 1.0
Message-ID: <c2b1e4a0-d9f1-4e5f-a4d8-a1d9f6b3c201@BN8PR12MB3456.namprd12.prod.outlook.com>
Auto-Submitted: auto-replied

--_000_c2b1e4a0d9f14e5fa4d8a1d9f6b3c201BN8PR12MB3456namp_
Content-Type: multipart/alternative;
\tboundary="_002_alt_"

--_002_alt_
Content-Type: text/plain; charset="us-ascii"

Your message to ghost@contoso.com couldn't be delivered.
ghost wasn't found at contoso.com.

--_002_alt_
Content-Type: text/html; charset="us-ascii"

<html><body><p>Your message to ghost@contoso.com couldn't be delivered.</p></body></html>

--_002_alt_--

--_000_c2b1e4a0d9f14e5fa4d8a1d9f6b3c201BN8PR12MB3456namp_
Content-Type: message/delivery-status

Reporting-MTA: dns;BN8PR12MB3456.namprd12.prod.outlook.com
Received-From-MTA: dns;mail.pinfold.test
Arrival-Date: Tue, 14 May 2024 10:00:01 +0000

Final-Recipient: rfc822;ghost@contoso.com
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ghost@contoso.com
 not found by SMTP address lookup
Remote-MTA: dns;BN8PR12MB3456.namprd12.prod.outlook.com
X-Display-Name: ghost

--_000_c2b1e4a0d9f14e5fa4d8a1d9f6b3c201BN8PR12MB3456namp_
Content-Type: text/rfc822-headers

Received: from mail.pinfold.test (198.51.100.4) by BN8PR12MB3456.namprd12.prod.outlook.com
Message-ID: <{MID}@mail.pinfold.test>
From: Shop <news@shop.example>
To: ghost@contoso.com
Subject: Your May offers

--_000_c2b1e4a0d9f14e5fa4d8a1d9f6b3c201BN8PR12MB3456namp_--
"""


def test_exchange_ndr_with_headers_only_uses_the_message_id_local_part():
    [feedback] = parse(crlf(EXCHANGE_NDR))
    assert feedback.recipients == ("ghost@contoso.com",)
    assert (feedback.bounce_type, feedback.status) == ("Permanent", "5.1.10")
    assert feedback.message_id == MID
    assert feedback.reporting_mta == "BN8PR12MB3456.namprd12.prod.outlook.com"
    assert "RESOLVER.ADR.RecipientNotFound" in feedback.detail and "\n" not in feedback.detail


def test_x_pinfold_message_id_wins_over_the_message_id_header_and_the_verp_address():
    data = postfix_dsn(USER_UNKNOWN, returned=original(pinfold_id="explicit-1", message_id="from-header-2"))
    assert parse(data, ["bounce+verp-3@feedback.pinfold.test"])[0].message_id == "explicit-1"
    data = postfix_dsn(USER_UNKNOWN, returned=original(pinfold_id=None, message_id="from-header-2"))
    assert parse(data, ["bounce+verp-3@feedback.pinfold.test"])[0].message_id == "from-header-2"


def test_the_verp_envelope_recipient_is_the_fallback_when_the_original_is_missing():
    data = postfix_dsn(USER_UNKNOWN, returned="", returned_type="text/plain")
    assert parse(data)[0].message_id is None
    assert parse(data, ["<bounce+verp-3@feedback.pinfold.test>"])[0].message_id == "verp-3"


def test_a_foreign_message_id_is_not_taken_for_ours():
    returned = original(pinfold_id=None, message_id="CAF=x+y/z").replace("@mail.pinfold.test", "@mail.gmail.com")
    assert parse(postfix_dsn(USER_UNKNOWN, returned=returned))[0].message_id is None


def test_global_delivery_status_is_read_like_a_dsn():
    blocks = "Final-Recipient: utf-8; josé@example.com\nAction: failed\nStatus: 5.1.1\n"
    [feedback] = parse(postfix_dsn(blocks, report_type="message/global-delivery-status"))
    assert (feedback.recipients, feedback.status, feedback.reporting_mta) == (("josé@example.com",), "5.1.1",
                                                                              "mx.pinfold.test")


def arf(fields: str, *, returned: str | None = None) -> bytes:
    returned = original(to="reader@gmail.example") if returned is None else returned
    return crlf(f"""From: Feedback Loop <fbl-noreply@feedback.mail.example>
To: fbl@feedback.pinfold.test
Subject: Abuse report for message sent to reader@gmail.example
Date: Wed, 15 May 2024 08:12:44 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
\tboundary="arf-boundary-7f3c"

--arf-boundary-7f3c
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
198.51.100.4 on Tue, 14 May 2024 10:00:00 +0000. The recipient marked it as spam.

--arf-boundary-7f3c
Content-Type: message/feedback-report

{fields.strip()}

--arf-boundary-7f3c
Content-Type: message/rfc822
Content-Disposition: inline

{returned}
--arf-boundary-7f3c--
""")


GMAIL_FIELDS = f"""Feedback-Type: abuse
User-Agent: GmailFBL/2.0
Version: 1
Original-Mail-From: <{VERP}>
Original-Rcpt-To: <reader@gmail.example>
Arrival-Date: Tue, 14 May 2024 10:00:00 +0000
Reporting-MTA: dns; feedback.mail.example
Source-IP: 198.51.100.4
Authentication-Results: feedback.mail.example; dkim=pass header.d=shop.example
Reported-Domain: shop.example
"""


def test_arf_report_is_one_complaint():
    [feedback] = parse(arf(GMAIL_FIELDS))
    assert feedback == Feedback(kind="complaint", recipients=("reader@gmail.example",), message_id=MID,
                                detail="abuse", feedback_type="abuse", reporting_mta="feedback.mail.example")


def test_arf_without_original_rcpt_to_uses_the_original_to_and_user_agent():
    fields = "Feedback-Type: fraud\nUser-Agent: ExampleFBL/1.0\nVersion: 1\n"
    [feedback] = parse(arf(fields, returned=original(to="A Reader <a.reader@example.net>, b@example.net")))
    assert feedback.recipients == ("a.reader@example.net", "b@example.net")
    assert (feedback.feedback_type, feedback.reporting_mta) == ("fraud", "ExampleFBL/1.0")


def test_arf_with_several_rcpt_to_fields_and_redacted_original():
    fields = ("Feedback-Type: Abuse\nUser-Agent: X/1\nVersion: 1\nOriginal-Rcpt-To: one@example.net\n"
              "Original-Rcpt-To: <two@example.net>\nOriginal-Rcpt-To: ONE@example.net\n")
    [feedback] = parse(arf(fields, returned="Subject: [redacted]\n\nredacted\n"), [VERP])
    assert feedback.recipients == ("one@example.net", "two@example.net")
    assert (feedback.feedback_type, feedback.message_id) == ("abuse", MID)


QMAIL_BOUNCE = f"""Return-Path: <>
From: MAILER-DAEMON@mail.example.org
To: {VERP}
Subject: failure notice
Date: 14 May 2024 10:00:03 -0000

Hi. This is the qmail-send program at mail.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<gone@example.org>:
192.0.2.7 does not like recipient.
Remote host said: 550 sorry, no mailbox here by that name (#5.1.1)
Giving up on 192.0.2.7.

--- Below this line is a copy of the message.

{original(to="gone@example.org", message_id="inline-id-9", pinfold_id=None)}"""


def test_qmail_style_plain_bounce():
    [feedback] = parse(crlf(QMAIL_BOUNCE), [VERP])
    assert feedback.kind == "bounce" and feedback.recipients == ("gone@example.org",)
    assert (feedback.bounce_type, feedback.message_id) == ("Permanent", "inline-id-9")
    assert feedback.detail == "Remote host said: 550 sorry, no mailbox here by that name (#5.1.1)"


def test_plain_bounce_with_attached_original_and_a_temporary_reply():
    data = crlf(f"""From: Mail Delivery System <Mailer-Daemon@relay.example.com>
To: news@shop.example
Subject: Mail delivery failed: returning message to sender
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain

A message that you sent could not be delivered to one or more of its
recipients. The following address(es) failed:

  full@example.com
    host mx.example.com [192.0.2.8]
    SMTP error from remote mail server after RCPT TO:<full@example.com>:
    452 4.2.2 Mailbox full

--b1
Content-Type: message/rfc822

{original(to="full@example.com, other@example.com")}
--b1--
""")
    [feedback] = parse(data)
    assert (feedback.recipients, feedback.bounce_type, feedback.status) == (("full@example.com",), "Transient",
                                                                            "4.2.2")
    assert feedback.message_id == MID


def test_mail_that_is_not_a_bounce_yields_nothing():
    out_of_office = crlf(f"""From: Reader <reader@example.net>
To: {VERP}
Subject: Automatic reply: Your May offers
Auto-Submitted: auto-replied

I am out of the office until 20 May. For urgent matters call
555 1234 or write to deputy@example.net (#5.1.1 is my room).
""")
    assert parse(out_of_office, [VERP]) == []
    no_reply_line = crlf("From: MAILER-DAEMON@x.example\nSubject: Undeliverable\n\nSomething went wrong.\n")
    assert parse(no_reply_line) == []
    plain = crlf("From: a@example.com\nTo: b@example.com\nSubject: hi\n\n550 reasons to smile\n")
    assert parse(plain) == []


def test_garbage_never_raises():
    samples = [b"", b"\x00\xff" * 5000, os.urandom(100_000), b"Content-Type: multipart/report; boundary=\n\n--",
               b"Content-Type: message/delivery-status\n\nAction: failed\nFinal-Recipient: nonsense\n",
               b"Content-Type: message/feedback-report\n\n\n", "not bytes at all: 550 5.1.1 <x@y.z>"]
    for sample in samples:
        assert parse(sample) == []


def test_hostile_nesting_returns_nothing():
    depth = 5000
    opening = "".join(f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n" for i in range(depth))
    assert parse(opening.encode() + b"\nx\n") == []


def test_huge_message_is_parsed_from_its_prefix_quickly():
    data = postfix_dsn(USER_UNKNOWN, returned=original() + "x" * 1000 + "\r\n" * 1) + b"y" * 50_000_000
    started = time.perf_counter()
    [feedback] = parse(data)
    assert feedback.message_id == MID
    assert time.perf_counter() - started < 2.0
