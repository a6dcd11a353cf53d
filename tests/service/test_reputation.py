"""Reputation, measured from real sends to the mailbox simulator: a tenant whose bounce rate crosses its
policy's level is paused alone, within a pump pass of crossing, while the other tenant of its account
keeps sending; an account whose own rate crosses the pause level is paused; the operator resumes; every
pause and resume is recorded."""

from __future__ import annotations

import dataclasses

import pytest

from pinfold.audience import endpoints
from pinfold.core.errors import SendingPaused
from pinfold.email import account as email_account
from pinfold.email import send as ses_send
from pinfold.email.delivery import EmailDelivery
from pinfold.email.store import account as account_store
from pinfold.events.pump import Pump
from pinfold.events.sinks.base import Always, Sink
from pinfold.reputation import pauses
from pinfold.reputation.tally import ReputationTally
from pinfold.tenancy.store import tenants as registry
from tests.service.helpers import account_caller, caller_for_credentials, onboard
from tests.service.test_email_sending import SIMULATOR, _simple, _verified_sender

MIN_VOLUME = 50
ROUND = 5  # sends between two pump passes


class _Findings(Sink):
    """Keeps the `_reputation.finding` records the pump passes on (the stream's and the lake's view)."""

    name = "test:findings"

    def __init__(self, kept: list[dict]) -> None:
        self.kept = kept

    def wants(self, row: dict) -> bool:
        return row["event_type"] == "_reputation.finding"

    def deliver(self, rows: list[dict], batch: str) -> None:
        self.kept.extend(row["record"]["attributes"] for row in rows)


class Sending:
    """Drives sends, delivery and the reputation tally in rounds, as a server's workers would."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.delivery = EmailDelivery(ctx, listen=False)
        self.findings: list[dict] = []
        self.pump = Pump(ctx, sources=[ReputationTally(ctx), Always(_Findings(self.findings))])
        self.pump.run_once(flush=True)

    def send(self, caller, tenant: str, local: str, count: int) -> int:
        """Send `count` messages from the tenant's domain to its simulator address `local` (success,
        bounce, complaint), one recipient each, in rounds; returns how many were accepted before a
        SendingPaused refusal (count when none)."""
        accepted = 0
        for start in range(0, count, ROUND):
            for _ in range(min(ROUND, count - start)):
                try:
                    ses_send.send_email(self.ctx, caller, _simple([_address(local, tenant)],
                                                                  sender=f"news@{tenant}.example"))
                except SendingPaused:
                    return accepted
                accepted += 1
            self.settle()
        return accepted

    def settle(self) -> None:
        while self.delivery.run_once():
            pass
        self.pump.run_once(flush=True)

    def stop(self) -> None:
        self.delivery.stop()
        self.pump.stopped()


@pytest.fixture
def ctx_low(ctx):
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"reputation_min_volume": MIN_VOLUME}))


def _address(local: str, tenant: str) -> str:
    return f"{local}+{tenant}@{SIMULATOR}"


def _tenant_sender(ctx, admin, tenant_id: str, model: str):
    """A tenant of `model` that sends from its own verified domain to simulator addresses that are its
    endpoints' (an sa-sp tenant may mail only its own endpoints)."""
    row, caller = onboard(ctx, admin, tenant_id, model)
    owner = account_caller(ctx, admin, row["account_id"])
    _verified_sender(ctx, admin, owner, f"{tenant_id}.example")
    email_account.set_production(ctx, admin, owner.account_id, max_rate=100_000)
    endpoints.update_batch(ctx, caller, row["project_id"], [
        {"Id": f"{tenant_id}-{local}", "ChannelType": "EMAIL", "Address": _address(local, tenant_id)}
        for local in ("success", "bounce", "complaint")])
    return row, caller


@pytest.mark.parametrize("model", ["sa-mp", "sa-sp"])
def test_a_bad_tenant_is_paused_alone_and_an_account_crossing_pauses_the_account(ctx_low, admin, model):
    ctx = ctx_low
    good_row, good = _tenant_sender(ctx, admin, "good", model)
    bad_row, bad = _tenant_sender(ctx, admin, "bad", model)
    assert good_row["account_id"] == bad_row["account_id"]
    sending = Sending(ctx)
    try:
        assert sending.send(good, "good", "success", 300) == 300
        assert sending.send(bad, "bad", "success", 60) == 60
        # 60 delivered, then bounces: the rate reaches 10% (STANDARD's pause level) at the 7th bounce.
        bounced = sending.send(bad, "bad", "bounce", 200)
        crossing = 7
        assert crossing <= bounced <= crossing + 100, bounced  # paused within 100 sends of crossing
        assert bounced - crossing < 2 * ROUND  # here: within the round that crossed, and the next
        with ctx.db.read() as conn:
            assert registry.get_tenant(conn, "bad")["sending_paused"] is True
            assert registry.get_tenant(conn, "good")["sending_paused"] is False
            assert account_store.settings(conn, bad_row["account_id"], bad_row["region"])["sending_enabled"] is True
        assert sending.send(good, "good", "success", 10) == 10  # the other tenant is untouched
        bad_findings = [f for f in sending.findings if f["key"] == "bad"]
        assert [(f["metric"], f["level"], f["action"]) for f in bad_findings] == [
            ("bounce", "REVIEW", "NONE"), ("bounce", "PAUSE", "PAUSED")]
        actions = sorted((row["action"], row["actor"]) for row in pauses.history(ctx, admin, "tenant", "bad"))
        assert actions == [("FINDING", "pinfold"), ("FINDING", "pinfold"), ("PAUSED", "pinfold")]

        assert pauses.resume_tenant(ctx, admin, "bad")["changed"] is True
        assert sending.send(bad, "bad", "success", 5) == 5
        assert pauses.history(ctx, admin, "tenant", "bad")[0]["action"] == "RESUMED"

        # The good tenant's policy never pauses it; its own bounces then carry the account over 10%.
        pauses.set_policy(ctx, admin, "good", "NONE")
        sent = sending.send(good, "good", "bounce", 400)
        assert sent < 400
        with ctx.db.read() as conn:
            assert account_store.settings(conn, good_row["account_id"], good_row["region"])["sending_enabled"] is False
            assert registry.get_tenant(conn, "good")["sending_paused"] is False
        with pytest.raises(SendingPaused, match="disabled for account"):
            ses_send.send_email(ctx, bad, _simple([_address("success", "bad")], sender="news@bad.example"))
    finally:
        sending.stop()


def test_in_ma_mp_the_bad_tenants_account_pauses_with_it_and_no_other(ctx_low, admin):
    ctx = ctx_low
    good_row, good = _tenant_sender(ctx, admin, "good", "ma-mp")
    bad_row, bad = _tenant_sender(ctx, admin, "bad", "ma-mp")
    sending = Sending(ctx)
    try:
        assert sending.send(bad, "bad", "success", 60) == 60
        assert sending.send(bad, "bad", "bounce", 200) < 200
        assert sending.send(good, "good", "success", 20) == 20
        with ctx.db.read() as conn:
            assert registry.get_tenant(conn, "bad")["sending_paused"] is True
            assert account_store.settings(conn, bad_row["account_id"], bad_row["region"])["sending_enabled"] is False
            assert account_store.settings(conn, good_row["account_id"], good_row["region"])["sending_enabled"] is True
    finally:
        sending.stop()


def test_complaints_cross_at_their_own_levels_and_a_strict_policy_pauses_at_review(ctx_low, admin):
    ctx = ctx_low
    _row, shop = _tenant_sender(ctx, admin, "shop", "ma-mp")
    pauses.set_policy(ctx, admin, "shop", "STRICT")
    sending = Sending(ctx)
    try:
        assert sending.send(shop, "shop", "success", 1000) == 1000
        # One complaint in 1,001 is 0.0999%: under review starts at 0.1%, at the second.
        assert sending.send(shop, "shop", "complaint", 10) <= 2 + ROUND
        levels = [(f["metric"], f["level"], f["action"]) for f in sending.findings if f["scope"] == "tenant"]
        assert levels[0] == ("complaint", "REVIEW", "PAUSED")
    finally:
        sending.stop()


def test_ses_tenants_are_reputation_entities_paused_alone_and_reinstated_by_the_customer(ctx_low, admin):
    from pinfold.email import configuration_sets
    from pinfold.email import tenants as ses_tenants
    from pinfold.reputation import entities

    ctx = ctx_low
    row, _caller = onboard(ctx, admin, "isv", "ma-mp")
    owner = account_caller(ctx, admin, row["account_id"])
    _verified_sender(ctx, admin, owner, "isv.example")
    email_account.set_production(ctx, admin, owner.account_id, max_rate=100_000)
    arn = f"arn:aws:ses:{owner.region}:{owner.account_id}"
    for name in ("clean", "dirty"):
        configuration_sets.create(ctx, owner, {"ConfigurationSetName": f"{name}-set", "ReputationOptions": {
            "ReputationMetricsEnabled": name == "dirty"}})
        ses_tenants.create(ctx, owner, {"TenantName": name})
        ses_tenants.associate(ctx, owner, name, f"{arn}:identity/isv.example")
        ses_tenants.associate(ctx, owner, name, f"{arn}:configuration-set/{name}-set")

    def send(name: str, local: str, count: int) -> int:
        for sent in range(count):
            try:
                ses_send.send_email(ctx, owner, _simple([f"{local}@{SIMULATOR}"], sender="news@isv.example",
                                                        TenantName=name, ConfigurationSetName=f"{name}-set"))
            except SendingPaused:
                return sent
            if sent % ROUND == ROUND - 1:
                sending.settle()
        sending.settle()
        return count

    sending = Sending(ctx)
    try:
        assert send("clean", "success", 300) == 300
        assert send("dirty", "success", 60) == 60
        assert send("dirty", "bounce", 100) < 100
        assert send("clean", "success", 10) == 10
        dirty_arn = ses_tenants.get(ctx, owner, "dirty")["TenantArn"]
        entity = entities.get(ctx, owner, "RESOURCE", dirty_arn)["ReputationEntity"]
        assert (entity["AwsSesManagedStatus"]["Status"], entity["CustomerManagedStatus"]["Status"],
                entity["SendingStatusAggregate"], entity["ReputationImpact"]) == ("DISABLED", "ENABLED", "DISABLED",
                                                                                  "HIGH")
        assert entity["ReputationManagementPolicy"] == f"arn:aws:ses:{owner.region}:aws:reputation-policy/standard"
        assert ses_tenants.get(ctx, owner, "dirty")["SendingStatus"] == "DISABLED"
        paused = entities.list_page(ctx, owner, {"SENDING_STATUS": "DISABLED"}, None, None)["ReputationEntities"]
        assert [e["ReputationEntityReference"] for e in paused] == [dirty_arn]
        assert entities.enforcement_status(ctx, owner) == "HEALTHY"  # 8 bounces in 368 sends: 2.2%

        entities.update_customer_status(ctx, owner, "RESOURCE", dirty_arn, "REINSTATED")
        assert send("dirty", "success", 5) == 5
        entities.update_policy(ctx, owner, "RESOURCE", dirty_arn,
                               f"arn:aws:ses:{owner.region}:aws:reputation-policy/strict")
        assert entities.get(ctx, owner, "RESOURCE", dirty_arn)["ReputationEntity"][
            "ReputationManagementPolicy"].endswith("/strict")
        from prometheus_client import REGISTRY

        def published(name: str):
            return REGISTRY.get_sample_value("pinfold_reputation_rate", {
                "scope": "config_set", "key": f"{owner.account_id}/{owner.region}/{name}-set", "metric": "bounce"})

        assert published("dirty") > 0.1 and published("clean") is None  # only with ReputationMetricsEnabled
        history = pauses.history(ctx, admin, "ses_tenant", f"{owner.account_id}/{owner.region}/dirty")
        assert [h["action"] for h in history][:1] == ["RESUMED"] and history[0]["actor"] == owner.principal_id
    finally:
        sending.stop()


def test_a_tenant_at_its_own_quota_is_throttled_alone(ctx, admin):
    from pinfold import onboarding
    from pinfold.core.errors import InvalidInput, LimitExceeded, Throttled

    capped_row, capped = _tenant_sender(ctx, admin, "capped", "sa-mp")
    _free_row, free = _tenant_sender(ctx, admin, "free", "sa-mp")
    shown = onboarding.set_quota(ctx, admin, "capped", daily=3, rate=1000)
    assert shown["quota"] == {"max_24h": 3, "max_rate": 1000, "sent_last_24h": 0} and shown["sms_spend_limit"] is None

    def send(caller, tenant: str) -> None:
        ses_send.send_email(ctx, caller, _simple([_address("success", tenant)], sender=f"news@{tenant}.example"))

    for _ in range(3):
        send(capped, "capped")
    with pytest.raises(LimitExceeded, match="for tenant capped"):
        send(capped, "capped")
    for _ in range(5):
        send(free, "free")  # the account's quota has room; only the tenant's is spent
    onboarding.set_quota(ctx, admin, "capped", daily=100, rate=1)  # raised; at most one a second now
    send(capped, "capped")
    with pytest.raises(Throttled, match="for tenant capped"):
        send(capped, "capped")
    with pytest.raises(InvalidInput):
        onboarding.set_quota(ctx, admin, "free", rate=5)  # a rate alone, with no daily cap yet
    assert onboarding.set_quota(ctx, admin, "capped", clear=True)["quota"] is None
    for _ in range(5):
        send(capped, "capped")
    assert capped_row["account_id"] == _free_row["account_id"]


def test_quota_requests_are_recorded_and_granted_or_refused(ctx, admin):
    from pinfold.core.errors import Conflict, InvalidInput
    from pinfold.email import quota_requests

    row, _caller = onboard(ctx, admin, "growing", "ma-mp")
    account = row["account_id"]
    with pytest.raises(InvalidInput):
        quota_requests.request(ctx, admin, account, max_24h=100_000, max_rate=50, reason=" ")
    first = quota_requests.request(ctx, admin, account, max_24h=100_000, max_rate=50, reason="Black Friday")
    second = quota_requests.request(ctx, admin, account, max_24h=10_000_000, max_rate=5000, reason="everyone")
    granted = quota_requests.decide(ctx, admin, first["id"], grant=True, note="list checked")
    refused = quota_requests.decide(ctx, admin, second["id"], grant=False, note="too much at once")
    assert (granted["status"], refused["status"], granted["decided_by"]) == ("GRANTED", "REFUSED", admin.principal_id)
    with ctx.db.read() as conn:
        quotas = account_store.settings(conn, account, row["region"])
    assert (quotas["max_24h"], quotas["max_rate"], quotas["production_access"]) == (100_000, 50.0, True)
    with pytest.raises(Conflict):
        quota_requests.decide(ctx, admin, first["id"], grant=False)
    history = quota_requests.listed(ctx, admin, account_id=account)
    assert [(r["id"], r["status"], r["note"]) for r in history] == [
        (second["id"], "REFUSED", "too much at once"), (first["id"], "GRANTED", "list checked")]
    assert quota_requests.listed(ctx, admin, status="pending") == []


def test_a_tenant_whose_texts_fail_or_get_stop_replies_is_paused_alone(ctx_low, admin):
    from pinfold import onboarding
    from pinfold.core.errors import LimitExceeded
    from pinfold.sms import account as sms_account
    from pinfold.sms import reports
    from pinfold.sms import send as sms_send
    from pinfold.sms.access import REGISTRY_KEY
    from pinfold.sms.delivery import SmsDelivery

    ctx = ctx_low
    callers, numbers = {}, {}
    for tenant_id in ("noisy", "quiet", "stopped"):
        placed = onboarding.onboard(ctx, admin, tenant_id=tenant_id, model="sa-mp", sms_pool=True)
        callers[tenant_id] = caller_for_credentials(ctx, placed["credentials"])
        numbers[tenant_id] = placed["tenant"]["metadata"][REGISTRY_KEY]["phone_number"]
    account = placed["tenant"]["account_id"]
    sms_account.set_sms_production(ctx, admin, account, sandbox=False, max_spend=1000)
    _verified_sender(ctx, admin, account_caller(ctx, admin, account), "noisy.example")
    email_account.set_production(ctx, admin, account)
    delivery, sending = SmsDelivery(ctx), Sending(ctx)

    def settle() -> None:
        while delivery.run_once():
            pass
        sending.pump.run_once(flush=True)

    def text(tenant_id: str, destination: str, count: int) -> int:
        for sent in range(count):
            try:
                sms_send.send_text_message(ctx, callers[tenant_id], {"DestinationPhoneNumber": destination,
                                                                     "MessageBody": "Your code is 123456"})
            except SendingPaused:
                return sent
            if sent % ROUND == ROUND - 1:
                settle()
        settle()
        return count

    success, failure = "+14254147755", "+14254147167"  # the simulator's US numbers
    try:
        assert text("quiet", success, 60) == 60
        assert text("noisy", success, 60) == 60
        failed = text("noisy", failure, 100)
        assert 20 <= failed < 20 + 2 * ROUND, failed  # 25% of 80 ended texts: paused at the 20th failure
        assert text("quiet", success, 10) == 10
        noisy = [(f["scope"], f["metric"], f["level"], f["action"]) for f in sending.findings if f["key"] == "noisy"]
        assert ("sms_tenant", "failure", "PAUSE", "PAUSED") in noisy
        assert any(f["scope"] == "sms_number" and f["key"].endswith(numbers["noisy"]) for f in sending.findings)
        with pytest.raises(SendingPaused):  # its email stops with it: the pause is the tenant's
            ses_send.send_email(ctx, callers["noisy"], _simple([f"success@{SIMULATOR}"],
                                                               sender="news@noisy.example"))

        # STOP replies: 4 opt-outs over 60 texts is 6.7%, past the 5% pause level.
        assert text("stopped", success, 60) == 60
        key = reports.token(ctx, "inbound", "kannel")
        for handset in ("+14255550101", "+14255550102", "+14255550103", "+14255550104"):
            assert reports.inbound(ctx, key, handset, numbers["stopped"], "STOP")
        settle()
        assert ("sms_tenant", "opt_out", "PAUSE", "PAUSED") in [
            (f["scope"], f["metric"], f["level"], f["action"]) for f in sending.findings if f["key"] == "stopped"]
        assert text("stopped", success, 1) == 0

        onboarding.set_quota(ctx, admin, "quiet", sms_spend=0.0)  # its own spend limit: reached at once
        with pytest.raises(LimitExceeded, match="quiet's monthly text message spend limit"):
            text("quiet", success, 1)
    finally:
        delivery.stop()
        sending.stop()


def test_list_tenants_filters_on_the_sending_status_sending_obeys(ctx, admin):
    from pinfold.email import tenants as ses_tenants
    from pinfold.email.store import tenants as store

    for name in ("open", "paused-by-pinfold", "reinstated"):
        ses_tenants.create(ctx, admin, {"TenantName": name})
    with ctx.db.write() as conn:
        store.update(conn, admin.account_id, admin.region, "paused-by-pinfold", managed_status="DISABLED")
        store.update(conn, admin.account_id, admin.region, "reinstated", managed_status="DISABLED",
                     sending_status="REINSTATED")

    def named(status: str) -> list[str]:
        found = ses_tenants.list_page(ctx, admin, {"SENDING_STATUS": status}, None, None)["Tenants"]
        return [(t["TenantName"], t["SendingStatus"]) for t in found]

    assert named("DISABLED") == [("paused-by-pinfold", "DISABLED")]
    assert named("ENABLED") == [("open", "ENABLED")]
    assert named("REINSTATED") == [("reinstated", "REINSTATED")]
