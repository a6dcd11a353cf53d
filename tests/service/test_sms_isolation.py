"""SMS tenancy in the three models: onboarding with an SMS pool, the rule that keeps a tenant to its
own pool and configuration set (sms/access.py), what confined callers see of other tenants' pools,
sets and numbers (absent, in every Describe* and every operation naming one), offboarding a
tenant's SMS resources, and property-based isolation over random sequences of operations by two
tenants (numbers, pools, opt-out lists, opted-out numbers, keywords, configuration sets, sends) and
over random shared accounts (what Describe* shows a confined caller) in sa-sp, sa-mp and ma-mp."""

from __future__ import annotations

import itertools
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinfold import onboarding
from pinfold.config import Settings
from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import Conflict, Forbidden, InvalidInput, NotFound, PinfoldError
from pinfold.projects import store as tag_store
from pinfold.sms import access, configuration_sets, identities, opt_outs, pools, send, tags
from pinfold.sms import account as sms_account
from pinfold.sms.rules import prices
from pinfold.sms.store import messages, resources, spend
from pinfold.tenancy.store import tenants
from tests.conftest import ON_POSTGRES, _database_url, _postgres_admin_engine
from tests.service.helpers import account_caller, caller_for_credentials, operator

US_SUCCESS, US_FAILURE = "+14254147755", "+14254147167"
DESTINATIONS = (US_SUCCESS, US_FAILURE)
SIMULATOR = {"IsoCountryCode": "US", "NumberType": "SIMULATOR", "MessageType": "TRANSACTIONAL",
             "NumberCapabilities": ["SMS"]}


def _onboard(ctx, admin: Caller, tenant_id: str, model: str, **sms) -> tuple[dict, Caller]:
    result = onboarding.onboard(ctx, admin, tenant_id=tenant_id, model=model, **sms)
    return result["tenant"], caller_for_credentials(ctx, result["credentials"])


def _text(ctx, caller: Caller, destination: str = US_SUCCESS, **request) -> dict:
    return send.send_text_message(ctx, caller, {"DestinationPhoneNumber": destination, "MessageBody": "hello",
                                                **request})


def _message(ctx, message_id: str) -> dict:
    with ctx.db.read() as conn:
        return messages.get(conn, message_id)


# --- onboarding ------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["sa-sp", "sa-mp", "ma-mp"])
def test_onboarding_with_an_sms_pool_gives_the_tenant_a_pool_and_set_of_its_own(ctx, admin, model):
    tenant, _ = _onboard(ctx, admin, "acme", model, sms_pool=True)
    placed = tenant["metadata"][access.REGISTRY_KEY]
    assert (placed["account_id"], placed["region"], placed["configuration_set"]) == (
        tenant["account_id"], tenant["region"], "tenant-acme")
    owner = account_caller(ctx, admin, tenant["account_id"])
    pool = pools.describe(ctx, owner, [placed["pool_id"]])["Pools"][0]
    assert (pool["MessageType"], pool["OptOutListName"]) == ("TRANSACTIONAL", "Default")
    members = pools.list_identities(ctx, owner, placed["pool_id"])["OriginationIdentities"]
    assert [item["OriginationIdentity"] for item in members] == [placed["phone_number_id"]]
    number = identities.describe_numbers(ctx, owner, [placed["phone_number_id"]])["PhoneNumbers"][0]
    assert (number["NumberType"], number["PhoneNumber"]) == ("SIMULATOR", placed["phone_number"])
    assert configuration_sets.describe(ctx, owner, ["tenant-acme"])["ConfigurationSets"]
    for arn in (pool["PoolArn"], f"arn:aws:sms-voice:{tenant['region']}:{tenant['account_id']}:"
                                 "configuration-set/tenant-acme"):
        assert {"Key": access.TENANT_TAG, "Value": "acme"} in tags.list_tags(ctx, owner, arn)["Tags"]
    with ctx.db.read() as conn:
        row = resources.get(conn, tenant["account_id"], tenant["region"], "pool", placed["pool_id"])
    assert access.owner_of(row["document"]) == ("acme" if model != "ma-mp" else None)
    assert "_tenant" not in pool


def test_without_the_option_nothing_sms_is_made(ctx, admin):
    tenant, _ = _onboard(ctx, admin, "plain", "sa-mp")
    assert access.REGISTRY_KEY not in tenant["metadata"]
    owner = account_caller(ctx, admin, tenant["account_id"])
    assert pools.describe(ctx, owner)["Pools"] == []


def test_an_existing_number_of_the_shared_account_can_start_the_pool(ctx, admin):
    first, _ = _onboard(ctx, admin, "first", "sa-mp")
    owner = account_caller(ctx, admin, first["account_id"])
    number = identities.request_number(ctx, owner, SIMULATOR)
    tenant, _ = _onboard(ctx, admin, "second", "sa-sp", sms_pool=True, sms_number=number["PhoneNumber"])
    placed = tenant["metadata"][access.REGISTRY_KEY]
    assert placed["phone_number_id"] == number["PhoneNumberId"]
    with pytest.raises(Conflict):  # a number is in one pool at most
        _onboard(ctx, admin, "third", "sa-mp", sms_pool=True, sms_number=number["PhoneNumberId"])


@pytest.mark.parametrize("model, options, field_name", [
    ("sa-mp", {"sms_country": "USA"}, "sms_country"),
    ("sa-mp", {"sms_country": "DE", "sms_number_type": "SIMULATOR"}, "sms_number_type"),
    ("sa-mp", {"sms_number_type": "SHORT_CODE"}, "sms_number_type"),
    ("sa-mp", {"sms_message_type": "PROMOTIONAL"}, "sms_message_type"),
    ("ma-mp", {"sms_number": "+12015550100"}, "sms_number"),
    ("sa-sp", {"metadata": {access.REGISTRY_KEY: {"pool_id": "pool-x"}}}, "metadata"),
])
def test_bad_sms_options_are_refused_before_anything_is_written(ctx, admin, model, options, field_name):
    with pytest.raises(InvalidInput) as refused:
        onboarding.onboard(ctx, admin, tenant_id="bad", model=model, sms_pool=True, **options)
    assert refused.value.field == field_name
    with ctx.db.read() as conn:
        assert tenants.get_tenant(conn, "bad") is None


def test_a_missing_existing_number_leaves_no_tenant(ctx, admin):
    with pytest.raises(NotFound):
        onboarding.onboard(ctx, admin, tenant_id="ghost", model="sa-mp", sms_pool=True, sms_number="+12015550100")
    with ctx.db.read() as conn:
        assert tenants.get_tenant(conn, "ghost") is None


def test_long_tenant_ids_get_a_configuration_set_name_within_64_characters():
    long_id = "t" * 64
    name = onboarding.sms_set_name(long_id)
    assert len(name) == 64 and name.startswith("tenant-t")
    assert name != onboarding.sms_set_name("t" * 63 + "u")


# --- the rule, as a pure function ------------------------------------------------------------------

def test_verdicts():
    pooled, shared = access.Scope("a", "pool-a", "tenant-a"), access.Scope("c")
    assert access.verdict(None, {"pool-b": "b"}) == access.ALLOWED
    assert access.verdict(pooled, {"pool-a": "a"}) == access.ALLOWED
    assert access.verdict(pooled, {"pool-b": "b"}) == access.HIDDEN
    assert access.verdict(pooled, {"pool-s": None}) == access.DENIED
    assert access.verdict(pooled, {}) == access.DENIED
    assert access.verdict(shared, {}) == access.ALLOWED
    assert access.verdict(shared, {"pool-s": None}) == access.ALLOWED
    assert access.verdict(shared, {"pool-b": "b"}) == access.HIDDEN
    assert access.verdict(access.Scope(None), {"pool-b": "b"}) == access.HIDDEN
    assert access.set_verdict(pooled, "tenant-a", "a") == access.ALLOWED
    assert access.set_verdict(pooled, "tenant-b", "b") == access.HIDDEN
    assert access.set_verdict(pooled, "operator-set", None) == access.DENIED
    assert access.set_verdict(shared, "operator-set", None) == access.ALLOWED
    assert access.visible(shared, {"_tenant": "b"}) is False and access.visible(None, {"_tenant": "b"})


# --- sending in a shared account -------------------------------------------------------------------

@pytest.fixture
def shared(ctx, admin):
    """Two sa-mp tenants with SMS pools, one without, and a number the account keeps for everyone."""
    a, caller_a = _onboard(ctx, admin, "a", "sa-mp", sms_pool=True)
    b, caller_b = _onboard(ctx, admin, "b", "sa-sp", sms_pool=True)
    c, caller_c = _onboard(ctx, admin, "c", "sa-mp")
    owner = account_caller(ctx, admin, a["account_id"])
    number = identities.request_number(ctx, owner, SIMULATOR)
    return {"a": (a["metadata"][access.REGISTRY_KEY], caller_a), "b": (b["metadata"][access.REGISTRY_KEY], caller_b),
            "c": caller_c, "owner": owner, "number": number}


def test_a_tenant_with_a_pool_sends_through_it_by_default_and_with_its_set(ctx, shared):
    placed, caller = shared["a"]
    message = _message(ctx, _text(ctx, caller)["MessageId"])
    assert (message["tenant_id"], message["message"]["pool_id"]) == ("a", placed["pool_id"])
    assert message["message"]["origination"] == placed["phone_number"]
    assert message["message"]["configuration_set"] == "tenant-a"
    for named in (placed["pool_id"], placed["phone_number"], placed["phone_number_id"]):
        assert _text(ctx, caller, OriginationIdentity=named, ConfigurationSetName="tenant-a")["MessageId"]


def test_a_tenant_with_a_pool_cannot_use_what_the_account_shares(ctx, shared):
    _, caller = shared["a"]
    for request in ({"OriginationIdentity": shared["number"]["PhoneNumber"]},
                    {"OriginationIdentity": shared["number"]["PhoneNumberArn"]}):
        with pytest.raises(Forbidden, match="own pool"):
            _text(ctx, caller, **request)
    configuration_sets.create(ctx, shared["owner"], "operator-set")
    with pytest.raises(Forbidden):
        _text(ctx, caller, ConfigurationSetName="operator-set")


def test_another_tenants_pool_number_and_set_look_absent(ctx, shared):
    placed_b, _ = shared["b"]
    pool_arn = f"arn:aws:sms-voice:us-east-1:{shared['owner'].account_id}:pool/{placed_b['pool_id']}"
    for caller in (shared["a"][1], shared["c"]):
        for request in ({"OriginationIdentity": placed_b["pool_id"]}, {"OriginationIdentity": pool_arn},
                        {"OriginationIdentity": placed_b["phone_number"]},
                        {"OriginationIdentity": placed_b["phone_number_id"]},
                        {"ConfigurationSetName": "tenant-b"}):
            with pytest.raises(NotFound) as refused:
                _text(ctx, caller, **request)
            missing = request.get("OriginationIdentity") or request["ConfigurationSetName"]
            assert refused.value.details["ResourceId"] == missing


def test_a_tenant_without_a_pool_shares_the_accounts_numbers_but_not_tenants_pools(ctx, shared):
    message = _message(ctx, _text(ctx, shared["c"])["MessageId"])
    assert message["message"]["origination"] == shared["number"]["PhoneNumber"]
    assert message["message"]["pool_id"] is None
    pools.create(ctx, shared["owner"], {"OriginationIdentity": shared["number"]["PhoneNumberId"],
                                        "MessageType": "TRANSACTIONAL"})
    assert _message(ctx, _text(ctx, shared["c"])["MessageId"])["message"]["pool_id"] is None  # the number, not its pool


def test_the_account_still_sends_through_any_pool(ctx, shared):
    placed_b, _ = shared["b"]
    assert _text(ctx, shared["owner"], OriginationIdentity=placed_b["pool_id"], ConfigurationSetName="tenant-a")


def test_a_stop_on_the_shared_list_blocks_every_tenant(ctx, shared):
    opt_outs.put_number(ctx, shared["owner"], "Default", US_SUCCESS)
    for caller in (shared["a"][1], shared["b"][1], shared["c"]):
        with pytest.raises(Conflict) as refused:
            _text(ctx, caller)
        assert refused.value.details["Reason"] == "DESTINATION_PHONE_NUMBER_OPTED_OUT"
    assert _text(ctx, shared["a"][1], US_FAILURE)["MessageId"]


def test_a_tenant_whose_pool_was_deleted_is_refused_not_rerouted(ctx, shared):
    placed, caller = shared["a"]
    pools.delete(ctx, shared["owner"], placed["pool_id"])
    with pytest.raises(NotFound):
        _text(ctx, caller)


# --- what confined callers see: another tenant's pool, set and pooled numbers are absent ----------------

def _pool_arn(shared: dict, pool_id: str) -> str:
    return f"arn:aws:sms-voice:us-east-1:{shared['owner'].account_id}:pool/{pool_id}"


def _project_key(ctx, admin, tenant: Caller) -> Caller:
    """A project key of a tenant's project: confined, and no tenant."""
    creds = onboarding.create_access_key(ctx, admin, scope="project", account_id=tenant.account_id,
                                         project_id=tenant.pinned_project())
    return caller_for_credentials(ctx, creds)


def _listed(ctx, caller: Caller) -> dict[str, set[str]]:
    """Everything the Describe* listings show the caller, one item a page (so paging is exercised too)."""
    calls = {"pools": (pools.describe, "Pools", "PoolId"),
             "numbers": (identities.describe_numbers, "PhoneNumbers", "PhoneNumberId"),
             "sender_ids": (identities.describe_sender_ids, "SenderIds", "SenderIdArn"),
             "sets": (configuration_sets.describe, "ConfigurationSets", "ConfigurationSetName")}
    seen: dict[str, set[str]] = {}
    for name, (call, member, key) in calls.items():
        seen[name], token = set(), None
        while True:
            answer = call(ctx, caller, max_results=1, token=token)
            seen[name] |= {item[key] for item in answer[member]}
            token = answer.get("NextToken")
            if not token:
                break
    return seen


def test_confined_callers_do_not_see_another_tenants_pool_set_or_number_in_listings(ctx, admin, shared):
    placed_a, caller_a = shared["a"]
    placed_b, caller_b = shared["b"]
    configuration_sets.create(ctx, shared["owner"], "operator-set")
    viewers = {"a": caller_a, "c": shared["c"], "project key": _project_key(ctx, admin, shared["c"])}
    for who, caller in viewers.items():
        seen = _listed(ctx, caller)
        assert placed_b["pool_id"] not in seen["pools"], who
        assert placed_b["phone_number_id"] not in seen["numbers"], who
        assert "tenant-b" not in seen["sets"], who
        assert shared["number"]["PhoneNumberId"] in seen["numbers"] and "operator-set" in seen["sets"], who
    assert placed_a["pool_id"] in _listed(ctx, caller_a)["pools"]
    assert "tenant-a" not in _listed(ctx, viewers["project key"])["sets"]
    everything = _listed(ctx, shared["owner"])  # the account sees every tenant's
    assert {placed_a["pool_id"], placed_b["pool_id"]} <= everything["pools"]
    assert {"tenant-a", "tenant-b", "operator-set"} <= everything["sets"]
    assert placed_b["pool_id"] in _listed(ctx, caller_b)["pools"]


def _read_calls(shared: dict, pool_id: str, number_id: str, set_name: str) -> dict:
    """Every read that names a pool, number or set, as a confined caller may make it."""
    arn = _pool_arn(shared, pool_id)
    return {
        "DescribePools": lambda ctx, caller: pools.describe(ctx, caller, [pool_id]),
        "DescribePools by ARN": lambda ctx, caller: pools.describe(ctx, caller, [arn]),
        "DescribePhoneNumbers": lambda ctx, caller: identities.describe_numbers(ctx, caller, [number_id]),
        "DescribeConfigurationSets": lambda ctx, caller: configuration_sets.describe(ctx, caller, [set_name]),
        "ListPoolOriginationIdentities": lambda ctx, caller: pools.list_identities(ctx, caller, pool_id),
        "DescribeKeywords on the pool": lambda ctx, caller: pools.describe_keywords(ctx, caller, pool_id),
        "DescribeKeywords on the number": lambda ctx, caller: pools.describe_keywords(ctx, caller, number_id),
        "ListTagsForResource": lambda ctx, caller: tags.list_tags(ctx, caller, arn),
    }


def _change_calls(pool_id: str, number_id: str, set_name: str, shared_number: str) -> dict:
    """Every change that names a pool, number or set."""
    def destination(caller: Caller) -> dict:
        return {"MatchingEventTypes": ["ALL"],
                "SnsDestination": {"TopicArn": f"arn:aws:sns:us-east-1:{caller.account_id}:t"}}
    return {
        "UpdatePool": lambda ctx, caller: pools.update(ctx, caller, {"PoolId": pool_id, "TwoWayEnabled": False}),
        "DeletePool": lambda ctx, caller: pools.delete(ctx, caller, pool_id),
        "AssociateOriginationIdentity": lambda ctx, caller: pools.associate(ctx, caller, pool_id, shared_number),
        "DisassociateOriginationIdentity": lambda ctx, caller: pools.disassociate(ctx, caller, pool_id, number_id),
        "PutKeyword": lambda ctx, caller: pools.put_keyword(ctx, caller, pool_id, "INFO", "hi"),
        "DeleteKeyword": lambda ctx, caller: pools.delete_keyword(ctx, caller, pool_id, "INFO"),
        "UpdatePhoneNumber": lambda ctx, caller: identities.update_number(ctx, caller, {"PhoneNumberId": number_id}),
        "ReleasePhoneNumber": lambda ctx, caller: identities.release_number(ctx, caller, number_id),
        "DeleteConfigurationSet": lambda ctx, caller: configuration_sets.delete(ctx, caller, set_name),
        "SetDefaultSenderId": lambda ctx, caller: configuration_sets.set_default_sender_id(ctx, caller, set_name,
                                                                                          "ACME"),
        "DeleteDefaultMessageType": lambda ctx, caller: configuration_sets.delete_default_message_type(
            ctx, caller, set_name),
        "CreateEventDestination": lambda ctx, caller: configuration_sets.create_destination(
            ctx, caller, set_name, "d", destination(caller)),
        "TagResource": lambda ctx, caller: tags.tag_resource(ctx, caller, f"arn:aws:sms-voice:us-east-1:"
                                                             f"{caller.account_id}:pool/{pool_id}",
                                                             [{"Key": "k", "Value": "v"}]),
    }


def _outcome(call, ctx, caller) -> tuple:
    """What a call answers, with the resource's own name taken out: the same for hidden and missing."""
    try:
        call(ctx, caller)
    except PinfoldError as error:
        return type(error).__name__, (error.details or {}).get("ResourceType")
    return ("answered",)


def test_another_tenants_pool_set_and_number_answer_exactly_as_missing_ones(ctx, shared):
    placed_b, _ = shared["b"]
    hidden = (placed_b["pool_id"], placed_b["phone_number_id"], placed_b["configuration_set"])
    missing = ("pool-0123456789abcdef0123456789abcdef", "phone-0123456789abcdef0123456789abcdef", "no-such-set")
    reads = (_read_calls(shared, *hidden), _read_calls(shared, *missing))
    shared_number = shared["number"]["PhoneNumberId"]
    changes = (_change_calls(*hidden, shared_number), _change_calls(*missing, shared_number))
    for caller in (shared["a"][1], shared["c"]):
        for name in reads[0]:
            outcome = _outcome(reads[0][name], ctx, caller)
            assert outcome[0] == "NotFound" and outcome == _outcome(reads[1][name], ctx, caller), name
        for name in changes[0]:  # confined callers change nothing: refused before anything is looked up
            assert _outcome(changes[0][name], ctx, caller) == _outcome(changes[1][name], ctx, caller) == (
                "Forbidden", None), name
    for name, call in _read_calls(shared, *hidden).items():  # the account and the owner see them
        assert _outcome(call, ctx, shared["owner"]) == ("answered",), name
        assert _outcome(call, ctx, shared["b"][1]) == ("answered",), name


def test_a_tenant_sees_its_own_pool_members_and_keywords(ctx, shared):
    placed, caller = shared["a"]
    members = pools.list_identities(ctx, caller, placed["pool_id"])["OriginationIdentities"]
    assert [item["OriginationIdentity"] for item in members] == [placed["phone_number_id"]]
    keywords = pools.describe_keywords(ctx, caller, placed["pool_id"])["Keywords"]
    assert {item["Keyword"] for item in keywords} == {"HELP", "STOP"}
    assert identities.describe_numbers(ctx, caller, [placed["phone_number"]])["PhoneNumbers"]


def test_a_sender_id_held_only_by_another_tenants_pool_is_hidden(ctx, shared):
    placed_a, caller_a = shared["a"]
    placed_b, caller_b = shared["b"]
    sender = identities.request_sender_id(ctx, shared["owner"], {"SenderId": "ACME", "IsoCountryCode": "GB"})
    pools.associate(ctx, shared["owner"], placed_b["pool_id"], sender["SenderIdArn"])
    for caller in (caller_a, shared["c"]):
        assert sender["SenderIdArn"] not in _listed(ctx, caller)["sender_ids"]
        with pytest.raises(NotFound):
            identities.describe_sender_ids(ctx, caller, [{"SenderId": "ACME", "IsoCountryCode": "GB"}])
    assert sender["SenderIdArn"] in _listed(ctx, caller_b)["sender_ids"]
    pools.associate(ctx, shared["owner"], placed_a["pool_id"], sender["SenderIdArn"])  # now a's pool holds it too
    assert sender["SenderIdArn"] in _listed(ctx, caller_a)["sender_ids"]
    assert sender["SenderIdArn"] not in _listed(ctx, shared["c"])["sender_ids"]


def test_ma_mp_tenants_see_their_whole_account(ctx, admin):
    tenant, caller = _onboard(ctx, admin, "solo", "ma-mp", sms_pool=True)
    placed = tenant["metadata"][access.REGISTRY_KEY]
    seen = _listed(ctx, caller)
    assert placed["pool_id"] in seen["pools"] and "tenant-solo" in seen["sets"]
    pools.update(ctx, caller, {"PoolId": placed["pool_id"], "DeletionProtectionEnabled": True})


SHARED_STEPS = st.lists(st.one_of(
    st.tuples(st.just("number"), st.sampled_from((None, 0, 1, 2))),  # a number: loose, or into a tenant's pool
    st.tuples(st.just("shared_pool"), st.none()),
    st.tuples(st.just("sender"), st.sampled_from((None, 0, 1, 2))),
    st.tuples(st.just("set"), st.none()),
), max_size=8)


def _build(ctx, owner: Caller, placed: list[dict | None], steps: list[tuple], counter: itertools.count) -> None:
    """The account administrator adds numbers, pools, sender ids and sets, some into tenants' pools."""
    for kind, target in steps:
        index = next(counter)
        pool_id = placed[target]["pool_id"] if target is not None and placed[target] else None
        if kind == "number":
            identities.request_number(ctx, owner, {**SIMULATOR, **({"PoolId": pool_id} if pool_id else {})})
        elif kind == "shared_pool":
            number = identities.request_number(ctx, owner, SIMULATOR)
            pools.create(ctx, owner, {"OriginationIdentity": number["PhoneNumberId"], "MessageType": "TRANSACTIONAL"})
        elif kind == "sender":
            sender = identities.request_sender_id(ctx, owner, {"SenderId": f"S{index}", "IsoCountryCode": "GB"})
            if pool_id:
                pools.associate(ctx, owner, pool_id, sender["SenderIdArn"])
        else:
            configuration_sets.create(ctx, owner, f"set-{index}")


def _owned(ctx, owner: Caller, tenant_id: str | None) -> dict[str, set[str]]:
    """The pools, sets, pooled numbers and pooled sender ids (ARNs) that tenants other than `tenant_id` own."""
    with ctx.db.read() as conn:
        rows = {kind: resources.listing(conn, owner.account_id, owner.region, kind)
                for kind in ("pool", "phone-number", "configuration-set")}
    theirs = [row for row in rows["pool"] if access.owner_of(row["document"]) not in (None, tenant_id)]
    mine = [row for row in rows["pool"] if access.owner_of(row["document"]) == tenant_id]
    pooled = {key for row in theirs for key in row["document"].get("_sender_ids", [])}
    pooled -= {key for row in mine for key in row["document"].get("_sender_ids", [])}
    return {"pools": {row["id"] for row in theirs},
            "numbers": {row["id"] for row in rows["phone-number"] if row["pool_id"] in {p["id"] for p in theirs}},
            "sender_ids": {identities.arn(owner, "sender-id", key) for key in pooled},
            "sets": {row["id"] for row in rows["configuration-set"]
                     if access.owner_of(row["document"]) not in (None, tenant_id)}}


@pytest.mark.parametrize("model", ["sa-sp", "sa-mp"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(with_pools=st.tuples(st.booleans(), st.booleans(), st.booleans()), steps=SHARED_STEPS)
def test_confined_describe_never_shows_another_tenants_resources(template, model, with_pools, steps):
    with _fresh_context() as ctx:
        admin = operator(ctx)
        tenants_made = [_onboard(ctx, admin, f"t{index}", model, sms_pool=with_pool)
                        for index, with_pool in enumerate(with_pools)]
        owner = account_caller(ctx, admin, tenants_made[0][0]["account_id"])
        placed = [tenant["metadata"].get(access.REGISTRY_KEY) for tenant, _ in tenants_made]
        _build(ctx, owner, placed, steps, itertools.count())
        viewers = [(tenant["tenant_id"], caller) for tenant, caller in tenants_made]
        viewers.append((None, _project_key(ctx, admin, tenants_made[0][1])))
        for tenant_id, caller in viewers:
            seen, forbidden = _listed(ctx, caller), _owned(ctx, owner, tenant_id)
            for what in seen:
                assert not seen[what] & forbidden[what], (tenant_id, what)
            for pool_id in seen["pools"]:  # and nothing of theirs inside a pool it may see
                inside = pools.list_identities(ctx, caller, pool_id)["OriginationIdentities"]
                assert not {item["OriginationIdentityArn"] for item in inside} & forbidden["sender_ids"]
        everything = _listed(ctx, owner)
        for what, theirs in _owned(ctx, owner, None).items():
            assert theirs <= everything[what], what


# --- offboarding a tenant's SMS resources ---------------------------------------------------------------

def _gone(ctx, owner: Caller, placed: dict) -> dict[str, bool]:
    with ctx.db.read() as conn:
        def absent(kind: str, key: str) -> bool:
            return resources.get(conn, owner.account_id, owner.region, kind, key) is None
        pool_arn = f"arn:aws:sms-voice:{owner.region}:{owner.account_id}:pool/{placed['pool_id']}"
        return {"pool": absent("pool", placed["pool_id"]), "number": absent("phone-number", placed["phone_number_id"]),
                "set": absent("configuration-set", placed["configuration_set"]),
                "pool tags": tag_store.get_tags(conn, pool_arn) == {}}


@pytest.mark.parametrize("model", ["sa-sp", "sa-mp", "ma-mp"])
def test_offboarding_releases_the_tenants_pool_number_and_set(ctx, admin, model):
    tenant, _ = _onboard(ctx, admin, "gone", model, sms_pool=True)
    stays, _ = _onboard(ctx, admin, "stays", model if model != "ma-mp" else "sa-mp", sms_pool=True)
    placed, kept = tenant["metadata"][access.REGISTRY_KEY], stays["metadata"][access.REGISTRY_KEY]
    assert placed["number_requested"] is True
    owner = account_caller(ctx, admin, tenant["account_id"])
    result = onboarding.offboard(ctx, admin, "gone")
    assert result["removed"]["sms"] == {"pool": placed["pool_id"], "phone_number": placed["phone_number_id"],
                                        "configuration_set": "tenant-gone"}
    assert _gone(ctx, owner, placed) == {"pool": True, "number": True, "set": True, "pool tags": True}
    assert result["tenant"]["metadata"][access.REGISTRY_KEY]["released_at"]
    assert not any(_gone(ctx, account_caller(ctx, admin, stays["account_id"]), kept).values())
    with pytest.raises(Conflict, match="already offboarded"):
        onboarding.offboard(ctx, admin, "gone")


def test_offboarding_keeps_a_number_the_operator_gave(ctx, admin):
    first, _ = _onboard(ctx, admin, "first", "sa-mp")
    owner = account_caller(ctx, admin, first["account_id"])
    number = identities.request_number(ctx, owner, SIMULATOR)
    tenant, _ = _onboard(ctx, admin, "given", "sa-sp", sms_pool=True, sms_number=number["PhoneNumber"])
    placed = tenant["metadata"][access.REGISTRY_KEY]
    assert placed["number_requested"] is False
    assert onboarding.offboard(ctx, admin, "given")["removed"]["sms"]["phone_number"] is None
    assert _gone(ctx, owner, placed) == {"pool": True, "number": False, "set": True, "pool tags": True}
    shown = identities.describe_numbers(ctx, owner, [number["PhoneNumberId"]])["PhoneNumbers"][0]
    assert "PoolId" not in shown  # out of the deleted pool, the account's again


def test_offboarding_is_refused_while_the_tenants_pool_is_protected(ctx, admin):
    tenant, caller = _onboard(ctx, admin, "guarded", "sa-mp", sms_pool=True)
    placed = tenant["metadata"][access.REGISTRY_KEY]
    owner = account_caller(ctx, admin, tenant["account_id"])
    pools.update(ctx, owner, {"PoolId": placed["pool_id"], "DeletionProtectionEnabled": True})
    with pytest.raises(Conflict, match="deletion protection on; nothing was changed"):
        onboarding.offboard(ctx, admin, "guarded")
    assert onboarding.show(ctx, admin, "guarded")["status"] == "active"
    assert not any(_gone(ctx, owner, placed).values())
    assert _text(ctx, caller)["MessageId"]  # its keys still work
    pools.update(ctx, owner, {"PoolId": placed["pool_id"], "DeletionProtectionEnabled": False})
    onboarding.offboard(ctx, admin, "guarded")
    assert all(_gone(ctx, owner, placed).values())


def test_offboarding_again_finishes_an_interrupted_release(ctx, admin, monkeypatch):
    tenant, _ = _onboard(ctx, admin, "halfway", "sa-mp", sms_pool=True)
    placed = tenant["metadata"][access.REGISTRY_KEY]
    owner = account_caller(ctx, admin, tenant["account_id"])

    def fail(*_args, **_kwargs):
        raise RuntimeError("the database went away")
    with monkeypatch.context() as patched:
        patched.setattr(configuration_sets, "delete", fail)
        with pytest.raises(RuntimeError):
            onboarding.offboard(ctx, admin, "halfway")
    assert onboarding.show(ctx, admin, "halfway")["status"] == "offboarded"
    assert _gone(ctx, owner, placed) == {"pool": True, "number": True, "set": False, "pool tags": True}
    result = onboarding.offboard(ctx, admin, "halfway")
    assert result["removed"]["sms"] == {"pool": None, "phone_number": None, "configuration_set": "tenant-halfway"}
    assert all(_gone(ctx, owner, placed).values())
    with pytest.raises(Conflict):
        onboarding.offboard(ctx, admin, "halfway")


def test_offboarding_a_tenant_whose_pool_the_account_deleted(ctx, admin):
    tenant, _ = _onboard(ctx, admin, "early", "sa-mp", sms_pool=True)
    placed = tenant["metadata"][access.REGISTRY_KEY]
    owner = account_caller(ctx, admin, tenant["account_id"])
    pools.delete(ctx, owner, placed["pool_id"])
    pools.create(ctx, owner, {"OriginationIdentity": placed["phone_number_id"], "MessageType": "TRANSACTIONAL"})
    sms = onboarding.offboard(ctx, admin, "early")["removed"]["sms"]
    assert sms == {"pool": None, "phone_number": None, "configuration_set": "tenant-early"}
    assert identities.describe_numbers(ctx, owner, [placed["phone_number_id"]])["PhoneNumbers"]  # in another pool


# --- ma-mp: accounts apart -------------------------------------------------------------------------

def test_ma_mp_tenants_have_their_own_opt_outs_sandbox_and_spend(ctx, admin):
    a, caller_a = _onboard(ctx, admin, "a", "ma-mp", sms_pool=True)
    b, caller_b = _onboard(ctx, admin, "b", "ma-mp", sms_pool=True)
    opt_outs.put_number(ctx, caller_a, "Default", US_SUCCESS)
    with pytest.raises(Conflict):
        _text(ctx, caller_a)
    _text(ctx, caller_b)
    sms_account.set_sms_production(ctx, admin, a["account_id"], sandbox=False, max_spend=100)
    tiers = [sms_account.describe_attributes(ctx, caller)["AccountAttributes"][0]["Value"]
             for caller in (caller_a, caller_b)]
    assert tiers == ["PRODUCTION", "SANDBOX"]
    with ctx.db.read() as conn:
        month = spend.month_of(time.time())
        assert spend.spent(conn, a["account_id"], a["region"], month) == 0
        assert spend.spent(conn, b["account_id"], b["region"], month) == pytest.approx(prices.price_of("US", 1))


# --- property-based isolation ----------------------------------------------------------------------

@contextmanager
def _fresh_context():
    """A context on a database of its own, for one generated example."""
    with tempfile.TemporaryDirectory() as folder:
        if not ON_POSTGRES:
            shutil.copyfile(_TEMPLATE[0], Path(folder) / "p.db")
            context = Context.open(Settings(data_dir=Path(folder) / "data",
                                            database_url=f"sqlite:///{Path(folder) / 'p.db'}"))
            try:
                yield context
            finally:
                context.close()
            return
        name, engine = f"pinfold_i_{uuid.uuid4().hex[:12]}", _postgres_admin_engine()
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE[0]}"'))
        context = Context.open(Settings(data_dir=Path(folder) / "data", database_url=_database_url(name)))
        try:
            yield context
        finally:
            context.close()
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_TEMPLATE: list = [None]  # the database template: a SQLite file's path or a PostgreSQL database's name


@pytest.fixture
def template(database_template):
    _TEMPLATE[0] = database_template


@dataclass
class World:
    """Two tenants in one model and what the test expects of them."""

    ctx: Context
    model: str
    tenant_ids: list[str]
    callers: list[Caller]
    owners: list[Caller]  # an account administrator of each tenant's account (the same one in sa-*)
    placed: list[dict | None]
    shared_number: dict | None
    opted: dict[str, set[str]] = field(default_factory=dict)  # account → destinations on its Default list
    charged: dict[str, float] = field(default_factory=dict)  # account → what its sends cost
    counter: itertools.count = field(default_factory=itertools.count)


def _world(ctx, model: str, with_pools: tuple[bool, bool]) -> World:
    admin = operator(ctx)
    tenant_ids, callers, owners, placed = [], [], [], []
    for index, with_pool in enumerate(with_pools):
        tenant, caller = _onboard(ctx, admin, f"t{index}", model, sms_pool=with_pool)
        tenant_ids.append(tenant["tenant_id"])
        callers.append(caller)
        owners.append(account_caller(ctx, admin, tenant["account_id"]))
        placed.append(tenant["metadata"].get(access.REGISTRY_KEY))
    shared_number = identities.request_number(ctx, owners[0], SIMULATOR) if model != "ma-mp" else None
    return World(ctx, model, tenant_ids, callers, owners, placed, shared_number)


TARGETS = ("none", "own_pool", "own_number", "own_set", "other_pool", "other_number", "other_set", "shared_number")
WRITES = ("number", "opt_out_list", "opted_out", "keyword", "configuration_set")
operation = st.one_of(
    st.tuples(st.just("send"), st.integers(0, 1), st.sampled_from(TARGETS), st.sampled_from(DESTINATIONS)),
    st.tuples(st.just("stop"), st.integers(0, 1), st.sampled_from(DESTINATIONS)),
    st.tuples(st.just("write"), st.integers(0, 1), st.sampled_from(WRITES)),
    st.tuples(st.just("describe"), st.integers(0, 1)),
)


def _request(world: World, actor: int, target: str) -> dict:
    """The SendTextMessage members a target names; none when the target does not exist in this world."""
    own, other = world.placed[actor], world.placed[1 - actor]
    named = {"own_pool": (own, "pool_id", "OriginationIdentity"),
             "own_number": (own, "phone_number", "OriginationIdentity"),
             "own_set": (own, "configuration_set", "ConfigurationSetName"),
             "other_pool": (other, "pool_id", "OriginationIdentity"),
             "other_number": (other, "phone_number_id", "OriginationIdentity"),
             "other_set": (other, "configuration_set", "ConfigurationSetName")}
    if target == "shared_number":
        return {"OriginationIdentity": world.shared_number["PhoneNumber"]} if world.shared_number else {}
    if target in named:
        placed, key, member = named[target]
        return {member: placed[key]} if placed else {}
    return {}


def _expected_send(world: World, actor: int, request: dict) -> type[PinfoldError] | None:
    """What a send should give: None (queued) or the error class; the reference model of the rule."""
    own, other = world.placed[actor], world.placed[1 - actor]
    named = request.get("OriginationIdentity") or request.get("ConfigurationSetName")
    if other and named in (other["pool_id"], other["phone_number_id"], other["configuration_set"]):
        return NotFound  # another account's (ma-mp) or another tenant's (sa-*): absent either way
    if world.model != "ma-mp" and own and named == world.shared_number["PhoneNumber"]:
        return Forbidden
    return None


def _run(world: World, step: tuple) -> None:
    kind, actor = step[0], step[1]
    caller, owner, account_id = world.callers[actor], world.owners[actor], world.owners[actor].account_id
    confined = world.model != "ma-mp"
    if kind == "stop":
        opt_outs.put_number(world.ctx, owner, "Default", step[2])
        world.opted.setdefault(account_id, set()).add(step[2])
    elif kind == "write":
        _write(world, caller, step[2], confined)
    elif kind == "describe":
        _describe(world, actor)
    else:
        _send(world, actor, step[2], step[3])


def _write(world: World, caller: Caller, what: str, confined: bool) -> None:
    """A tenant changing SMS resources: its own account's in ma-mp; refused in a shared account."""
    name = f"n{next(world.counter)}"
    placed = world.placed[world.callers.index(caller)]
    calls = {"number": lambda: identities.request_number(world.ctx, caller, SIMULATOR),
             "opt_out_list": lambda: opt_outs.create_list(world.ctx, caller, name),
             "opted_out": lambda: opt_outs.put_number(world.ctx, caller, name, US_FAILURE),
             "keyword": lambda: pools.put_keyword(world.ctx, caller, (placed or {}).get("pool_id") or "pool-none",
                                                 "INFO" + name, "hi"),
             "configuration_set": lambda: configuration_sets.create(world.ctx, caller, name)}
    if confined:
        with pytest.raises(Forbidden):
            calls[what]()
    elif what == "opted_out":  # a list of its own, then the number on it: never the other account's Default
        opt_outs.create_list(world.ctx, caller, name)
        calls[what]()
    else:
        calls[what]()


def _describe(world: World, actor: int) -> None:
    """In ma-mp nothing of the other tenant's is visible; in a shared account the tenant's own pool is."""
    caller, other = world.callers[actor], world.placed[1 - actor]
    seen = {pool["PoolId"] for pool in pools.describe(world.ctx, caller)["Pools"]}
    described = configuration_sets.describe(world.ctx, caller)["ConfigurationSets"]
    sets = {item["ConfigurationSetName"] for item in described}
    if world.placed[actor]:
        assert world.placed[actor]["pool_id"] in seen and world.placed[actor]["configuration_set"] in sets
    if world.model == "ma-mp" and other:
        assert other["pool_id"] not in seen and other["configuration_set"] not in sets
        with pytest.raises(NotFound):
            pools.describe(world.ctx, caller, [other["pool_id"]])


def _send(world: World, actor: int, target: str, destination: str) -> None:
    caller, account_id = world.callers[actor], world.owners[actor].account_id
    request = _request(world, actor, target)
    expected = _expected_send(world, actor, request)
    if expected is None and destination in world.opted.get(account_id, set()):
        expected = Conflict
    if expected is not None:
        with pytest.raises(expected):
            _text(world.ctx, caller, destination, **request)
        return
    message = _message(world.ctx, _text(world.ctx, caller, destination, **request)["MessageId"])
    world.charged[account_id] = world.charged.get(account_id, 0.0) + prices.price_of("US", 1)
    assert (message["account_id"], message["tenant_id"]) == (account_id, world.tenant_ids[actor])
    own = world.placed[actor]
    if world.model != "ma-mp" and own:  # only ever through its own pool's number
        assert message["message"]["origination"] == own["phone_number"]
    if world.model != "ma-mp" and not own and "OriginationIdentity" not in request:
        assert message["message"]["origination"] == world.shared_number["PhoneNumber"]
    if world.model == "ma-mp":
        with world.ctx.db.read() as conn:
            mine = resources.by_name(conn, account_id, caller.region, "phone-number", message["message"]["origination"])
        assert mine is not None


def _check_spend(world: World) -> None:
    """Spend is per account: each account has been charged for its own sends and nothing else."""
    with world.ctx.db.read() as conn:
        for owner in {caller.account_id: caller for caller in world.owners}.values():
            spent = spend.spent(conn, owner.account_id, owner.region, spend.month_of(time.time()))
            assert spent == pytest.approx(world.charged.get(owner.account_id, 0.0))


@pytest.mark.parametrize("model", ["sa-sp", "sa-mp", "ma-mp"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(with_pools=st.tuples(st.booleans(), st.booleans()), steps=st.lists(operation, max_size=10))
def test_tenants_stay_apart(template, model, with_pools, steps):
    if model == "ma-mp":
        with_pools = (True, True)  # an ma-mp tenant reaches its whole account: a pool changes nothing for it
    with _fresh_context() as ctx:
        world = _world(ctx, model, with_pools)
        for step in steps:
            _run(world, step)
        _check_spend(world)
