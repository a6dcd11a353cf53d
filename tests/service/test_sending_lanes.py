"""Transactional and campaign sends in separate lanes of each sending queue: what a campaign activity
queues goes in the campaign lane and names the activity (its progress is counted from it), each lane
is claimed on its own, so a campaign's backlog never sits in front of a SendEmail or a text, and a
campaign slice waits only for its own lane's messages that are due."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from pinfold.db.tables import email_batches, email_messages, sms_messages
from pinfold.email import account as email_account
from pinfold.email import identities as email_identities
from pinfold.email.store import messages as email_store
from pinfold.messaging import channels, messages
from pinfold.messaging.email_planner import EmailPlanner
from pinfold.messaging.sms_planner import SmsPlanner
from pinfold.projects import projects as project_service
from pinfold.sending import queue
from pinfold.sending.plan import Plan, Recipient
from pinfold.sms import identities as sms_identities
from pinfold.sms.store import messages as sms_store
from tests.service.helpers import account_caller, onboard

SIMULATOR = "simulator.amazonses.com"
US_SUCCESS = "+14254147755"
EMAIL_CONTENT = {"EmailMessage": {"SimpleEmail": {"Subject": {"Data": "Sale"}, "TextPart": {"Data": "Hi"}}}}
SMS_CONTENT = {"MessageConfiguration": {"SMSMessage": {"Body": "Sale"}}}


def _attributes(activity_id: str) -> dict:
    return {"campaign_id": "c0ffee", "campaign_activity_id": activity_id, "treatment_id": "0"}


@pytest.fixture
def email_project(ctx, admin):
    """An sa-mp tenant's project with a production account, a verified sender and an email channel."""
    tenant = onboard(ctx, admin, "shop", "sa-mp")[0]
    owner = account_caller(ctx, admin, tenant["account_id"])
    email_identities.create(ctx, owner, {"EmailIdentity": "example.com"})
    email_identities.confirm(ctx, admin, "example.com", account_id=owner.account_id, region=owner.region)
    email_account.set_production(ctx, admin, owner.account_id)
    identity = f"arn:aws:ses:{owner.region}:{owner.account_id}:identity/example.com"
    channels.update_email(ctx, owner, tenant["project_id"], {"FromAddress": "shop@example.com",
                                                             "Identity": identity, "Enabled": True})
    return owner, tenant["project_id"]


@pytest.fixture
def sms_project(ctx, admin):
    tenant, _ = onboard(ctx, admin, "acme", "ma-mp")
    owner = account_caller(ctx, admin, tenant["account_id"])
    channels.update(ctx, owner, tenant["project_id"], "SMS", {"Enabled": True})
    sms_identities.request_number(ctx, owner, {"IsoCountryCode": "US", "MessageType": "TRANSACTIONAL",
                                               "NumberCapabilities": ["SMS"], "NumberType": "SIMULATOR"})
    return owner, tenant["project_id"]


def _plan(ctx, caller, project_id: str, planner_class, request: dict, recipients: list[Recipient],
          channel_type: str, **options) -> list[str]:
    """Queue `recipients` through one channel's planner, as the campaign runner does; their message ids."""
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        plan = Plan({channel_type: planner_class(conn, caller, project, request, **options)})
        for index, recipient in enumerate(recipients):
            plan.add_address(str(index), channel_type, recipient)
        plan.commit()
    assert {result["DeliveryStatus"] for result in plan.results.values()} == {"SUCCESSFUL"}
    return [plan.results[str(index)]["MessageId"] for index in range(len(recipients))]


def _email_rows(ctx) -> dict[str, tuple[int, str | None]]:
    """Each queued email's (lane, activity of its batch), by message id."""
    query = (sa.select(email_messages.c.id, email_messages.c.lane, email_batches.c.activity_id)
             .join(email_batches, email_batches.c.id == email_messages.c.batch_id))
    with ctx.db.read() as conn:
        return {row.id: (row.lane, row.activity_id) for row in conn.execute(query)}


def _sms_rows(ctx) -> dict[str, tuple[int, str | None]]:
    with ctx.db.read() as conn:
        query = sa.select(sms_messages.c.id, sms_messages.c.lane, sms_messages.c.activity_id)
        return {row.id: (row.lane, row.activity_id) for row in conn.execute(query)}


def _emails(count: int, prefix: str = "r", **options) -> list[Recipient]:
    return [Recipient(f"success+{prefix}{n}@{SIMULATOR}", {}, endpoint_id=f"{prefix}{n}", **options)
            for n in range(count)]


def test_a_campaign_activity_queues_email_in_the_campaign_lane_and_send_messages_in_the_transactional(
        ctx, email_project):
    owner, project = email_project
    request = {"MessageConfiguration": EMAIL_CONTENT}
    campaign = _plan(ctx, owner, project, EmailPlanner, request, _emails(2), "EMAIL",
                     attributes=_attributes("act1"))
    response = messages.send_messages(ctx, owner, project, {"Addresses": {f"plain@{SIMULATOR}": {
        "ChannelType": "EMAIL"}}, "MessageConfiguration": EMAIL_CONTENT})
    plain = response["MessageResponse"]["Result"][f"plain@{SIMULATOR}"]["MessageId"]
    rows = _email_rows(ctx)
    assert {message_id: rows[message_id] for message_id in campaign} == dict.fromkeys(campaign,
                                                                                      (queue.CAMPAIGN, "act1"))
    assert rows[plain] == (queue.TRANSACTIONAL, None)


def test_a_campaign_activity_queues_texts_in_the_campaign_lane_and_send_messages_in_the_transactional(
        ctx, sms_project):
    owner, project = sms_project
    [campaign] = _plan(ctx, owner, project, SmsPlanner, SMS_CONTENT, [Recipient(US_SUCCESS, {}, endpoint_id="e")],
                       "SMS", attributes=_attributes("act2"))
    response = messages.send_messages(ctx, owner, project, {
        "Addresses": {US_SUCCESS: {"ChannelType": "SMS"}}, "MessageConfiguration": {"SMSMessage": {"Body": "Hi"}}})
    plain = response["MessageResponse"]["Result"][US_SUCCESS]["MessageId"]
    assert _sms_rows(ctx) == {campaign: (queue.CAMPAIGN, "act2"), plain: (queue.TRANSACTIONAL, None)}


def test_activity_progress_counts_the_messages_of_those_activities_by_status(ctx, email_project, sms_project):
    owner, project = email_project
    request = {"MessageConfiguration": EMAIL_CONTENT}
    first = _plan(ctx, owner, project, EmailPlanner, request, _emails(3, "a"), "EMAIL", attributes=_attributes("a1"))
    _plan(ctx, owner, project, EmailPlanner, request, _emails(2, "b"), "EMAIL", attributes=_attributes("a2"))
    _plan(ctx, owner, project, EmailPlanner, request, _emails(4, "c"), "EMAIL", attributes=_attributes("other"))
    messages.send_messages(ctx, owner, project, {"Addresses": {f"plain@{SIMULATOR}": {"ChannelType": "EMAIL"}},
                                                 "MessageConfiguration": EMAIL_CONTENT})
    with ctx.db.write() as conn:
        conn.execute(email_messages.update().where(email_messages.c.id.in_(first[:2])).values(status="delivered"))
    with ctx.db.read() as conn:
        assert email_store.activity_progress(conn, ["a1", "a2"]) == {"queued": 3, "delivered": 2}
        assert email_store.activity_progress(conn, ["other"]) == {"queued": 4}
        assert email_store.activity_progress(conn, ["none"]) == {}
        assert email_store.activity_progress(conn, []) == {}

    sms_owner, sms_project_id = sms_project
    text = [Recipient(US_SUCCESS, {}, endpoint_id="e")]
    texts = [_plan(ctx, sms_owner, sms_project_id, SmsPlanner, SMS_CONTENT, text, "SMS",
                   attributes=_attributes(activity))[0] for activity in ("s1", "s1", "s2")]
    with ctx.db.write() as conn:
        conn.execute(sms_messages.update().where(sms_messages.c.id == texts[0]).values(status="failed"))
    with ctx.db.read() as conn:
        assert sms_store.activity_progress(conn, ["s1", "s2"]) == {"failed": 1, "queued": 2}
        assert sms_store.activity_progress(conn, ["s2", "a1"]) == {"queued": 1}
        assert sms_store.activity_progress(conn, []) == {}


def test_a_message_queued_to_go_later_keeps_its_lane(ctx, email_project):
    owner, project = email_project
    later = time.time() + 3600
    [deferred] = _plan(ctx, owner, project, EmailPlanner, {"MessageConfiguration": EMAIL_CONTENT},
                       _emails(1, due_at=later), "EMAIL", attributes=_attributes("act3"))
    assert _email_rows(ctx)[deferred] == (queue.CAMPAIGN, "act3")
