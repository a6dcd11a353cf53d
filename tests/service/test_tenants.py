"""The tenant registry: placement per model, status changes, offboarding and key revocation."""

from __future__ import annotations

import pytest

from pinfold import onboarding as tenants
from pinfold.audience import endpoints
from pinfold.core.access import Caller
from pinfold.core.errors import Conflict, Forbidden, LimitExceeded, NotFound, UnrecognizedClient
from pinfold.projects import projects
from pinfold.tenancy import identity, organization
from tests.service.helpers import caller_for_credentials, onboard, operator


def test_sa_sp_tenants_share_one_project_in_the_shared_account(ctx):
    admin = operator(ctx)
    a, _ = onboard(ctx, admin, "a", "sa-sp")
    b, _ = onboard(ctx, admin, "b", "sa-sp")
    assert a["project_id"] == b["project_id"] and a["account_id"] == b["account_id"] != admin.account_id
    assert (a["attribute_key"], a["attribute_value"]) == ("TenantId", "a")


def test_sa_mp_tenants_get_projects_in_the_shared_account(ctx):
    admin = operator(ctx)
    a, _ = onboard(ctx, admin, "a", "sa-mp")
    b, _ = onboard(ctx, admin, "b", "sa-mp")
    assert a["account_id"] == b["account_id"] and a["project_id"] != b["project_id"]


def test_sa_mp_onboarding_stops_at_the_project_cap(ctx):
    admin = operator(ctx)
    first, _ = onboard(ctx, admin, "first", "sa-mp")
    organization.set_project_cap(ctx, admin, first["account_id"], 1)
    with pytest.raises(LimitExceeded, match="Project limit exceeded"):
        onboard(ctx, admin, "second", "sa-mp")
    with pytest.raises(NotFound):
        tenants.show(ctx, admin, "second")


def test_ma_mp_tenants_get_their_own_accounts(ctx):
    admin = operator(ctx)
    a, a_caller = onboard(ctx, admin, "a", "ma-mp")
    b, _ = onboard(ctx, admin, "b", "ma-mp")
    assert len({a["account_id"], b["account_id"], admin.account_id}) == 3
    # An ma-mp tenant reaches its whole account, so it may add projects there.
    extra = projects.create(ctx, a_caller, {"Name": "second project"})
    assert extra["Arn"].split(":")[4] == a["account_id"]


def test_suspended_tenants_are_refused_and_resumed_ones_are_not(ctx):
    admin = operator(ctx)
    result = tenants.onboard(ctx, admin, tenant_id="acme", model="sa-mp")
    tenants.set_status(ctx, admin, "acme", "suspended")
    with pytest.raises(Forbidden, match="acme is suspended"):
        caller_for_credentials(ctx, result["credentials"])
    tenants.set_status(ctx, admin, "acme", "active")
    assert caller_for_credentials(ctx, result["credentials"]).tenant_id == "acme"


@pytest.mark.parametrize("model", ["sa-sp", "sa-mp", "ma-mp"])
def test_offboarding_removes_data_as_the_model_dictates_and_revokes_keys(ctx, model):
    admin = operator(ctx)
    result = tenants.onboard(ctx, admin, tenant_id="gone", model=model)
    keep, keep_caller = onboard(ctx, admin, "kept", model)
    gone = caller_for_credentials(ctx, result["credentials"])
    project_id = result["tenant"]["project_id"]
    endpoints.update_endpoint(ctx, gone, project_id, "e1", {"ChannelType": "SMS", "Address": "+15550001"})
    kept_endpoint = {"ChannelType": "SMS", "Address": "+15550002"}
    endpoints.update_endpoint(ctx, keep_caller, keep["project_id"], "e2", kept_endpoint)
    outcome = tenants.offboard(ctx, admin, "gone")
    assert outcome["tenant"]["status"] == "offboarded" and outcome["removed"]["revoked_keys"] == 1
    with pytest.raises(UnrecognizedClient):
        identity.lookup_key(ctx, result["credentials"]["aws_access_key_id"])
    assert endpoints.get(ctx, keep_caller, keep["project_id"], "e2")["Address"] == "+15550002"
    operator_of_account = _account_scope(ctx, result["tenant"]["account_id"])
    if model == "sa-sp":  # the shared project stays; only the tenant's endpoints go
        projects.get(ctx, operator_of_account, project_id)
        with pytest.raises(NotFound):
            endpoints.get(ctx, operator_of_account, project_id, "e1")
    else:
        with pytest.raises(NotFound):
            projects.get(ctx, operator_of_account, project_id)


def _account_scope(ctx, account_id: str) -> Caller:
    return Caller(principal_id="test", account_id=account_id, region=ctx.settings.region, scope="account")


def test_tenant_ids_are_unique_and_models_checked(ctx):
    admin = operator(ctx)
    onboard(ctx, admin, "dup", "sa-sp")
    with pytest.raises(Conflict):
        onboard(ctx, admin, "dup", "sa-mp")
    with pytest.raises(Exception, match="Unknown tenancy model"):
        onboard(ctx, admin, "x", "mt-mp")


def test_only_organization_admins_manage_tenants(ctx):
    admin = operator(ctx)
    _row, tenant = onboard(ctx, admin, "t", "ma-mp")
    with pytest.raises(Forbidden):
        tenants.list_all(ctx, tenant)
    with pytest.raises(Forbidden):
        tenants.onboard(ctx, tenant, tenant_id="sneaky", model="sa-sp")


def test_secrets_are_encrypted_at_rest_and_the_master_key_is_private(ctx):
    import sqlalchemy as sa

    from pinfold.db.tables import access_keys

    creds = organization.bootstrap(ctx)
    with ctx.db.read() as conn:
        stored = [row.secret_ciphertext for row in conn.execute(sa.select(access_keys))]
    assert stored and all(creds["aws_secret_access_key"] not in value for value in stored)
    assert (ctx.settings.data_dir / "master.key").stat().st_mode & 0o777 == 0o600
    assert repr(ctx.secrets) == "SecretBox(<hidden>)" and "master_key" not in repr(ctx.settings)


def test_database_errors_never_carry_the_values_they_were_given(ctx):
    import sqlalchemy as sa

    with pytest.raises(sa.exc.DBAPIError) as caught, ctx.db.read() as conn:
        conn.execute(sa.text("SELECT * FROM no_such_table WHERE secret = :value"), {"value": "hunter2-secret"})
    assert "hunter2-secret" not in str(caught.value)


def test_sa_sp_refuses_a_tenant_whose_app_is_not_the_shared_projects(ctx):
    from pinfold.core.errors import InvalidInput
    from pinfold.messaging import channels
    from pinfold.tenancy.store import tenants as registry
    from tests.push_fakes import apple_key

    admin = operator(ctx)
    first = tenants.onboard(ctx, admin, tenant_id="first", model="sa-sp", app_id="com.example.shop")["tenant"]
    assert first["metadata"][tenants.APP_KEY] == "com.example.shop"
    tenants.onboard(ctx, admin, tenant_id="same-app", model="sa-sp", app_id="com.example.shop")
    refusals = []
    for tenant_id, options in (("other-app", {"app_id": "com.example.other"}),
                               ("own-keys", {"own_push_credentials": True})):
        with pytest.raises(InvalidInput) as refused:
            tenants.onboard(ctx, admin, tenant_id=tenant_id, model="sa-sp", **options)
        refusals.append(refused.value)
        with ctx.db.read() as conn:
            assert registry.get_tenant(conn, tenant_id) is None  # nothing was placed
    assert [r.field for r in refusals] == ["app_id", "own_push_credentials"]
    assert all("sa-mp or ma-mp" in r.message for r in refusals)
    # The shared project's APNs channel names its app from now on.
    owner = caller_for_credentials(ctx, tenants.create_access_key(ctx, admin, scope="account",
                                                                  account_id=first["account_id"]))
    channels.update(ctx, owner, first["project_id"], "APNS", {
        "TokenKey": apple_key(), "TokenKeyId": "ABC123DEFG", "TeamId": "TEAM123456", "BundleId": "com.example.app"})
    with pytest.raises(InvalidInput, match=r"not the shared project's app \(com.example.app\)"):
        tenants.onboard(ctx, admin, tenant_id="late", model="sa-sp", app_id="com.example.shop")
    tenants.onboard(ctx, admin, tenant_id="fits", model="sa-sp", app_id="com.example.app")
    # In sa-mp and ma-mp the project is the tenant's own: any app, its own credentials.
    for model in ("sa-mp", "ma-mp"):
        tenants.onboard(ctx, admin, tenant_id=f"own-{model}", model=model, app_id="com.example.other",
                        own_push_credentials=True)
