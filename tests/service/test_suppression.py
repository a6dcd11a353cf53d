"""Suppression lists: the account's and SES tenants' own, what confined tenants may do with them,
and the lookups the sending pipeline makes (suppressed, add) honouring each tenant's scope."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pinfold.core.errors import Forbidden, InvalidInput, NotFound
from pinfold.db.tables import suppressed_destinations
from pinfold.email import suppression
from pinfold.email import tenants as ses_tenants
from pinfold.email.store import suppression as store
from tests.service.helpers import account_caller, onboard


@pytest.fixture
def shared(ctx, admin):
    a, a_caller = onboard(ctx, admin, "alpha", "sa-mp")
    _b, b_caller = onboard(ctx, admin, "beta", "sa-mp")
    account_admin = account_caller(ctx, admin, a["account_id"])
    ses_tenants.create(ctx, account_admin, {"TenantName": "alpha", "SuppressionAttributes": {
        "SuppressionScope": "TENANT", "SuppressedReasons": ["BOUNCE"]}})
    ses_tenants.create(ctx, account_admin, {"TenantName": "beta"})
    return {"account": a["account_id"], "admin": account_admin, "alpha": a_caller, "beta": b_caller}


def _stamp(ctx, account_id: str, address: str, when: float) -> None:
    with ctx.db.write() as conn:
        conn.execute(suppressed_destinations.update().where(suppressed_destinations.c.account_id == account_id,
                                                            suppressed_destinations.c.address == address)
                     .values(updated_at=when))


def test_put_get_delete_compare_addresses_without_case(ctx, admin):
    suppression.put(ctx, admin, "Someone@Example.COM", "BOUNCE")
    found = suppression.get(ctx, admin, "someone@example.com")
    assert found["EmailAddress"] == "someone@example.com" and found["Reason"] == "BOUNCE"
    assert "TenantName" not in found and "Attributes" not in found
    suppression.put(ctx, admin, "SOMEONE@example.com", "COMPLAINT")
    assert suppression.get(ctx, admin, "someone@EXAMPLE.com")["Reason"] == "COMPLAINT"
    suppression.delete(ctx, admin, "Someone@example.com")
    with pytest.raises(NotFound, match="does not exist on your suppression list"):
        suppression.get(ctx, admin, "someone@example.com")
    with pytest.raises(NotFound):
        suppression.delete(ctx, admin, "someone@example.com")
    with pytest.raises(InvalidInput):
        suppression.put(ctx, admin, "not-an-address", "BOUNCE")


def test_listing_filters_by_reason_and_date_and_pages(ctx, admin):
    for n in range(5):
        suppression.put(ctx, admin, f"user{n}@example.com", "BOUNCE" if n % 2 == 0 else "COMPLAINT")
        _stamp(ctx, admin.account_id, f"user{n}@example.com", 1_700_000_000 + n * 86_400)
    first = suppression.list_page(ctx, admin, page_size=2)
    assert [s["EmailAddress"] for s in first["SuppressedDestinationSummaries"]] == ["user0@example.com",
                                                                                   "user1@example.com"]
    rest = suppression.list_page(ctx, admin, page_size=10, token=first["NextToken"])
    assert len(rest["SuppressedDestinationSummaries"]) == 3 and rest["NextToken"] is None
    bounces = suppression.list_page(ctx, admin, reasons=["BOUNCE"])
    assert [s["EmailAddress"] for s in bounces["SuppressedDestinationSummaries"]] == [
        "user0@example.com", "user2@example.com", "user4@example.com"]
    window = suppression.list_page(ctx, admin, start=datetime.fromtimestamp(1_700_000_000 + 86_400, UTC),
                                   end=datetime.fromtimestamp(1_700_000_000 + 3 * 86_400, UTC))
    assert [s["EmailAddress"] for s in window["SuppressedDestinationSummaries"]] == [
        "user1@example.com", "user2@example.com", "user3@example.com"]
    assert window["SuppressedDestinationSummaries"][0]["LastUpdateTime"] == 1_700_000_000 + 86_400


def test_confined_tenants_may_look_up_but_not_change_or_list_the_account_list(ctx, admin, shared):
    from pinfold.email.store import suppression as suppression_store

    alpha = shared["alpha"]
    with ctx.db.write() as conn:  # a bounce of another tenant's mail put it there
        suppression_store.add(conn, shared["account"], admin.region, "gone@example.com", "BOUNCE",
                              message_id="m-of-another-tenant")
    found = suppression.get(ctx, alpha, "gone@example.com")
    assert found["Reason"] == "BOUNCE" and "Attributes" not in found  # not which message it was
    assert suppression.get(ctx, shared["admin"], "gone@example.com")["Attributes"]["MessageId"] == "m-of-another-tenant"
    # Adding would let one tenant stop mail to another tenant's customers.
    with pytest.raises(Forbidden, match="every tenant's recipients"):
        suppression.put(ctx, alpha, "someone-elses-customer@example.com", "COMPLAINT")
    with pytest.raises(Forbidden, match="every tenant's recipients"):
        suppression.list_page(ctx, alpha)
    with pytest.raises(Forbidden):
        suppression.delete(ctx, alpha, "gone@example.com")
    listed = suppression.list_page(ctx, shared["admin"])["SuppressedDestinationSummaries"]
    assert {s["EmailAddress"] for s in listed} == {"gone@example.com"}


def test_a_tenant_manages_its_own_list_and_cannot_reach_anothers(ctx, admin, shared):
    alpha, beta = shared["alpha"], shared["beta"]
    suppression.put(ctx, alpha, "mine@example.com", "BOUNCE", tenant_name="alpha")
    found = suppression.get(ctx, alpha, "mine@example.com", tenant_name="alpha")
    assert found["TenantName"] == "alpha"
    listed = suppression.list_page(ctx, alpha, tenant_name="alpha")["SuppressedDestinationSummaries"]
    assert [s["EmailAddress"] for s in listed] == ["mine@example.com"]
    with pytest.raises(NotFound, match="Tenant alpha does not exist"):
        suppression.list_page(ctx, beta, tenant_name="alpha")
    with pytest.raises(NotFound):
        suppression.get(ctx, beta, "mine@example.com", tenant_name="alpha")
    with pytest.raises(NotFound, match="does not exist on your suppression list"):
        suppression.get(ctx, alpha, "mine@example.com")  # the account's list is another list
    suppression.delete(ctx, alpha, "mine@example.com", tenant_name="alpha")
    assert suppression.list_page(ctx, alpha, tenant_name="alpha")["SuppressedDestinationSummaries"] == []


def test_sends_honour_the_tenants_suppression_scope(ctx, admin, shared):
    account, region = shared["account"], admin.region
    suppression.put(ctx, shared["admin"], "account-wide@example.com", "COMPLAINT")
    addresses = ["Account-Wide@example.com", "tenant-only@example.com", "fine@example.com"]
    with ctx.db.write() as conn:
        assert store.add(conn, account, region, "Tenant-Only@Example.com", "BOUNCE", tenant_name="alpha",
                         message_id="m-1", feedback_id="f-1") == "alpha"
        assert store.add(conn, account, region, "beta-bounce@example.com", "BOUNCE", tenant_name="beta") == ""
        assert store.add(conn, account, region, "no-tenant@example.com", "BOUNCE") == ""
    with ctx.db.read() as conn:
        # alpha's scope is TENANT: only its own list counts; beta (ACCOUNT) and tenant-less sends read the account's.
        assert store.suppressed(conn, account, region, addresses, "alpha") == {"tenant-only@example.com": "BOUNCE"}
        assert store.suppressed(conn, account, region, addresses, "beta") == {"account-wide@example.com": "COMPLAINT"}
        assert store.suppressed(conn, account, region, addresses + ["BETA-bounce@example.com"], None) == {
            "account-wide@example.com": "COMPLAINT", "beta-bounce@example.com": "BOUNCE"}
        assert store.suppressed(conn, account, region, addresses, "no-such-tenant") == {
            "account-wide@example.com": "COMPLAINT"}
        assert store.suppressed(conn, "000000000000", region, addresses, None) == {}
    found = suppression.get(ctx, shared["alpha"], "tenant-only@example.com", tenant_name="alpha")
    assert found["Attributes"] == {"MessageId": "m-1", "FeedbackId": "f-1"}


def test_many_addresses_are_looked_up_in_chunks(ctx, admin):
    with ctx.db.write() as conn:
        for n in range(0, 1200, 7):
            store.put(conn, admin.account_id, admin.region, "", f"r{n}@example.com", "BOUNCE", 1.0)
    with ctx.db.read() as conn:
        found = store.suppressed(conn, admin.account_id, admin.region, [f"R{n}@example.com" for n in range(1200)],
                                 None)
    assert set(found) == {f"r{n}@example.com" for n in range(0, 1200, 7)}


def test_deleting_a_tenant_drops_its_list(ctx, admin, shared):
    suppression.put(ctx, shared["admin"], "x@example.com", "BOUNCE", tenant_name="alpha")
    ses_tenants.delete(ctx, shared["admin"], "alpha")
    with ctx.db.read() as conn:
        assert store.get(conn, shared["account"], admin.region, "alpha", "x@example.com") is None


def test_an_exactly_full_last_page_carries_no_token(ctx, admin):
    for n in range(4):
        suppression.put(ctx, admin, f"user{n}@example.com", "BOUNCE")
    first = suppression.list_page(ctx, admin, page_size=2)
    assert first["NextToken"]
    last = suppression.list_page(ctx, admin, page_size=2, token=first["NextToken"])
    assert len(last["SuppressedDestinationSummaries"]) == 2 and last["NextToken"] is None
