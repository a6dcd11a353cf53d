"""The email channel: settings per project, checked against SES identities, and who may change them."""

from __future__ import annotations

import pytest

from pinfold import onboarding
from pinfold.core.errors import Forbidden, InvalidInput, NotFound
from pinfold.email import configuration_sets
from pinfold.email import identities as email_identities
from pinfold.email import tenants as ses_tenants
from pinfold.messaging import channels
from pinfold.messaging.store import channels as channel_store
from tests.service.helpers import account_caller, onboard


def _identity(ctx, caller, name: str) -> str:
    email_identities.create(ctx, caller, {"EmailIdentity": name})
    return f"arn:aws:ses:{caller.region}:{caller.account_id}:identity/{name}"


def _stored(ctx, project_id: str) -> dict | None:
    with ctx.db.read() as conn:
        return channel_store.get(conn, project_id, "EMAIL")


def test_email_channel_settings_round_trip_and_version(ctx, admin, project):
    identity = _identity(ctx, admin, "example.com")
    configuration_sets.create(ctx, admin, {"ConfigurationSetName": "marketing"})
    first = channels.update_email(ctx, admin, project, {
        "FromAddress": "News <news@mail.example.com>", "Identity": identity, "ConfigurationSet": "marketing"})
    assert first == {**first, "ApplicationId": project, "Platform": "EMAIL", "Id": "email", "Version": 1,
                     "Enabled": True, "IsArchived": False, "HasCredential": False, "MessagesPerSecond": 1,
                     "FromAddress": "News <news@mail.example.com>", "Identity": identity,
                     "ConfigurationSet": "marketing", "LastModifiedBy": admin.principal_id}
    second = channels.update_email(ctx, admin, project, {
        "FromAddress": "hello@example.com", "Identity": identity, "Enabled": False, "ConfigurationSet": ""})
    assert (second["Version"], second["Enabled"], second["CreationDate"]) == (2, False, first["CreationDate"])
    assert "ConfigurationSet" not in second  # "" clears it
    assert channels.get_email(ctx, admin, project) == second
    assert _stored(ctx, project) == {"FromAddress": "hello@example.com", "Identity": identity, "Enabled": False}
    listed = channels.list_channels(ctx, admin, project)["Channels"]
    assert list(listed) == ["EMAIL"] and listed["EMAIL"]["Version"] == 2 and listed["EMAIL"]["Enabled"] is False
    assert channels.delete_email(ctx, admin, project)["Version"] == 2
    with pytest.raises(NotFound):
        channels.get_email(ctx, admin, project)
    with pytest.raises(NotFound):
        channels.delete_email(ctx, admin, project)
    assert channels.list_channels(ctx, admin, project) == {"Channels": {}}


@pytest.mark.parametrize(("change", "field"), [
    ({"FromAddress": "not an address"}, "FromAddress"),
    ({"FromAddress": "a..b@example.com"}, "FromAddress"),
    ({"FromAddress": "news@other.org"}, "FromAddress"),  # the identity does not cover it
    ({"FromAddress": "news@notexample.com"}, "FromAddress"),
    ({"Identity": "example.com"}, "Identity"),
    ({"Identity": "arn:aws:ses:us-east-1:123456789012:identity/example.com"}, "Identity"),  # another account
    ({"Identity": "arn:aws:ses:{region}:{account}:identity/missing.com"}, "Identity"),
    ({"Identity": "arn:aws:sns:{region}:{account}:identity/example.com"}, "Identity"),
    ({"RoleArn": "role/events"}, "RoleArn"),
    ({"ConfigurationSet": "nope"}, "ConfigurationSet"),
])
def test_bad_settings_name_the_field_and_store_nothing(ctx, admin, project, change, field):
    identity = _identity(ctx, admin, "example.com")
    request = {"FromAddress": "news@example.com", "Identity": identity, **change}
    request["Identity"] = request["Identity"].format(region=admin.region, account=admin.account_id)
    with pytest.raises(InvalidInput) as caught:
        channels.update_email(ctx, admin, project, request)
    assert caught.value.field == field
    assert _stored(ctx, project) is None


def test_an_address_identity_covers_only_itself(ctx, admin, project):
    identity = _identity(ctx, admin, "ops@example.com")
    with pytest.raises(InvalidInput):
        channels.update_email(ctx, admin, project, {"FromAddress": "other@example.com", "Identity": identity})
    made = channels.update_email(ctx, admin, project, {"FromAddress": "Ops@Example.com", "Identity": identity})
    assert made["FromAddress"] == "Ops@Example.com"


def test_only_the_operator_configures_a_shared_projects_channel(ctx, admin):
    placed, tenant = onboard(ctx, admin, "acme", "sa-sp")
    shared = placed["project_id"]
    operator = account_caller(ctx, admin, placed["account_id"])
    identity = _identity(ctx, operator, "example.com")
    request = {"FromAddress": "news@example.com", "Identity": identity}
    for call in (lambda: channels.update_email(ctx, tenant, shared, request),
                 lambda: channels.get_email(ctx, tenant, shared),
                 lambda: channels.delete_email(ctx, tenant, shared),
                 lambda: channels.list_channels(ctx, tenant, shared)):
        with pytest.raises(Forbidden):
            call()
    assert channels.update_email(ctx, operator, shared, request)["Version"] == 1
    assert _stored(ctx, shared)["FromAddress"] == "news@example.com"


def test_sa_mp_tenants_use_only_their_ses_tenants_identities(ctx, admin):
    a_place, a = onboard(ctx, admin, "alpha", "sa-mp")
    b_place, b = onboard(ctx, admin, "bravo", "sa-mp")
    operator = account_caller(ctx, admin, a_place["account_id"])
    alpha_arn = _identity(ctx, operator, "alpha.example")
    _identity(ctx, operator, "bravo.example")
    ses_tenants.create(ctx, operator, {"TenantName": "alpha"})
    ses_tenants.associate(ctx, operator, "alpha", alpha_arn)
    mine = channels.update_email(ctx, a, a_place["project_id"], {"FromAddress": "hi@alpha.example",
                                                                "Identity": alpha_arn})
    assert mine["ApplicationId"] == a_place["project_id"]
    bravo_arn = alpha_arn.replace("alpha.example", "bravo.example")
    with pytest.raises(InvalidInput) as caught:  # bravo's domain, never associated with alpha
        channels.update_email(ctx, a, a_place["project_id"], {"FromAddress": "hi@bravo.example",
                                                              "Identity": bravo_arn})
    assert caught.value.field == "Identity"
    with pytest.raises(InvalidInput):  # bravo has no SES tenant, so no identity at all
        channels.update_email(ctx, b, b_place["project_id"], {"FromAddress": "hi@bravo.example",
                                                              "Identity": bravo_arn})
    for call in (lambda: channels.get_email(ctx, b, a_place["project_id"]),
                 lambda: channels.delete_email(ctx, b, a_place["project_id"])):
        with pytest.raises(NotFound):
            call()
    assert channels.get_email(ctx, a, a_place["project_id"]) == mine


def test_ma_mp_tenants_manage_their_own_accounts_channel(ctx, admin):
    placed, tenant = onboard(ctx, admin, "solo", "ma-mp")
    identity = _identity(ctx, tenant, "solo.example")
    made = channels.update_email(ctx, tenant, placed["project_id"], {"FromAddress": "a@solo.example",
                                                                    "Identity": identity})
    assert made["Identity"].split(":")[4] == placed["account_id"]


def test_deleting_a_project_removes_its_channels(ctx, admin, project):
    identity = _identity(ctx, admin, "example.com")
    channels.update_email(ctx, admin, project, {"FromAddress": "news@example.com", "Identity": identity})
    onboarding.delete_project(ctx, admin, project)
    assert _stored(ctx, project) is None
