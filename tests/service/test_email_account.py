"""The SES account: sandbox defaults, the production-access request and grant, and the quota every
send takes from, exact under concurrent threads and (on PostgreSQL) processes."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from pinfold.core.errors import Forbidden, LimitExceeded, NotFound, SendingPaused, Throttled
from pinfold.db.database import Database
from pinfold.email import account as email_account
from pinfold.email.store import account as store
from tests.conftest import ON_POSTGRES
from tests.service.helpers import account_caller, onboard

NOW = 1_800_000_000.0


def _take(ctx, account_id: str, region: str, count: int, now: float, **options) -> float:
    with ctx.db.write() as conn:
        return store.take_quota(conn, account_id, region, count, now, **options)


def test_new_accounts_start_in_the_sandbox(ctx, admin):
    account = email_account.get_account(ctx, admin)
    assert account == {
        "DedicatedIpAutoWarmupEnabled": False, "EnforcementStatus": "HEALTHY", "ProductionAccessEnabled": False,
        "SendQuota": {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0},
        "SendingEnabled": True, "SuppressionAttributes": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
    }
    with ctx.db.read() as conn:  # reading creates nothing
        assert store.settings(conn, admin.account_id, admin.region)["max_24h"] == 200


def test_asking_for_production_access_records_the_request_and_only_the_operator_grants_it(ctx, admin):
    tenant, tenant_caller = onboard(ctx, admin, "acme", "ma-mp")
    email_account.put_details(ctx, tenant_caller, {"MailType": "TRANSACTIONAL", "WebsiteURL": "https://acme.example",
                                                   "UseCaseDescription": "receipts", "ProductionAccessEnabled": True})
    account = email_account.get_account(ctx, tenant_caller)
    assert account["ProductionAccessEnabled"] is False
    assert account["Details"]["ReviewDetails"]["Status"] == "PENDING"
    assert account["Details"]["WebsiteURL"] == "https://acme.example"
    with pytest.raises(Forbidden):
        email_account.set_production(ctx, tenant_caller, tenant["account_id"], admin.region)
    granted = email_account.set_production(ctx, admin, tenant["account_id"], admin.region, max_24h=1000, max_rate=5)
    assert granted["production_access"] and granted["max_24h"] == 1000
    account = email_account.get_account(ctx, tenant_caller)
    assert account["ProductionAccessEnabled"] is True
    assert account["SendQuota"] == {"Max24HourSend": 1000.0, "MaxSendRate": 5.0, "SentLast24Hours": 0.0}
    assert account["Details"]["ReviewDetails"]["Status"] == "GRANTED"
    email_account.set_production(ctx, admin, tenant["account_id"], admin.region, enabled=False)
    assert email_account.get_account(ctx, tenant_caller)["SendQuota"]["Max24HourSend"] == 200.0
    with pytest.raises(NotFound):
        email_account.set_production(ctx, admin, "999999999999")


def test_confined_callers_cannot_change_the_shared_account(ctx, admin):
    _tenant, caller = onboard(ctx, admin, "shared-one", "sa-mp")
    for change in (lambda: email_account.put_sending(ctx, caller, False),
                   lambda: email_account.put_suppression(ctx, caller, []),
                   lambda: email_account.put_details(ctx, caller, {"MailType": "MARKETING", "WebsiteURL": "x"})):
        with pytest.raises(Forbidden, match="confined to one project"):
            change()
    assert email_account.get_account(ctx, caller)["SendingEnabled"] is True
    owner = account_caller(ctx, admin, _tenant["account_id"])
    email_account.put_details(ctx, owner, {"MailType": "MARKETING", "WebsiteURL": "https://isv.example",
                                           "ContactLanguage": "EN", "UseCaseDescription": "newsletters"})
    assert email_account.get_account(ctx, owner)["Details"]["WebsiteURL"] == "https://isv.example"
    assert "Details" not in email_account.get_account(ctx, caller)  # the operator's, not the tenant's


def test_sending_and_suppression_attributes(ctx, admin):
    email_account.put_suppression(ctx, admin, ["COMPLAINT"])
    email_account.put_sending(ctx, admin, False)
    account = email_account.get_account(ctx, admin)
    assert account["SuppressionAttributes"] == {"SuppressedReasons": ["COMPLAINT"]}
    assert account["SendingEnabled"] is False
    with pytest.raises(SendingPaused):
        _take(ctx, admin.account_id, admin.region, 1, NOW)
    email_account.put_sending(ctx, admin, True)
    assert _take(ctx, admin.account_id, admin.region, 1, NOW) == 0.0


def test_the_sandbox_allows_one_message_per_second(ctx, admin):
    account, region = admin.account_id, admin.region
    assert _take(ctx, account, region, 1, NOW) == 0.0
    with pytest.raises(Throttled, match="Maximum sending rate exceeded"):
        _take(ctx, account, region, 1, NOW + 0.25)
    assert _take(ctx, account, region, 1, NOW + 0.25, wait=True) == pytest.approx(0.75)
    assert _take(ctx, account, region, 1, NOW + 1.0) == 0.0
    assert email_account.get_account(ctx, admin)["SendQuota"]["SentLast24Hours"] == 2.0


def test_a_batch_larger_than_a_second_goes_when_nothing_is_owed_then_is_paid_off(ctx, admin):
    account, region = admin.account_id, admin.region
    email_account.set_production(ctx, admin, account, region, max_rate=10)
    assert _take(ctx, account, region, 100, NOW) == 0.0  # 10 seconds' worth
    assert _take(ctx, account, region, 10, NOW + 5, wait=True) == pytest.approx(5.0)
    assert _take(ctx, account, region, 5, NOW + 9.5) == 0.0  # up to a second ahead of the rate is allowed
    with pytest.raises(Throttled):
        _take(ctx, account, region, 1, NOW + 9.5)
    assert _take(ctx, account, region, 10, NOW + 10.5) == 0.0


def test_the_daily_quota_rolls_over_24_hours(ctx, admin):
    account, region = admin.account_id, admin.region
    for hour in range(4):
        assert _take(ctx, account, region, 50, NOW + hour * 3600, wait=True) == 0.0
    with pytest.raises(LimitExceeded, match="Daily message quota exceeded"):
        _take(ctx, account, region, 1, NOW + 5 * 3600, wait=True)
    assert _take(ctx, account, region, 50, NOW + 86_400) == 0.0  # the first hour's 50 left the window
    with pytest.raises(LimitExceeded):
        _take(ctx, account, region, 1, NOW + 86_401)
    with ctx.db.read() as conn:
        assert store.sent_last_24h(conn, account, region, NOW + 86_401) == 200


def test_a_refused_send_does_not_keep_expired_messages_counted(ctx, admin):
    account, region = admin.account_id, admin.region
    assert _take(ctx, account, region, 200, NOW) == 0.0
    later = NOW + 86_400 + 120  # the whole day's 200 have left the window
    with pytest.raises(LimitExceeded):  # too many even for an empty window: refused, and rolled back
        _take(ctx, account, region, 201, later)
    assert _take(ctx, account, region, 200, later + 1) == 0.0  # the same minute: the window is empty again


def test_the_quota_is_per_account(ctx, admin):
    tenant, _caller = onboard(ctx, admin, "own-account", "ma-mp")
    _take(ctx, admin.account_id, admin.region, 200, NOW)
    assert _take(ctx, tenant["account_id"], admin.region, 200, NOW) == 0.0
    with pytest.raises(LimitExceeded):
        _take(ctx, admin.account_id, "eu-west-1", 201, NOW)


def test_concurrent_threads_never_send_past_the_quota(ctx, admin):
    account, region = admin.account_id, admin.region
    email_account.set_production(ctx, admin, account, region, max_24h=60, max_rate=1_000_000)
    taken, refused = [], []

    def sender() -> None:
        for _ in range(15):
            try:
                _take(ctx, account, region, 1, NOW)
                taken.append(1)
            except LimitExceeded:
                refused.append(1)

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(taken), len(refused)) == (60, 60)
    assert email_account.get_account(ctx, admin)["SendQuota"]["SentLast24Hours"] == 60.0


def _process_sender(url: str, account_id: str, region: str, attempts: int, results) -> None:
    database = Database(url)
    taken = 0
    for _ in range(attempts):
        try:
            with database.write() as conn:
                store.take_quota(conn, account_id, region, 1, NOW)
            taken += 1
        except LimitExceeded:
            pass
    database.dispose()
    results.put(taken)


@pytest.mark.skipif(not ON_POSTGRES, reason="processes share a database only on PostgreSQL here")
def test_two_processes_never_send_past_the_quota(ctx, admin, database_url):
    account, region = admin.account_id, admin.region
    email_account.set_production(ctx, admin, account, region, max_24h=70, max_rate=1_000_000)
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    workers = [spawn.Process(target=_process_sender, args=(database_url, account, region, 60, results))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    counts = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)
    assert sum(counts) == 70 and all(count > 0 for count in counts)
    assert email_account.get_account(ctx, account_caller(ctx, admin, account))["SendQuota"]["SentLast24Hours"] == 70
