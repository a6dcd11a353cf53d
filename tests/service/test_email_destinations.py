"""Configuration-set event destinations receive SES-shaped events: Firehose → JSON files, SNS → NATS,
EventBridge → a signed HTTPS webhook; a PinpointDestination puts the events in that project."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pinfold.bootstrap import event_pump
from pinfold.email import account as email_account
from pinfold.email import configuration_sets
from pinfold.email import send as ses_send
from pinfold.email.delivery import EmailDelivery
from tests.service.helpers import account_caller, onboard, operator
from tests.service.test_email_sending import SIMULATOR, _events, _simple, _verified_sender
from tests.service.test_pump import _nats_available, _read_stream


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ses", _Hook.received
    server.shutdown()


def _account(ctx):
    admin = operator(ctx)
    tenant, _ = onboard(ctx, admin, "acme", "ma-mp")
    caller = account_caller(ctx, admin, tenant["account_id"])
    _verified_sender(ctx, admin, caller)
    email_account.set_production(ctx, admin, caller.account_id)
    return admin, caller, tenant


def test_each_destination_gets_the_event_types_it_matches_in_ses_shape(ctx, webhook):
    _nats_available()
    url, received = webhook
    admin, caller, tenant = _account(ctx)
    account, region = caller.account_id, caller.region
    bus = f"arn:aws:events:{region}:{account}:event-bus/ses-{uuid.uuid4().hex[:6]}"
    configuration_sets.set_webhook(ctx, admin, bus, url, "s3cret")
    topic = f"ses-{uuid.uuid4().hex[:8]}"
    configuration_sets.create(ctx, caller, {"ConfigurationSetName": "tracked"})
    destinations = {
        "files": {"KinesisFirehoseDestination": {
            "DeliveryStreamArn": f"arn:aws:firehose:{region}:{account}:deliverystream/ses-files",
            "IamRoleArn": f"arn:aws:iam::{account}:role/firehose"}, "MatchingEventTypes": ["SEND", "BOUNCE"]},
        "topic": {"SnsDestination": {"TopicArn": f"arn:aws:sns:{region}:{account}:{topic}"},
                  "MatchingEventTypes": ["DELIVERY"]},
        "bus": {"EventBridgeDestination": {"EventBusArn": bus}, "MatchingEventTypes": ["SEND", "DELIVERY", "BOUNCE"]},
        "off": {"Enabled": False, "SnsDestination": {"TopicArn": f"arn:aws:sns:{region}:{account}:{topic}-off"},
                "MatchingEventTypes": ["SEND"]},
    }
    for name, definition in destinations.items():
        configuration_sets.create_destination(ctx, caller, "tracked", name, {"Enabled": True, **definition})
    pump = event_pump(ctx)
    pump.run_once()  # a running server's pump notices new destinations within a pass; from then on they hear
    tags = [{"Name": "campaign", "Value": "spring"}]
    ok = ses_send.send_email(ctx, caller, _simple([f"success@{SIMULATOR}"], ConfigurationSetName="tracked",
                                                  EmailTags=tags))["MessageId"]
    bounced = ses_send.send_email(ctx, caller, _simple([f"bounce@{SIMULATOR}"], ConfigurationSetName="tracked"))
    ses_send.send_email(ctx, caller, _simple([f"success@{SIMULATOR}"]))  # no set: no destination hears of it
    EmailDelivery(ctx).run_once()
    pump.run_once(flush=True)

    location = Path(ctx.settings.firehose_location("ses-files").removeprefix("file://"))
    files = list(location.rglob("*.json"))
    assert all(f"account={account}" in str(path) for path in files)  # accounts' streams of one name stay apart
    in_files = [json.loads(line) for path in files for line in path.read_text().splitlines()]
    assert sorted(e["eventType"] for e in in_files) == ["Bounce", "Send", "Send"]
    bounce = next(e for e in in_files if e["eventType"] == "Bounce")
    assert bounce["mail"]["messageId"] == bounced["MessageId"]
    assert bounce["bounce"]["bounceType"] == "Permanent"
    assert bounce["bounce"]["bouncedRecipients"][0]["emailAddress"] == f"bounce@{SIMULATOR}"
    sent = next(e for e in in_files if e["eventType"] == "Send" and e["mail"]["messageId"] == ok)
    assert sent["mail"]["tags"] == {"ses:configuration-set": ["tracked"], "campaign": ["spring"]}
    assert sent["pinfold"]["tenant_id"] is None and sent["mail"]["sendingAccountId"] == account

    on_nats = [json.loads(m.data) for m in _read_stream(topic, f"{topic}.>")]
    assert [e["eventType"] for e in on_nats] == ["Delivery"] and on_nats[0]["delivery"]["recipients"]
    assert _read_stream(f"{topic}-off", f"{topic}-off.>") == []  # a disabled destination hears nothing

    [(headers, body)] = received
    signed = headers["X-Pinfold-Timestamp"].encode() + b"." + body  # the timestamp is signed too
    assert headers["X-Pinfold-Signature"] == "v1=" + hmac.new(b"s3cret", signed, hashlib.sha256).hexdigest()
    assert abs(int(headers["X-Pinfold-Timestamp"]) - time.time()) < 120
    assert sorted(e["eventType"] for e in json.loads(body)) == ["Bounce", "Delivery", "Send", "Send"]


def test_a_pinpoint_destination_puts_ses_events_in_that_project(ctx):
    admin, caller, tenant = _account(ctx)
    project = tenant["project_id"]
    configuration_sets.create(ctx, caller, {"ConfigurationSetName": "to-project"})
    configuration_sets.create_destination(ctx, caller, "to-project", "pinpoint", {
        "Enabled": True, "MatchingEventTypes": ["SEND", "DELIVERY"],
        "PinpointDestination": {"ApplicationArn": f"arn:aws:mobiletargeting:{caller.region}:{caller.account_id}"
                                                  f":apps/{project}"}})
    ses_send.send_email(ctx, caller, _simple([f"success@{SIMULATOR}"], ConfigurationSetName="to-project"))
    EmailDelivery(ctx).run_once()
    assert {record["application"]["app_id"] for record in _events(ctx)} == {project}
    assert {record["pinfold"]["tenant_id"] for record in _events(ctx)} == {None}
