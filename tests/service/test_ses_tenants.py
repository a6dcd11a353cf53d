"""SES tenants: lifecycle, the link to the tenant registry, resource associations (identities,
configuration sets, templates), and what tenant-scoped callers may see."""

from __future__ import annotations

import pytest

from pinfold.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from pinfold.email import configuration_sets
from pinfold.email import identities as email_identities
from pinfold.email import templates as ses_templates
from pinfold.email import tenants as ses_tenants
from pinfold.email.store import tenants as store
from tests.service.helpers import account_caller, onboard


@pytest.fixture
def shared(ctx, admin):
    a, a_caller = onboard(ctx, admin, "alpha", "sa-mp")
    _b, b_caller = onboard(ctx, admin, "beta", "sa-mp")
    return {"account": a["account_id"], "admin": account_caller(ctx, admin, a["account_id"]),
            "alpha": a_caller, "beta": b_caller}


def _arn(caller, kind: str, name: str) -> str:
    return f"arn:aws:ses:{caller.region}:{caller.account_id}:{kind}/{name}"


def test_create_get_list_delete(ctx, admin):
    created = ses_tenants.create(ctx, admin, {"TenantName": "t-one", "Tags": [{"Key": "team", "Value": "a"}]})
    assert created["TenantName"] == "t-one" and created["SendingStatus"] == "ENABLED"
    assert created["TenantArn"] == f"arn:aws:ses:{admin.region}:{admin.account_id}:tenant/t-one/{created['TenantId']}"
    assert created["SuppressionAttributes"] == {"SuppressedReasons": [], "SuppressionScope": "ACCOUNT"}
    assert ses_tenants.get(ctx, admin, "t-one") == created
    assert created["Tags"] == [{"Key": "team", "Value": "a"}]
    with pytest.raises(Conflict):
        ses_tenants.create(ctx, admin, {"TenantName": "t-one"})
    with pytest.raises(InvalidInput):
        ses_tenants.create(ctx, admin, {"TenantName": "has space"})
    for name in ("t-two", "other"):
        ses_tenants.create(ctx, admin, {"TenantName": name})
    first = ses_tenants.list_page(ctx, admin, None, 2, None)
    assert [t["TenantName"] for t in first["Tenants"]] == ["other", "t-one"]
    assert [t["TenantName"] for t in ses_tenants.list_page(ctx, admin, None, 2, first["NextToken"])["Tenants"]] == [
        "t-two"]
    named = ses_tenants.list_page(ctx, admin, {"TENANT_NAME_CONTAINS": "t-"}, None, None)
    assert [t["TenantName"] for t in named["Tenants"]] == ["t-one", "t-two"]
    ses_tenants.put_suppression_attributes(ctx, admin, "t-two", ["COMPLAINT"], "TENANT")
    assert ses_tenants.get(ctx, admin, "t-two")["SuppressionAttributes"] == {
        "SuppressedReasons": ["COMPLAINT"], "SuppressionScope": "TENANT"}
    ses_tenants.delete(ctx, admin, "t-one")
    with pytest.raises(NotFound):
        ses_tenants.get(ctx, admin, "t-one")
    with pytest.raises(NotFound):
        ses_tenants.delete(ctx, admin, "t-one")


def test_ses_tenants_link_to_registry_tenants_by_id_only(ctx, admin, shared):
    ses_tenants.create(ctx, shared["admin"], {"TenantName": "alpha"})
    with ctx.db.read() as conn:
        linked = store.get(conn, shared["account"], admin.region, "alpha")
        assert linked["registry_tenant_id"] == "alpha"
        assert store.for_registry_tenant(conn, "alpha")["name"] == "alpha"
        assert store.for_registry_tenant(conn, "beta") is None
    # Created before the registry tenant is onboarded: matched by the tenant's id when it arrives.
    ses_tenants.create(ctx, shared["admin"], {"TenantName": "gamma"})
    from pinfold import onboarding as tenants

    tenants.onboard(ctx, admin, tenant_id="gamma", model="sa-sp", name="Gamma-Corp")
    with ctx.db.read() as conn:
        assert store.for_registry_tenant(conn, "gamma")["name"] == "gamma"
    # Display names link nothing: they are not unique, and one could be another tenant's id.
    tenants.onboard(ctx, admin, tenant_id="t1", model="sa-sp", name="delta")
    ses_tenants.create(ctx, shared["admin"], {"TenantName": "delta"})
    with ctx.db.read() as conn:
        assert store.for_registry_tenant(conn, "t1") is None
        assert store.get(conn, shared["account"], admin.region, "delta")["registry_tenant_id"] is None
    # A same-named SES tenant in another account is not this registry tenant's.
    ses_tenants.create(ctx, admin, {"TenantName": "beta"})
    with ctx.db.read() as conn:
        assert store.for_registry_tenant(conn, "beta") is None


def test_tenant_callers_see_only_their_own_ses_tenant(ctx, admin, shared):
    alpha, beta = shared["alpha"], shared["beta"]
    for name in ("alpha", "beta", "unlinked"):
        ses_tenants.create(ctx, shared["admin"], {"TenantName": name})
    assert ses_tenants.get(ctx, alpha, "alpha")["TenantName"] == "alpha"
    with pytest.raises(NotFound):
        ses_tenants.get(ctx, alpha, "beta")
    assert [t["TenantName"] for t in ses_tenants.list_page(ctx, beta, None, None, None)["Tenants"]] == ["beta"]
    with pytest.raises(Forbidden):
        ses_tenants.create(ctx, alpha, {"TenantName": "sneaky"})
    with pytest.raises(Forbidden):
        ses_tenants.delete(ctx, alpha, "alpha")
    with pytest.raises(Forbidden):
        ses_tenants.put_suppression_attributes(ctx, alpha, "alpha", [], "TENANT")
    assert len(ses_tenants.list_page(ctx, shared["admin"], None, None, None)["Tenants"]) == 3


def test_associations_name_existing_resources_of_every_kind(ctx, admin):
    ses_tenants.create(ctx, admin, {"TenantName": "acme"})
    ses_tenants.create(ctx, admin, {"TenantName": "other"})
    email_identities.create(ctx, admin, {"EmailIdentity": "acme.example"})
    configuration_sets.create(ctx, admin, {"ConfigurationSetName": "acme-set"})
    ses_templates.create(ctx, admin, "acme-welcome", {"Subject": "Hi", "Text": "Hello"})
    identity = _arn(admin, "identity", "acme.example")
    config_set = _arn(admin, "configuration-set", "acme-set")
    template = _arn(admin, "template", "acme-welcome")
    ses_tenants.associate(ctx, admin, "acme", _arn(admin, "identity", "ACME.example"))
    ses_tenants.associate(ctx, admin, "acme", config_set)
    ses_tenants.associate(ctx, admin, "acme", template)
    ses_tenants.associate(ctx, admin, "other", identity)
    with pytest.raises(Conflict):
        ses_tenants.associate(ctx, admin, "acme", identity)
    for missing in (_arn(admin, "identity", "nope.example"), _arn(admin, "configuration-set", "nope"),
                    _arn(admin, "template", "nope"), f"arn:aws:ses:{admin.region}:123456789012:identity/acme.example"):
        with pytest.raises(NotFound):
            ses_tenants.associate(ctx, admin, "acme", missing)
    with pytest.raises(InvalidInput):
        ses_tenants.associate(ctx, admin, "acme", f"arn:aws:ses:{admin.region}:{admin.account_id}:dedicated-ip/x")
    with pytest.raises(NotFound):
        ses_tenants.associate(ctx, admin, "nobody", identity)
    with ctx.db.read() as conn:
        assert store.resources(conn, admin.account_id, admin.region, "acme") == {identity, config_set, template}
        assert store.resource_tenants(conn, admin.account_id, admin.region, identity) == ["acme", "other"]
    listed = ses_tenants.list_resources(ctx, admin, "acme", {"RESOURCE_TYPE": "CONFIGURATION_SET"}, None, None)
    assert listed["TenantResources"] == [{"ResourceType": "CONFIGURATION_SET", "ResourceArn": config_set}]
    page = ses_tenants.list_resources(ctx, admin, "acme", None, 2, None)
    assert len(page["TenantResources"]) == 2 and page["NextToken"]
    assert len(ses_tenants.list_resources(ctx, admin, "acme", None, 2, page["NextToken"])["TenantResources"]) == 1
    tenants_of = ses_tenants.list_resource_tenants(ctx, admin, identity, None, None)["ResourceTenants"]
    assert [(t["TenantName"], t["ResourceArn"]) for t in tenants_of] == [("acme", identity), ("other", identity)]
    assert tenants_of[0]["TenantId"] == ses_tenants.get(ctx, admin, "acme")["TenantId"]
    ses_tenants.dissociate(ctx, admin, "acme", identity)
    with pytest.raises(NotFound):
        ses_tenants.dissociate(ctx, admin, "acme", identity)
    ses_tenants.delete(ctx, admin, "other")  # drops its associations, keeps the identity
    with ctx.db.read() as conn:
        assert store.resource_tenants(conn, admin.account_id, admin.region, identity) == []
    email_identities.delete(ctx, admin, "acme.example")


def test_tenant_callers_list_only_their_own_associations(ctx, admin, shared):
    account_admin, alpha = shared["admin"], shared["alpha"]
    for name in ("alpha", "beta"):
        ses_tenants.create(ctx, account_admin, {"TenantName": name})
    email_identities.create(ctx, account_admin, {"EmailIdentity": "shared.example"})
    identity = _arn(account_admin, "identity", "shared.example")
    ses_tenants.associate(ctx, account_admin, "alpha", identity)
    ses_tenants.associate(ctx, account_admin, "beta", identity)
    assert [r["ResourceArn"] for r in ses_tenants.list_resources(ctx, alpha, "alpha", None, None, None)[
        "TenantResources"]] == [identity]
    with pytest.raises(NotFound):
        ses_tenants.list_resources(ctx, alpha, "beta", None, None, None)
    seen = ses_tenants.list_resource_tenants(ctx, alpha, identity, None, None)["ResourceTenants"]
    assert [t["TenantName"] for t in seen] == ["alpha"]
    with pytest.raises(Forbidden):
        ses_tenants.associate(ctx, alpha, "alpha", identity)
    with pytest.raises(Forbidden):
        ses_tenants.dissociate(ctx, alpha, "alpha", identity)


def test_an_exactly_full_last_page_carries_no_token(ctx, admin):
    for name in ("t-a", "t-b", "t-c", "t-d"):
        ses_tenants.create(ctx, admin, {"TenantName": name})
    first = ses_tenants.list_page(ctx, admin, None, 2, None)
    assert [t["TenantName"] for t in first["Tenants"]] == ["t-a", "t-b"] and first["NextToken"]
    last = ses_tenants.list_page(ctx, admin, None, 2, first["NextToken"])
    assert [t["TenantName"] for t in last["Tenants"]] == ["t-c", "t-d"] and last["NextToken"] is None
    assert ses_tenants.list_page(ctx, admin, None, 4, None)["NextToken"] is None
    for name in ("set-a", "set-b"):
        configuration_sets.create(ctx, admin, {"ConfigurationSetName": name})
        ses_tenants.associate(ctx, admin, "t-a", _arn(admin, "configuration-set", name))
        ses_tenants.associate(ctx, admin, "t-b", _arn(admin, "configuration-set", name))
    resources = ses_tenants.list_resources(ctx, admin, "t-a", None, 2, None)
    assert len(resources["TenantResources"]) == 2 and resources["NextToken"] is None
    tenants = ses_tenants.list_resource_tenants(ctx, admin, _arn(admin, "configuration-set", "set-a"), 2, None)
    assert len(tenants["ResourceTenants"]) == 2 and tenants["NextToken"] is None


def test_a_token_that_is_not_ours_is_invalid_input(ctx, admin):
    for token in ("not-a-token", "bm90IGpzb24="):
        with pytest.raises(InvalidInput):
            ses_tenants.list_page(ctx, admin, None, 2, token)
