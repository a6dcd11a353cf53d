"""Transactional and campaign sends in separate lanes of each sending queue: what a campaign activity
queues goes in the campaign lane and names the activity (its progress is counted from it), each lane
is claimed on its own, so a campaign's backlog never sits in front of a SendEmail or a text, and a
campaign slice waits only for its own lane's messages that are due."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
import sqlalchemy as sa

from pinfold.campaigns import channels as campaign_channels
from pinfold.db.tables import email_batches, email_messages, sms_messages
from pinfold.email import account as email_account
from pinfold.email import identities as email_identities
from pinfold.email.delivery import EmailDelivery
from pinfold.email.store import messages as email_store
from pinfold.messaging import channels, messages
from pinfold.messaging.email_planner import EmailPlanner
from pinfold.messaging.sms_planner import SmsPlanner
from pinfold.projects import projects as project_service
from pinfold.sending import queue
from pinfold.sending.plan import Plan, Recipient
from pinfold.sms import identities as sms_identities
from pinfold.sms.adapters.simulator import CarrierSimulator
from pinfold.sms.delivery import SmsDelivery
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
    email_account.set_production(ctx, admin, owner.account_id, max_rate=10_000)  # a campaign's burst goes at once
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


# --- claims per lane ---------------------------------------------------------------------------------

def _queue_email(ctx, owner, project, *, campaign: int = 0, plain: int = 0, later: int = 0) -> dict[str, list[str]]:
    """Queue `campaign` campaign messages due now, `later` due in an hour, and `plain` SendMessages ones."""
    request = {"MessageConfiguration": EMAIL_CONTENT}
    queued = {"campaign": [], "later": [], "plain": []}
    if campaign:
        queued["campaign"] = _plan(ctx, owner, project, EmailPlanner, request, _emails(campaign, "c"), "EMAIL",
                                   attributes=_attributes("act"))
    if later:
        queued["later"] = _plan(ctx, owner, project, EmailPlanner, request,
                                _emails(later, "l", due_at=time.time() + 3600), "EMAIL", attributes=_attributes("act"))
    if plain:
        addresses = {f"plain{n}@{SIMULATOR}": {"ChannelType": "EMAIL"} for n in range(plain)}
        result = messages.send_messages(ctx, owner, project, {"Addresses": addresses,
                                                              "MessageConfiguration": EMAIL_CONTENT})
        queued["plain"] = [entry["MessageId"] for entry in result["MessageResponse"]["Result"].values()]
    return queued


def test_each_lane_is_claimed_on_its_own_and_so_is_a_lapsed_lease(ctx, email_project):
    owner, project = email_project
    queued = _queue_email(ctx, owner, project, campaign=3, plain=2)
    now = time.time()
    with ctx.db.write() as conn:
        plain = email_store.claim(conn, lane=queue.TRANSACTIONAL, now=now, until=now + 20, limit=10)
        assert email_store.claim(conn, lane=queue.TRANSACTIONAL, now=now, until=now + 20, limit=10) == []
        campaign = email_store.claim(conn, lane=queue.CAMPAIGN, now=now, until=now + 20, limit=2)
        campaign += email_store.claim(conn, lane=queue.CAMPAIGN, now=now, until=now + 20, limit=10)
    assert sorted(row["id"] for row in plain) == sorted(queued["plain"])
    assert sorted(row["id"] for row in campaign) == sorted(queued["campaign"])
    with ctx.db.write() as conn:  # the leases ran out: each lane's worker takes over its own lane's
        taken = email_store.claim(conn, lane=queue.CAMPAIGN, now=now + 21, until=now + 41, limit=10)
        assert {row["id"] for row in taken} == set(queued["campaign"]) and all(row["taken_over"] for row in taken)
        taken = email_store.claim(conn, lane=queue.TRANSACTIONAL, now=now + 21, until=now + 41, limit=10)
        assert {row["id"] for row in taken} == set(queued["plain"]) and all(row["taken_over"] for row in taken)


def test_whether_anything_is_due_is_asked_per_lane_without_a_write(ctx, email_project, monkeypatch):
    from pinfold.email.channel import EmailChannel
    from pinfold.sending.worker import SendWorker

    owner, project = email_project
    _queue_email(ctx, owner, project, later=2)
    now = time.time()
    with ctx.db.read() as conn:  # due in an hour: nothing to claim yet in either lane
        assert not email_store.any_due(conn, lanes=queue.LANES, now=now)
        assert email_store.any_due(conn, lanes=(queue.CAMPAIGN,), now=now + 3601)
        assert not email_store.any_due(conn, lanes=(queue.TRANSACTIONAL,), now=now + 3601)
    channel = EmailChannel(ctx, (queue.CAMPAIGN,))
    writes = []
    write = ctx.db.write
    monkeypatch.setattr(ctx.db, "write", lambda: writes.append(1) or write())
    try:
        assert SendWorker(ctx, channel).run_once(now=now) == 0
        assert writes == []  # an idle pass only reads
        with ctx.db.read() as conn:
            assert channel.due(conn, now=now + 3601)
        now += 3601
        with write() as conn:  # claimed, and the lease ran out: due again, for whoever takes it over
            assert len(channel.claim(conn, now=now, until=now + 20)) == 2
        with ctx.db.read() as conn:
            assert not channel.due(conn, now=now + 19)
            assert channel.due(conn, now=now + 21)
    finally:
        channel.close()


def test_a_channel_serving_both_lanes_claims_transactional_messages_first(ctx, email_project):
    from pinfold.email.channel import EmailChannel

    owner, project = email_project
    queued = _queue_email(ctx, owner, project, campaign=4)
    queued["plain"] = _queue_email(ctx, owner, project, plain=2)["plain"]  # queued after the campaign's
    channel = EmailChannel(dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"email_batch": 3})))
    try:
        now = time.time()
        with ctx.db.write() as conn:
            claimed = [item.id for item in channel.claim(conn, now=now, until=now + 20)]
    finally:
        channel.close()
    assert set(claimed[:2]) == set(queued["plain"])
    assert len(claimed) == 3 and claimed[2] in queued["campaign"]


class _Held:
    """An adapter that delivers only once `gate` opens (a busy relay or carrier), for messages `held`
    says so; the others go at once."""

    def __init__(self, adapter, gate: threading.Event, held=lambda message_id: True) -> None:
        self.adapter, self.gate, self.held = adapter, gate, held
        self.name = getattr(adapter, "name", "held")

    def deliver(self, items, acknowledged=None):
        if any(self.held(item.message_id) for item in items):
            assert self.gate.wait(30), "the test never opened the gate"
        return self.adapter.deliver(items, acknowledged)

    def close(self) -> None:
        self.adapter.close()


def _wait(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _statuses(ctx, table, ids: list[str]) -> dict[str, int]:
    with ctx.db.read() as conn:
        query = sa.select(table.c.status, sa.func.count()).where(table.c.id.in_(ids)).group_by(table.c.status)
        return dict(conn.execute(query).all())


def test_a_campaigns_backlog_does_not_delay_a_transactional_email(ctx, email_project):
    owner, project = email_project
    backlog = _queue_email(ctx, owner, project, campaign=300)["campaign"]
    delivery = EmailDelivery(ctx)
    gate = threading.Event()
    pick = delivery.campaign_channel.relays.pick
    delivery.campaign_channel.relays.pick = lambda pool, **options: _Held(pick(pool, **options), gate)
    delivery.start()
    try:
        assert _wait(lambda: _statuses(ctx, email_messages, backlog) == {"sending": 300})  # the campaign's pass
        plain = _queue_email(ctx, owner, project, plain=1)["plain"]
        assert _wait(lambda: _statuses(ctx, email_messages, plain) == {"delivered": 1})
        assert _statuses(ctx, email_messages, backlog) == {"sending": 300}  # still on its way
    finally:
        gate.set()
    assert _wait(lambda: _statuses(ctx, email_messages, backlog) == {"delivered": 300}, 60)
    delivery.stop()


def test_a_campaigns_backlog_does_not_delay_a_transactional_text(ctx, sms_project):
    owner, project = sms_project
    backlog = [_plan(ctx, owner, project, SmsPlanner, SMS_CONTENT, [Recipient(US_SUCCESS, {}, endpoint_id=f"e{n}")],
                     "SMS", attributes=_attributes("act"))[0] for n in range(20)]  # one number: a plan each
    gate = threading.Event()
    delivery = SmsDelivery(ctx, _Held(CarrierSimulator(ctx.settings.data_dir / "sms"), gate, set(backlog).__contains__))
    delivery.start()
    try:
        assert _wait(lambda: _statuses(ctx, sms_messages, backlog) == {"sending": 20})
        response = messages.send_messages(ctx, owner, project, {
            "Addresses": {US_SUCCESS: {"ChannelType": "SMS"}},
            "MessageConfiguration": {"SMSMessage": {"Body": "Your code is 1234"}}})
        plain = [response["MessageResponse"]["Result"][US_SUCCESS]["MessageId"]]
        assert _wait(lambda: set(_statuses(ctx, sms_messages, plain)) - {"queued", "sending"})
        assert _statuses(ctx, sms_messages, backlog) == {"sending": 20}
    finally:
        gate.set()
    assert _wait(lambda: not set(_statuses(ctx, sms_messages, backlog)) & {"queued", "sending"}, 60)
    delivery.stop()


def _using(*members: str) -> dict:
    """A treatment's settings with a message for each of `members` (what the backlog reads)."""
    return {"MessageConfiguration": {member: {"Body": "b"} for member in members}}


def test_the_campaign_backlog_counts_only_campaign_messages_due_now_and_stops_counting_at_its_bound(
        ctx, email_project, sms_project):
    owner, project = email_project
    _queue_email(ctx, owner, project, campaign=3, later=5, plain=4)
    now = time.time()
    with ctx.db.read() as conn:
        assert campaign_channels.backlog(conn, _using("EmailMessage"), now, up_to=100) == 3
        assert campaign_channels.backlog(conn, _using("EmailMessage"), now, up_to=2) == 2
        assert campaign_channels.backlog(conn, _using("EmailMessage"), now + 7200, up_to=100) == 8
        assert campaign_channels.backlog(conn, _using("SMSMessage"), now, up_to=100) == 0
        depths = email_store.queue_depths(conn, now)
    assert {lane: count for lane, (count, _) in depths.items()} == {queue.TRANSACTIONAL: 4, queue.CAMPAIGN: 8}

    sms_owner, sms_project_id = sms_project
    for key, due_at in (("now", None), ("later", now + 3600)):  # one number: a plan each
        _plan(ctx, sms_owner, sms_project_id, SmsPlanner, SMS_CONTENT,
              [Recipient(US_SUCCESS, {}, endpoint_id=key, due_at=due_at)], "SMS", attributes=_attributes("act"))
    with ctx.db.read() as conn:
        assert campaign_channels.backlog(conn, _using("SMSMessage"), time.time(), up_to=100) == 1
        assert campaign_channels.backlog(conn, _using("SMSMessage", "EmailMessage"), time.time(), up_to=100) == 3
        assert sms_store.queue_depths(conn, now)[queue.CAMPAIGN][0] == 2


def test_a_lapsed_campaign_lease_counts_as_due_and_a_held_one_does_not(ctx, email_project):
    owner, project = email_project
    _queue_email(ctx, owner, project, campaign=4)
    now = time.time()
    with ctx.db.write() as conn:
        email_store.claim(conn, lane=queue.CAMPAIGN, now=now, until=now + 20, limit=3)
    with ctx.db.read() as conn:
        assert campaign_channels.backlog(conn, _using("EmailMessage"), now, up_to=100) == 1
        assert campaign_channels.backlog(conn, _using("EmailMessage"), now + 21, up_to=100) == 4
        assert email_store.next_due(conn) == pytest.approx(now, abs=5)
