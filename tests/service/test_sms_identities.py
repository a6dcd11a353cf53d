"""SMS origination identities on a real database: phone numbers from the simulated inventory, sender
ids, pools and their membership rules, keywords, quotas, and who may change what."""

from __future__ import annotations

import phonenumbers
import pytest

from pinfold.core.errors import Conflict, Forbidden, InvalidInput, LimitExceeded, NotFound
from pinfold.sms import account as sms_account
from pinfold.sms import identities, keywords, opt_outs, pools
from tests.service.helpers import account_caller, onboard


@pytest.fixture
def owner(ctx, admin):
    """An ma-mp tenant: an account of its own, administered by this caller."""
    return onboard(ctx, admin, "acme", "ma-mp")[1]


def _number(ctx, caller, country="US", number_type="TOLL_FREE", message_type="TRANSACTIONAL", **extra):
    return identities.request_number(ctx, caller, {"IsoCountryCode": country, "MessageType": message_type,
                                                   "NumberCapabilities": ["SMS"], "NumberType": number_type, **extra})


def _raises(error, call, *args, **kwargs):
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    return caught.value


# --- phone numbers ------------------------------------------------------------------------------------

def test_a_requested_number_is_valid_for_its_country_and_carries_the_defaults(ctx, owner):
    got = _number(ctx, owner, "GB", "LONG_CODE", Tags=[{"Key": "team", "Value": "sms"}])
    parsed = phonenumbers.parse(got["PhoneNumber"], None)
    assert phonenumbers.is_valid_number_for_region(parsed, "GB") and got["PhoneNumber"].startswith("+44")
    assert got["PhoneNumberId"].startswith("phone-") and len(got["PhoneNumberId"]) == 38
    assert got["PhoneNumberArn"] == (f"arn:aws:sms-voice:{owner.region}:{owner.account_id}:phone-number/"
                                     f"{got['PhoneNumberId']}")
    assert (got["Status"], got["OptOutListName"], got["MonthlyLeasingPrice"]) == ("ACTIVE", "Default", "1.00")
    assert got["Tags"] == [{"Key": "team", "Value": "sms"}] and "_keywords" not in got
    listed = opt_outs.describe_lists(ctx, owner)["OptOutLists"]
    assert [item["OptOutListName"] for item in listed] == ["Default"]
    described = pools.describe_keywords(ctx, owner, got["PhoneNumber"])  # by the number itself
    assert {(k["Keyword"], k["KeywordAction"]) for k in described["Keywords"]} == {
        ("HELP", "AUTOMATIC_RESPONSE"), ("STOP", "OPT_OUT")}


def test_the_same_client_token_gives_back_the_same_number(ctx, owner):
    first = _number(ctx, owner, ClientToken="token-1")
    again = _number(ctx, owner, ClientToken="token-1")
    other = _number(ctx, owner, ClientToken="token-2")
    assert again["PhoneNumberId"] == first["PhoneNumberId"] and again["PhoneNumber"] == first["PhoneNumber"]
    assert other["PhoneNumberId"] != first["PhoneNumberId"]
    assert len(identities.describe_numbers(ctx, owner)["PhoneNumbers"]) == 2


@pytest.mark.parametrize("country, number_type, message_type, capabilities", [
    ("US", "SIMULATOR", "PROMOTIONAL", ["SMS"]),  # simulator numbers are transactional only
    ("GB", "SIMULATOR", "TRANSACTIONAL", ["SMS"]),  # and US only
    ("GB", "TEN_DLC", "TRANSACTIONAL", ["SMS"]),  # 10DLC is a US thing
    ("GB", "LONG_CODE", "TRANSACTIONAL", ["MMS"]),  # not offered
    ("ZZ", "LONG_CODE", "TRANSACTIONAL", ["SMS"]),  # no such country
])
def test_requests_the_inventory_cannot_fill_are_refused(ctx, owner, country, number_type, message_type, capabilities):
    error = _raises(InvalidInput, identities.request_number, ctx, owner, {
        "IsoCountryCode": country, "MessageType": message_type, "NumberCapabilities": capabilities,
        "NumberType": number_type})
    assert error.details["Reason"] in ("INVALID_PARAMETER", "FIELD_VALIDATION_FAILED")
    assert identities.describe_numbers(ctx, owner)["PhoneNumbers"] == []


def test_a_simulator_number_is_a_fictional_us_number(ctx, owner):
    got = _number(ctx, owner, "US", "SIMULATOR")
    assert got["NumberType"] == "SIMULATOR" and got["PhoneNumber"][5:8] == "555"


def test_phone_numbers_per_account_are_capped(ctx, owner, admin):
    sms_account.set_sms_production(ctx, admin, owner.account_id, sandbox=None, max_spend=None, region=owner.region,
                                   quotas={"PHONE_NUMBERS": 2})
    _number(ctx, owner)
    _number(ctx, owner, ClientToken="again")
    error = _raises(LimitExceeded, _number, ctx, owner)
    assert error.details == {"Reason": "PHONE_NUMBERS_PER_ACCOUNT"}
    assert _number(ctx, owner, ClientToken="again")["PhoneNumberId"]  # a replay is not a new number


def test_describe_filters_pages_and_names_what_is_missing(ctx, owner):
    made = [_number(ctx, owner, "US"), _number(ctx, owner, "US", "TEN_DLC"), _number(ctx, owner, "GB", "LONG_CODE")]
    us = identities.describe_numbers(ctx, owner, filters=[{"Name": "iso-country-code", "Values": ["US"]}])
    assert sorted(n["PhoneNumberId"] for n in us["PhoneNumbers"]) == sorted(m["PhoneNumberId"] for m in made[:2])
    seen, token = [], None
    while True:
        page = identities.describe_numbers(ctx, owner, max_results=1, token=token)
        assert len(page["PhoneNumbers"]) == 1
        seen += [n["PhoneNumberId"] for n in page["PhoneNumbers"]]
        token = page.get("NextToken")
        if token is None:
            break
    assert sorted(seen) == sorted(m["PhoneNumberId"] for m in made)
    assert identities.describe_numbers(ctx, owner, owner="SHARED")["PhoneNumbers"] == []
    by_arn = identities.describe_numbers(ctx, owner, [made[0]["PhoneNumberArn"]])["PhoneNumbers"]
    assert [n["PhoneNumber"] for n in by_arn] == [made[0]["PhoneNumber"]]
    gone = "phone-" + "0" * 32
    error = _raises(NotFound, identities.describe_numbers, ctx, owner, [made[0]["PhoneNumberId"], gone])
    assert error.details == {"ResourceType": "phone-number", "ResourceId": gone}
    error = _raises(InvalidInput, identities.describe_numbers, ctx, owner, [gone], owner="SELF")
    assert error.details["Reason"] == "PARAMETERS_CANNOT_BE_USED_TOGETHER"
    error = _raises(InvalidInput, identities.describe_numbers, ctx, owner,
                    filters=[{"Name": "two-way-enabled", "Values": ["maybe"]}])
    assert error.details["Reason"] == "INVALID_FILTER_VALUES"
    error = _raises(InvalidInput, identities.describe_numbers, ctx, owner, token="not-a-token")
    assert error.details["Reason"] == "INVALID_NEXT_TOKEN"


def test_update_and_release_honour_lists_two_way_and_deletion_protection(ctx, owner):
    number = _number(ctx, owner)["PhoneNumberId"]
    error = _raises(NotFound, identities.update_number, ctx, owner, {"PhoneNumberId": number,
                                                                      "OptOutListName": "nope"})
    assert error.details == {"ResourceType": "opt-out-list", "ResourceId": "nope"}
    error = _raises(InvalidInput, identities.update_number, ctx, owner, {"PhoneNumberId": number,
                                                                          "TwoWayEnabled": True})
    assert error.details["Reason"] == "TWO_WAY_CHANNEL_NOT_PRESENT"
    opt_outs.create_list(ctx, owner, "marketing")
    channel = f"arn:aws:sns:{owner.region}:{owner.account_id}:inbound"
    updated = identities.update_number(ctx, owner, {"PhoneNumberId": number, "OptOutListName": "marketing",
                                                    "TwoWayEnabled": True, "TwoWayChannelArn": channel,
                                                    "DeletionProtectionEnabled": True})
    assert (updated["OptOutListName"], updated["TwoWayEnabled"], updated["TwoWayChannelArn"]) == (
        "marketing", True, channel)
    error = _raises(Conflict, identities.release_number, ctx, owner, number)
    assert error.details["Reason"] == "DELETION_PROTECTION_ENABLED"
    identities.update_number(ctx, owner, {"PhoneNumberId": number, "DeletionProtectionEnabled": False})
    released = identities.release_number(ctx, owner, number)
    assert released["Status"] == "DELETED" and released["PhoneNumberId"] == number
    _raises(NotFound, identities.release_number, ctx, owner, number)


# --- sender ids ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["", "TWELVECHARSX", "12345", "-Acme", "Acme-", "Ac me", "Acmé"])
def test_sender_ids_follow_the_naming_rule(ctx, owner, bad):
    error = _raises(InvalidInput, identities.request_sender_id, ctx, owner, {"SenderId": bad, "IsoCountryCode": "GB"})
    assert error.details["Reason"] == "FIELD_VALIDATION_FAILED"


def test_sender_ids_are_per_country_and_not_in_the_us(ctx, owner):
    made = identities.request_sender_id(ctx, owner, {"SenderId": "Acme_1", "IsoCountryCode": "GB",
                                                     "MessageTypes": ["TRANSACTIONAL"], "ClientToken": "t"})
    assert made["SenderIdArn"].endswith(":sender-id/Acme_1:GB") and made["Registered"] is False
    assert identities.request_sender_id(ctx, owner, {"SenderId": "Acme_1", "IsoCountryCode": "GB",
                                                     "ClientToken": "t"})["SenderId"] == "Acme_1"
    error = _raises(Conflict, identities.request_sender_id, ctx, owner, {"SenderId": "Acme_1", "IsoCountryCode": "GB"})
    assert error.details["Reason"] == "RESOURCE_ALREADY_EXISTS"
    identities.request_sender_id(ctx, owner, {"SenderId": "Acme_1", "IsoCountryCode": "DE"})
    error = _raises(InvalidInput, identities.request_sender_id, ctx, owner,
                    {"SenderId": "Acme", "IsoCountryCode": "US"})
    assert error.details["Reason"] == "SENDER_ID_NOT_SUPPORTED"
    german = identities.describe_sender_ids(ctx, owner, filters=[{"Name": "iso-country-code", "Values": ["DE"]}])
    assert [(s["SenderId"], s["IsoCountryCode"]) for s in german["SenderIds"]] == [("Acme_1", "DE")]
    transactional = identities.describe_sender_ids(ctx, owner, [{"SenderId": made["SenderIdArn"],
                                                                 "IsoCountryCode": "GB"}])
    assert transactional["SenderIds"][0]["MessageTypes"] == ["TRANSACTIONAL"]
    error = _raises(NotFound, identities.describe_sender_ids, ctx, owner, [{"SenderId": "Acme_1",
                                                                            "IsoCountryCode": "FR"}])
    assert error.details == {"ResourceType": "sender-id", "ResourceId": "Acme_1:FR"}
    identities.update_sender_id(ctx, owner, "Acme_1", "DE", True)
    error = _raises(Conflict, identities.release_sender_id, ctx, owner, "Acme_1", "DE")
    assert error.details["Reason"] == "DELETION_PROTECTION_ENABLED"
    assert identities.release_sender_id(ctx, owner, "Acme_1", "GB")["SenderId"] == "Acme_1"
    assert len(identities.describe_sender_ids(ctx, owner)["SenderIds"]) == 1


# --- pools --------------------------------------------------------------------------------------------

def test_a_pool_takes_its_first_numbers_settings_but_not_its_deletion_protection(ctx, owner):
    opt_outs.create_list(ctx, owner, "tenant-a")
    number = _number(ctx, owner, OptOutListName="tenant-a", DeletionProtectionEnabled=True)
    pools.put_keyword(ctx, owner, number["PhoneNumberId"], "Offers", "Reply YES for offers")
    pool = pools.create(ctx, owner, {"OriginationIdentity": number["PhoneNumberArn"], "MessageType": "TRANSACTIONAL",
                                     "ClientToken": "pool-1"})
    assert pool["PoolId"].startswith("pool-") and pool["Status"] == "ACTIVE"
    assert (pool["OptOutListName"], pool["DeletionProtectionEnabled"], pool["SharedRoutesEnabled"]) == (
        "tenant-a", False, False)
    again = pools.create(ctx, owner, {"OriginationIdentity": number["PhoneNumberId"], "MessageType": "TRANSACTIONAL",
                                      "ClientToken": "pool-1"})
    assert again["PoolId"] == pool["PoolId"]
    words = pools.describe_keywords(ctx, owner, pool["PoolArn"])["Keywords"]
    assert [w["Keyword"] for w in words] == ["HELP", "OFFERS", "STOP"]
    shown = identities.describe_numbers(ctx, owner, [number["PhoneNumberId"]])["PhoneNumbers"][0]
    assert shown["PoolId"] == pool["PoolId"]
    error = _raises(Conflict, identities.update_number, ctx, owner, {"PhoneNumberId": number["PhoneNumberId"],
                                                                      "TwoWayEnabled": False})
    assert error.details["Reason"] == "PHONE_NUMBER_ASSOCIATED_TO_POOL"
    error = _raises(Conflict, pools.put_keyword, ctx, owner, number["PhoneNumberId"], "MORE", "more")
    assert error.details["Reason"] == "PHONE_NUMBER_ASSOCIATED_TO_POOL"
    error = _raises(Conflict, identities.release_number, ctx, owner, number["PhoneNumberId"])
    assert error.details["Reason"] == "DELETION_PROTECTION_ENABLED"


def test_a_pool_must_be_asked_for_its_identitys_message_type(ctx, owner):
    number = _number(ctx, owner, message_type="PROMOTIONAL")
    error = _raises(Conflict, pools.create, ctx, owner, {"OriginationIdentity": number["PhoneNumberId"],
                                                         "MessageType": "TRANSACTIONAL"})
    assert error.details["Reason"] == "MESSAGE_TYPE_MISMATCH"
    error = _raises(NotFound, pools.create, ctx, owner, {"OriginationIdentity": "phone-" + "1" * 32,
                                                         "MessageType": "TRANSACTIONAL"})
    assert error.details["ResourceType"] == "phone-number"


def test_membership_rules(ctx, owner):
    first, second, third = (_number(ctx, owner)["PhoneNumberId"] for _ in range(3))
    pool = pools.create(ctx, owner, {"OriginationIdentity": first, "MessageType": "TRANSACTIONAL"})["PoolId"]
    other = pools.create(ctx, owner, {"OriginationIdentity": second, "MessageType": "TRANSACTIONAL"})["PoolId"]
    error = _raises(Conflict, pools.associate, ctx, owner, pool, second)
    assert error.details["Reason"] == "PHONE_NUMBER_ASSOCIATED_TO_POOL"
    opt_outs.create_list(ctx, owner, "elsewhere")
    identities.update_number(ctx, owner, {"PhoneNumberId": third, "OptOutListName": "elsewhere"})
    error = _raises(Conflict, pools.associate, ctx, owner, pool, third)
    assert error.details == {"Reason": "OPT_OUT_LIST_MISMATCH", "ResourceType": "phone-number", "ResourceId": third}
    identities.update_number(ctx, owner, {"PhoneNumberId": third, "OptOutListName": "Default"})
    pools.put_keyword(ctx, owner, third, "JOIN", "Welcome")
    error = _raises(Conflict, pools.associate, ctx, owner, pool, third)
    assert error.details["Reason"] == "KEYWORD_MISMATCH"
    pools.delete_keyword(ctx, owner, third, "join")
    error = _raises(InvalidInput, pools.associate, ctx, owner, pool, third, "GB")
    assert error.details["Reason"] == "COUNTRY_CODE_MISMATCH"
    joined = pools.associate(ctx, owner, pool, third, "US")
    assert joined["OriginationIdentity"] == third and joined["IsoCountryCode"] == "US"
    assert pools.associate(ctx, owner, pool, third)["PoolId"] == pool  # already there: nothing changes
    identities.request_sender_id(ctx, owner, {"SenderId": "Acme", "IsoCountryCode": "GB"})
    _raises(InvalidInput, pools.associate, ctx, owner, pool, "Acme")  # which country's?
    pools.associate(ctx, owner, pool, "Acme", "GB")
    pools.associate(ctx, owner, other, "Acme", "GB")  # a sender id may be in several pools
    error = _raises(Conflict, identities.release_sender_id, ctx, owner, "Acme", "GB")
    assert error.details["Reason"] == "SENDER_ID_ASSOCIATED_TO_POOL"
    listed = pools.list_identities(ctx, owner, pool)["OriginationIdentities"]
    assert sorted(item["OriginationIdentity"] for item in listed) == sorted([first, third, "Acme"])
    british = pools.list_identities(ctx, owner, pool, [{"Name": "iso-country-code", "Values": ["GB"]}])
    assert [item["OriginationIdentity"] for item in british["OriginationIdentities"]] == ["Acme"]
    page = pools.list_identities(ctx, owner, pool, max_results=2)
    rest = pools.list_identities(ctx, owner, pool, max_results=2, token=page["NextToken"])
    assert len(page["OriginationIdentities"]) == 2 and len(rest["OriginationIdentities"]) == 1
    assert "NextToken" not in rest


def test_a_pool_keeps_one_identity_and_deletion_frees_its_numbers(ctx, owner):
    first, second = _number(ctx, owner)["PhoneNumberId"], _number(ctx, owner)["PhoneNumberId"]
    pool = pools.create(ctx, owner, {"OriginationIdentity": first, "MessageType": "TRANSACTIONAL",
                                     "DeletionProtectionEnabled": True})["PoolId"]
    pools.associate(ctx, owner, pool, second)
    pools.disassociate(ctx, owner, pool, second)
    error = _raises(Conflict, pools.disassociate, ctx, owner, pool, second)
    assert error.details["Reason"] == "PHONE_NUMBER_NOT_ASSOCIATED_TO_POOL"
    error = _raises(Conflict, pools.disassociate, ctx, owner, pool, first)
    assert error.details["Reason"] == "LAST_PHONE_NUMBER"
    error = _raises(Conflict, pools.delete, ctx, owner, pool)
    assert error.details["Reason"] == "DELETION_PROTECTION_ENABLED"
    pools.update(ctx, owner, {"PoolId": pool, "DeletionProtectionEnabled": False})
    assert pools.delete(ctx, owner, pool)["Status"] == "DELETING"
    assert pools.describe(ctx, owner)["Pools"] == []
    assert "PoolId" not in identities.describe_numbers(ctx, owner, [first])["PhoneNumbers"][0]
    assert identities.release_number(ctx, owner, first)["Status"] == "DELETED"


def test_pools_per_account_and_identities_per_pool_are_capped(ctx, owner, admin, monkeypatch):
    sms_account.set_sms_production(ctx, admin, owner.account_id, sandbox=None, max_spend=None, region=owner.region,
                                   quotas={"POOLS": 1})
    monkeypatch.setattr(identities, "MAX_POOL_MEMBERS", 1)
    first, second = _number(ctx, owner)["PhoneNumberId"], _number(ctx, owner)["PhoneNumberId"]
    pool = pools.create(ctx, owner, {"OriginationIdentity": first, "MessageType": "TRANSACTIONAL"})["PoolId"]
    error = _raises(LimitExceeded, pools.create, ctx, owner, {"OriginationIdentity": second,
                                                              "MessageType": "TRANSACTIONAL"})
    assert error.details == {"Reason": "POOLS_PER_ACCOUNT"}
    error = _raises(LimitExceeded, pools.associate, ctx, owner, pool, second)
    assert error.details == {"Reason": "ORIGINATION_IDENTITIES_PER_POOL"}


def test_describe_pools_filters(ctx, owner):
    first, second = _number(ctx, owner)["PhoneNumberId"], _number(ctx, owner)["PhoneNumberId"]
    plain = pools.create(ctx, owner, {"OriginationIdentity": first, "MessageType": "TRANSACTIONAL"})["PoolId"]
    guarded = pools.create(ctx, owner, {"OriginationIdentity": second, "MessageType": "TRANSACTIONAL",
                                        "DeletionProtectionEnabled": True})["PoolId"]
    found = pools.describe(ctx, owner, filters=[{"Name": "deletion-protection-enabled", "Values": ["true"]}])
    assert [p["PoolId"] for p in found["Pools"]] == [guarded]
    assert [p["PoolId"] for p in pools.describe(ctx, owner, [plain])["Pools"]] == [plain]


# --- keywords -----------------------------------------------------------------------------------------

def test_keywords_are_case_insensitive_and_help_and_stop_stay(ctx, owner):
    number = _number(ctx, owner)["PhoneNumberId"]
    put = pools.put_keyword(ctx, owner, number, "Info", "Our hours are 9 to 5")
    assert (put["Keyword"], put["KeywordAction"], put["OriginationIdentity"]) == ("INFO", "AUTOMATIC_RESPONSE", number)
    pools.put_keyword(ctx, owner, number, "info", "Open 9 to 6")
    pools.put_keyword(ctx, owner, number, "stop", "Bye now", "OPT_OUT")
    error = _raises(Conflict, pools.put_keyword, ctx, owner, number, "HELP", "Help", "OPT_OUT")
    assert error.details["Reason"] == "RESOURCE_MODIFICATION_NOT_ALLOWED"
    error = _raises(Conflict, pools.delete_keyword, ctx, owner, number, "Stop")
    assert error.details["Reason"] == "RESOURCE_DELETION_NOT_ALLOWED"
    error = _raises(NotFound, pools.delete_keyword, ctx, owner, number, "nothing")
    assert error.details == {"ResourceType": "keyword", "ResourceId": "NOTHING"}
    got = pools.describe_keywords(ctx, owner, number, ["Info", "STOP"])["Keywords"]
    assert [(k["Keyword"], k["KeywordMessage"]) for k in got] == [("INFO", "Open 9 to 6"), ("STOP", "Bye now")]
    opting = pools.describe_keywords(ctx, owner, number, filters=[{"Name": "keyword-action", "Values": ["OPT_OUT"]}])
    assert [k["Keyword"] for k in opting["Keywords"]] == ["STOP"]
    first = pools.describe_keywords(ctx, owner, number, max_results=2)
    second = pools.describe_keywords(ctx, owner, number, max_results=2, token=first["NextToken"])
    assert [k["Keyword"] for k in first["Keywords"] + second["Keywords"]] == ["HELP", "INFO", "STOP"]
    assert pools.delete_keyword(ctx, owner, number, "INFO")["Keyword"] == "INFO"


def test_keywords_per_number_are_capped(ctx, owner, monkeypatch):
    monkeypatch.setattr(keywords, "MAX_KEYWORDS", 3)
    number = _number(ctx, owner)["PhoneNumberId"]
    pools.put_keyword(ctx, owner, number, "ONE", "1")
    pools.put_keyword(ctx, owner, number, "one", "still 1")  # a change, not a new keyword
    error = _raises(LimitExceeded, pools.put_keyword, ctx, owner, number, "TWO", "2")
    assert error.details == {"Reason": "KEYWORDS_PER_PHONE_NUMBER"}


def test_answer_finds_the_keyword_an_inbound_message_begins_with():
    document = {"_keywords": {**keywords.default_keywords(),
                              "JOIN": {"KeywordMessage": "Welcome", "KeywordAction": "OPT_IN"},
                              "JOIN NOW": {"KeywordMessage": "Welcome, fast", "KeywordAction": "AUTOMATIC_RESPONSE"}}}
    stop = keywords.DEFAULT_MESSAGES["STOP"]
    assert keywords.answer(document, "  stop ") == ("OPT_OUT", stop)
    assert keywords.answer(document, "Unsubscribe me please") == ("OPT_OUT", stop)
    assert keywords.answer(document, "opt-out") == ("OPT_OUT", stop)
    assert keywords.answer(document, "join") == ("OPT_IN", "Welcome")
    assert keywords.answer(document, "Join now!") == ("AUTOMATIC_RESPONSE", "Welcome, fast")
    assert keywords.answer(document, "help?") == ("AUTOMATIC_RESPONSE", keywords.DEFAULT_MESSAGES["HELP"])
    assert keywords.answer(document, "stopwatch for sale") is None
    assert keywords.answer(document, "hello") is None and keywords.answer({}, "") is None
    pool = {"_keywords": {**keywords.default_keywords(), "POOL": {"KeywordMessage": "p",
                                                                 "KeywordAction": "AUTOMATIC_RESPONSE"}}}
    assert keywords.answer(keywords.answering_document(document, pool), "pool") == ("AUTOMATIC_RESPONSE", "p")
    assert keywords.answering_document(document, None) is document


# --- tenancy ------------------------------------------------------------------------------------------

def test_confined_callers_read_the_accounts_identities_but_change_none(ctx, admin):
    tenant, confined = onboard(ctx, admin, "shop", "sa-mp")
    account = account_caller(ctx, admin, tenant["account_id"])
    number = _number(ctx, account)["PhoneNumberId"]
    pool = pools.create(ctx, account, {"OriginationIdentity": number, "MessageType": "TRANSACTIONAL"})["PoolId"]
    assert [n["PhoneNumberId"] for n in identities.describe_numbers(ctx, confined)["PhoneNumbers"]] == [number]
    assert pools.describe_keywords(ctx, confined, pool)["Keywords"]
    for call, args in [(_number, ()), (identities.release_number, (number,)),
                       (pools.delete, (pool,)), (pools.put_keyword, (pool, "HI", "hello")),
                       (pools.update, ({"PoolId": pool, "SharedRoutesEnabled": True},)),
                       (identities.request_sender_id, ({"SenderId": "Shop", "IsoCountryCode": "GB"},))]:
        _raises(Forbidden, call, ctx, confined, *args)
    assert len(identities.describe_numbers(ctx, account)["PhoneNumbers"]) == 1


def test_accounts_do_not_see_each_others_identities(ctx, admin, owner):
    other = onboard(ctx, admin, "globex", "ma-mp")[1]
    number = _number(ctx, owner)
    assert identities.describe_numbers(ctx, other)["PhoneNumbers"] == []
    for value in (number["PhoneNumberId"], number["PhoneNumberArn"], number["PhoneNumber"]):
        _raises(NotFound, identities.describe_numbers, ctx, other, [value])
        _raises(NotFound, identities.release_number, ctx, other, value)
    assert identities.describe_numbers(ctx, owner, [number["PhoneNumber"]])["PhoneNumbers"]
