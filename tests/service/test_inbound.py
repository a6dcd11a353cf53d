"""The feedback listener over real SMTP: DSNs and ARF reports reach the callback; failures ask for a retry."""

from __future__ import annotations

import smtplib
import threading

import pytest

from pinfold.email.adapters.base import Feedback
from pinfold.email.adapters.inbound import FeedbackListener

MID = "0100018f-5e2d-4b7a-a0c1-000000000001"
VERP = f"bounce+{MID}@feedback.pinfold.test"

DSN = f"""From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: {VERP}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-b"

--dsn-b
Content-Type: text/plain

Your message could not be delivered.

--dsn-b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; nobody@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--dsn-b
Content-Type: text/rfc822-headers

Message-ID: <{MID}@mail.pinfold.test>
X-Pinfold-Message-Id: {MID}
To: nobody@example.com

--dsn-b--
"""

ARF = f"""From: fbl@isp.example
To: complaints@feedback.pinfold.test
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf-b"

--arf-b
Content-Type: text/plain

A recipient marked this message as spam.

--arf-b
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: IspFBL/3.1
Version: 1
Original-Rcpt-To: <reader@isp.example>

--arf-b
Content-Type: message/rfc822

Message-ID: <{MID}@mail.pinfold.test>
X-Pinfold-Message-Id: {MID}
To: reader@isp.example
Subject: Offers

Body.
--arf-b--
"""


class Recorder:
    """The callback: records feedback, or raises while `failing` is set."""

    def __init__(self) -> None:
        self.received: list[Feedback] = []
        self.failing = False
        self.lock = threading.Lock()

    def __call__(self, feedback: Feedback) -> None:
        if self.failing:
            raise RuntimeError("database unavailable")
        with self.lock:
            self.received.append(feedback)


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def listener(recorder):
    server = FeedbackListener("127.0.0.1", 0, recorder, max_message_bytes=200_000)
    server.start()
    yield server
    server.stop()


def send(listener: FeedbackListener, text: str, *, to: str = VERP) -> None:
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as client:
        client.sendmail("", [to], text.replace("\n", "\r\n").encode())


def test_port_zero_picks_a_free_port(listener):
    assert listener.port > 0
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as client:
        assert client.noop()[0] == 250


def test_a_dsn_reaches_the_callback_as_a_bounce(listener, recorder):
    send(listener, DSN)
    assert recorder.received == [Feedback(kind="bounce", recipients=("nobody@example.com",), message_id=MID,
                                          bounce_type="Permanent", status="5.1.1",
                                          detail="smtp; 550 5.1.1 User unknown", reporting_mta="mx.example.com")]


def test_an_arf_report_reaches_the_callback_as_a_complaint(listener, recorder):
    send(listener, ARF, to="complaints@feedback.pinfold.test")
    [complaint] = recorder.received
    assert (complaint.kind, complaint.recipients, complaint.message_id) == ("complaint", ("reader@isp.example",), MID)
    assert (complaint.feedback_type, complaint.reporting_mta) == ("abuse", "IspFBL/3.1")


def test_the_verp_envelope_names_the_message_when_the_report_does_not(listener, recorder):
    send(listener, DSN.replace(f"X-Pinfold-Message-Id: {MID}\n", "").replace(f"<{MID}@", "<foreign.id@"))
    assert [f.message_id for f in recorder.received] == [MID]


def test_mail_with_no_feedback_is_accepted_and_ignored(listener, recorder):
    send(listener, "From: someone@example.net\nSubject: hello\n\nJust saying hi.\n")
    send(listener, "\x00\x01 not a message at all")
    assert recorder.received == []


def test_a_failing_callback_answers_451_and_the_retry_is_recorded(listener, recorder):
    recorder.failing = True
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(listener, DSN)
    assert refused.value.smtp_code == 451
    assert recorder.received == []
    recorder.failing = False
    send(listener, DSN)
    assert [f.recipients for f in recorder.received] == [("nobody@example.com",)]


def test_oversized_messages_are_refused(listener, recorder):
    with pytest.raises(smtplib.SMTPException) as refused:
        send(listener, DSN + "x" * 300_000 + "\n")
    assert getattr(refused.value, "smtp_code", None) == 552
    assert recorder.received == []
