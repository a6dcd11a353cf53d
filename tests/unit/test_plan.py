"""The plan step (sending/plan.py) with two made-up channels: the rules every channel shares, and
each channel's own checks and quota kept to its own recipients."""

from __future__ import annotations

import pytest

from pinfold.core.errors import InvalidInput, SendingPaused, Throttled
from pinfold.sending.plan import Plan, Recipient


class Channel:
    def __init__(self, *, refusal=None, blocked=(), raises=None, no_content=False):
        self.substitutions = {}
        self._refusal, self.blocked, self.raises, self.no_content = refusal, set(blocked), raises, no_content
        self.queued: list[list[str]] = []

    def refusal(self):
        if self.no_content:
            raise InvalidInput("no content", field="MessageConfiguration")
        return self._refusal

    def check(self, recipient):
        return "suppressed" if recipient.address in self.blocked else None

    def queue(self, recipients):
        if self.raises is not None:
            raise self.raises
        self.queued.append([recipient.address for recipient in recipients])
        return [f"id-{recipient.address}" for recipient in recipients]


def endpoint(eid, channel_type, address, **extra):
    return {"Id": eid, "ChannelType": channel_type, "Address": address, **extra}


def test_each_channel_queues_its_own_recipients_together_and_results_follow_pinpoint():
    email, sms = Channel(blocked={"gone@example.test"}), Channel()
    plan = Plan({"EMAIL": email, "SMS": sms})
    plan.add_address("a", "EMAIL", Recipient("ann@example.test", {}))
    plan.add_address("b", "PUSH", Recipient("token", {}))
    plan.add_address("c", None, Recipient("???", {}))
    plan.add_address("d", "EMAIL", Recipient("gone@example.test", {}))
    plan.add_endpoint("e1", endpoint("e1", "SMS", "+15550100"), Recipient("+15550100", {}, "e1"))
    plan.add_endpoint("e2", endpoint("e2", "SMS", "+15550101", OptOut="ALL"), Recipient("+15550101", {}, "e2"))
    plan.add_endpoint("e3", endpoint("e3", "EMAIL", "x@example.test", EndpointStatus="INACTIVE"),
                      Recipient("x@example.test", {}, "e3"))
    plan.add_endpoint("e4", endpoint("e4", "EMAIL", "ANN@example.test"), Recipient("ANN@example.test", {}, "e4"))
    plan.add_endpoint("e5", endpoint("e5", "VOICE", "+15550102"), Recipient("+15550102", {}, "e5"))
    plan.commit()

    assert email.queued == [["ann@example.test"]] and sms.queued == [["+15550100"]]
    results = plan.results
    assert results["a"] == {"DeliveryStatus": "SUCCESSFUL", "StatusCode": 200,
                            "StatusMessage": "Queued for delivery", "MessageId": "id-ann@example.test"}
    assert results["e1"]["MessageId"] == "id-+15550100" and results["e1"]["Address"] == "+15550100"
    assert results["b"]["StatusMessage"] == "The PUSH channel is not supported yet"
    assert results["c"]["StatusMessage"] == "The unknown channel is not supported yet"
    assert (results["d"]["DeliveryStatus"], results["d"]["StatusMessage"]) == ("PERMANENT_FAILURE", "suppressed")
    assert (results["e2"]["DeliveryStatus"], results["e2"]["StatusCode"]) == ("OPT_OUT", 200)
    assert results["e3"]["StatusMessage"] == "The endpoint is inactive" and results["e3"]["Address"] == "x@example.test"
    assert results["e4"]["DeliveryStatus"] == "DUPLICATE"  # one message per address, whatever its case
    assert results["e5"]["StatusMessage"] == "The endpoint is not an email/sms endpoint"


def test_a_channel_out_of_quota_or_paused_fails_only_its_own_recipients():
    email, sms = Channel(raises=Throttled("Maximum sending rate exceeded")), Channel(raises=SendingPaused("paused"))
    other = Channel()
    plan = Plan({"EMAIL": email, "SMS": sms, "CUSTOM": other})
    plan.add_address("a", "EMAIL", Recipient("ann@example.test", {}))
    plan.add_address("b", "SMS", Recipient("+15550100", {}))
    plan.add_address("c", "CUSTOM", Recipient("hook", {}))
    plan.commit()
    assert (plan.results["a"]["DeliveryStatus"], plan.results["a"]["StatusCode"]) == ("THROTTLED", 429)
    assert (plan.results["b"]["DeliveryStatus"], plan.results["b"]["StatusMessage"]) == ("PERMANENT_FAILURE", "paused")
    assert plan.results["c"]["DeliveryStatus"] == "SUCCESSFUL" and other.queued == [["hook"]]


def test_a_channel_that_cannot_send_refuses_each_recipient_and_a_request_without_content_fails_whole():
    plan = Plan({"EMAIL": Channel(refusal="The email channel is not enabled for this project")})
    plan.add_endpoint("e1", endpoint("e1", "EMAIL", "ann@example.test"), Recipient("ann@example.test", {}, "e1"))
    plan.commit()
    assert plan.results["e1"] == {"DeliveryStatus": "PERMANENT_FAILURE", "StatusCode": 400,
                                  "StatusMessage": "The email channel is not enabled for this project"}
    with pytest.raises(InvalidInput):
        Plan({"EMAIL": Channel(no_content=True)}).add_address("a", "EMAIL", Recipient("ann@example.test", {}))
