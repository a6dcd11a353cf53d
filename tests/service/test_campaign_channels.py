"""The channel plumbing campaigns plan through: the planners' `attributes` reach every event record
of the messages they queue (email and SMS, through the sending workers into the mailbox and carrier
simulators), a recipient's `due_at` holds its message back until then, and a plain SendMessages
keeps records without campaign attributes."""

from __future__ import annotations

import time

import pytest

from pinfold.audience import endpoints
from pinfold.email import account as email_account
from pinfold.email import feedback
from pinfold.email import identities as email_identities
from pinfold.email.delivery import EmailDelivery
from pinfold.email.store import messages as email_messages
from pinfold.events import outbox
from pinfold.messaging import channels, messages
from pinfold.messaging.email_planner import EmailPlanner
from pinfold.messaging.sms_planner import SmsPlanner
from pinfold.projects import projects as project_service
from pinfold.sending.plan import Plan, Recipient
from pinfold.sms import events as sms_events
from pinfold.sms import identities as sms_identities
from pinfold.sms.delivery import SmsDelivery
from pinfold.sms.store import messages as sms_messages
from tests.service.helpers import account_caller, onboard

CAMPAIGN = {"campaign_id": "c0ffee", "campaign_activity_id": "a1", "treatment_id": "0"}
SIMULATOR = "simulator.amazonses.com"
US_SUCCESS = "+14254147755"
EMAIL_CONTENT = {"EmailMessage": {"SimpleEmail": {"Subject": {"Data": "Sale"},
                                                  "HtmlPart": {"Data": '<a href="https://example.com/s">s</a>'}}}}


def _records(ctx) -> list[dict]:
    with ctx.db.read() as conn:
        return [row["record"] for row in outbox.read_after(conn, 0, 10_000)]


def _campaign_ids(record: dict) -> dict:
    return {key: record["attributes"].get(key) for key in CAMPAIGN}


def _plan(ctx, caller, project_id: str, planner_class, request: dict, recipients: dict[str, Recipient],
          channel_type: str, **options) -> dict:
    """Plan `recipients` (by key) through one channel's planner, as the campaign runner will."""
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        plan = Plan({channel_type: planner_class(conn, caller, project, request, **options)})
        for key, recipient in recipients.items():
            plan.add_address(key, channel_type, recipient)
        plan.commit()
    return plan.results


@pytest.fixture
def email_project(ctx, admin):
    """An sa-mp tenant's project with a production account, a verified sender and an email channel,
    endpoints ann and bob, and a running delivery worker."""
    tenant = onboard(ctx, admin, "shop", "sa-mp")[0]
    owner = account_caller(ctx, admin, tenant["account_id"])
    email_identities.create(ctx, owner, {"EmailIdentity": "example.com"})
    email_identities.confirm(ctx, admin, "example.com", account_id=owner.account_id, region=owner.region)
    email_account.set_production(ctx, admin, owner.account_id)
    identity = f"arn:aws:ses:{owner.region}:{owner.account_id}:identity/example.com"
    project = tenant["project_id"]
    channels.update_email(ctx, owner, project, {"FromAddress": "shop@example.com", "Identity": identity,
                                                "Enabled": True})
    delivery = EmailDelivery(ctx)
    yield owner, project, delivery
    delivery.stop()


def test_email_records_of_a_campaign_message_carry_its_attributes_from_send_to_engagement(ctx, email_project):
    owner, project, delivery = email_project
    later = time.time() + 3600
    recipients = {"ann": Recipient(f"success@{SIMULATOR}", {}, endpoint_id="ann", tenant_id="shop"),
                  "bob": Recipient(f"bounce@{SIMULATOR}", {}, endpoint_id="bob", tenant_id="shop"),
                  "cat": Recipient(f"success+cat@{SIMULATOR}", {}, endpoint_id="cat", due_at=later)}
    results = _plan(ctx, owner, project, EmailPlanner, {"MessageConfiguration": EMAIL_CONTENT}, recipients,
                    "EMAIL", attributes=CAMPAIGN)
    assert {key: result["DeliveryStatus"] for key, result in results.items()} == dict.fromkeys(recipients,
                                                                                            "SUCCESSFUL")
    with ctx.db.read() as conn:
        deferred = email_messages.get(conn, results["cat"]["MessageId"])
    assert deferred["due_at"] == pytest.approx(later) and deferred["status"] == "queued"

    delivery.run_once()  # cat is not due yet
    by_client = {}
    for record in _records(ctx):
        by_client.setdefault(record["client"]["client_id"], []).append(record)
    assert "cat" not in by_client
    assert [r["event_type"] for r in by_client["ann"]] == ["_email.send", "_email.delivered"]
    assert [r["event_type"] for r in by_client["bob"]] == ["_email.send", "_email.hardbounce"]
    feedback.record_engagement(ctx, "open", results["ann"]["MessageId"], None, "agent", "192.0.2.1")
    feedback.record_engagement(ctx, "click", results["ann"]["MessageId"], "https://example.com/s", "agent",
                               "192.0.2.1")
    records = [r for r in _records(ctx) if r["client"]["client_id"] in ("ann", "bob")]
    assert [r["event_type"] for r in records][-2:] == ["_email.open", "_email.click"]
    assert all(_campaign_ids(r) == CAMPAIGN for r in records)
    assert records[-1]["attributes"]["feedback"] == "https://example.com/s"  # the record's own attributes stay
    assert {r["pinfold"]["tenant_id"] for r in records} == {"shop"}

    assert delivery.run_once(now=later + 1) == 1  # due now
    cat = [r for r in _records(ctx) if r["client"]["client_id"] == "cat"]
    assert [r["event_type"] for r in cat] == ["_email.send", "_email.delivered"]
    assert all(_campaign_ids(r) == CAMPAIGN for r in cat)


def test_send_messages_email_records_carry_no_campaign_attributes(ctx, email_project):
    owner, project, delivery = email_project
    endpoints.update_endpoint(ctx, owner, project, "ann", {"ChannelType": "EMAIL", "Address": f"success@{SIMULATOR}"})
    response = messages.send_messages(ctx, owner, project, {"Endpoints": {"ann": {}},
                                                            "MessageConfiguration": EMAIL_CONTENT})
    assert response["MessageResponse"]["EndpointResult"]["ann"]["DeliveryStatus"] == "SUCCESSFUL"
    delivery.run_once()
    records = _records(ctx)
    assert [r["event_type"] for r in records if r["event_type"].startswith("_email.")] == [
        "_email.send", "_email.delivered"]
    assert all(not set(CAMPAIGN) & set(r["attributes"]) for r in records)


@pytest.fixture
def sms_project(ctx, admin):
    tenant, _ = onboard(ctx, admin, "acme", "ma-mp")
    owner = account_caller(ctx, admin, tenant["account_id"])
    channels.update(ctx, owner, tenant["project_id"], "SMS", {"Enabled": True})
    sms_identities.request_number(ctx, owner, {"IsoCountryCode": "US", "MessageType": "TRANSACTIONAL",
                                               "NumberCapabilities": ["SMS"], "NumberType": "SIMULATOR"})
    return owner, tenant["project_id"]


def test_sms_records_of_a_campaign_text_carry_its_attributes_and_a_deferred_text_waits(ctx, sms_project):
    owner, project = sms_project
    later = time.time() + 3600
    request = {"MessageConfiguration": {"SMSMessage": {"Body": "Sale"}}}
    results = {}
    for key, due_at in (("now", None), ("later", later)):  # the simulator has one US number that delivers
        recipient = Recipient(US_SUCCESS, {}, endpoint_id=f"e-{key}", due_at=due_at)
        results.update(_plan(ctx, owner, project, SmsPlanner, request, {key: recipient}, "SMS",
                             attributes=CAMPAIGN))
    assert {key: result["DeliveryStatus"] for key, result in results.items()} == {"now": "SUCCESSFUL",
                                                                                  "later": "SUCCESSFUL"}
    with ctx.db.read() as conn:
        deferred = sms_messages.get(conn, results["later"]["MessageId"])
    assert deferred["due_at"] == pytest.approx(later)
    assert deferred["message"]["expires_at"] > later  # its TimeToLive runs from when it may go

    delivery = SmsDelivery(ctx)
    assert delivery.run_once() == 1
    sms_records = [r for r in _records(ctx) if r["event_type"].startswith("_SMS.")]
    assert sms_records and {r["client"]["client_id"] for r in sms_records} == {"e-now"}
    assert "_SMS.SUCCESS" in {r["event_type"] for r in sms_records}
    assert all(_campaign_ids(r) == CAMPAIGN for r in sms_records)
    assert all(r["attributes"]["message_id"] == results["now"]["MessageId"] for r in sms_records)
    assert [event["eventType"] for event in sms_events.text_events(sms_records[-1])]  # still shaped for EUM

    assert delivery.run_once(now=later + 1) == 1
    deferred_records = [r for r in _records(ctx) if r["client"]["client_id"] == "e-later"]
    assert "_SMS.SUCCESS" in {r["event_type"] for r in deferred_records}
    assert all(_campaign_ids(r) == CAMPAIGN for r in deferred_records)


def test_send_messages_sms_records_carry_no_campaign_attributes(ctx, sms_project):
    owner, project = sms_project
    response = messages.send_messages(ctx, owner, project, {
        "Addresses": {US_SUCCESS: {"ChannelType": "SMS"}}, "MessageConfiguration": {"SMSMessage": {"Body": "Hi"}}})
    assert response["MessageResponse"]["Result"][US_SUCCESS]["DeliveryStatus"] == "SUCCESSFUL"
    assert SmsDelivery(ctx).run_once() == 1
    records = [r for r in _records(ctx) if r["event_type"].startswith("_SMS.")]
    assert records and all(not set(CAMPAIGN) & set(r["attributes"]) for r in records)
