"""SMS opt-out lists, configuration sets, account settings, verified destinations and tags, at the
service level: rules, quotas, paging and who may change what."""

from __future__ import annotations

import pytest

from pinfold.core.errors import Conflict, Forbidden, InvalidInput, LimitExceeded, NotFound
from pinfold.sms import account, configuration_sets, opt_outs, tags
from pinfold.sms.store import opt_outs as entries
from pinfold.sms.store import resources
from tests.service.helpers import account_caller, onboard, operator

NUMBER = "+14255550100"


@pytest.fixture
def owner(ctx, admin):
    """An ma-mp tenant: the whole of its own member account."""
    return onboard(ctx, admin, "acme", "ma-mp")[1]


@pytest.fixture
def confined(ctx, admin):
    """An sa-mp tenant: confined to one project of the organization's shared account."""
    return onboard(ctx, admin, "shared-one", "sa-mp")[1]


# --- opt-out lists -----------------------------------------------------------------------------------

def test_the_default_list_exists_on_first_describe_and_cannot_be_deleted(ctx, owner):
    lists = opt_outs.describe_lists(ctx, owner)["OptOutLists"]
    assert [item["OptOutListName"] for item in lists] == ["Default"]
    assert lists[0]["OptOutListArn"] == f"arn:aws:sms-voice:{owner.region}:{owner.account_id}:opt-out-list/Default"
    with pytest.raises(Conflict) as refused:
        opt_outs.delete_list(ctx, owner, "Default")
    assert refused.value.details["Reason"] == "RESOURCE_DELETION_NOT_ALLOWED"


def _quota(ctx, owner, **quotas) -> None:
    """Set the owner's account quotas as the operator does (`pinfold accounts sms-production --max-...`)."""
    account.set_sms_production(ctx, operator(ctx), owner.account_id, sandbox=None, max_spend=None,
                               region=owner.region, quotas=quotas)


def test_a_list_name_is_taken_once_and_lists_are_counted_against_the_quota(ctx, owner):
    created = opt_outs.create_list(ctx, owner, "marketing", [{"Key": "team", "Value": "growth"}])
    assert created["OptOutListName"] == "marketing" and created["Tags"] == [{"Key": "team", "Value": "growth"}]
    with pytest.raises(Conflict) as again:
        opt_outs.create_list(ctx, owner, "marketing")
    assert again.value.details["Reason"] == "RESOURCE_ALREADY_EXISTS"
    _quota(ctx, owner, OPT_OUT_LISTS=3)  # Default, marketing, and one more
    shown = {item["Name"]: item["Max"] for item in account.describe_limits(ctx, owner)["AccountLimits"]}
    assert shown["OPT_OUT_LISTS"] == 3 and shown["POOLS"] == 100  # raised, and a default
    opt_outs.create_list(ctx, owner, "alerts")
    with pytest.raises(LimitExceeded) as full:
        opt_outs.create_list(ctx, owner, "more")
    assert full.value.details["Reason"] == "OPT_OUT_LISTS_PER_ACCOUNT"


def test_lists_page_in_name_order(ctx, owner):
    for name in ("c-list", "a-list", "b-list"):
        opt_outs.create_list(ctx, owner, name)
    first = opt_outs.describe_lists(ctx, owner, max_results=2)
    second = opt_outs.describe_lists(ctx, owner, max_results=2, token=first["NextToken"])
    names = [item["OptOutListName"] for item in first["OptOutLists"] + second["OptOutLists"]]
    assert names == ["Default", "a-list", "b-list", "c-list"] and "NextToken" not in second
    with pytest.raises(InvalidInput) as bad:
        opt_outs.describe_lists(ctx, owner, token="bm90IGEgdG9rZW4=")
    assert bad.value.details["Reason"] == "INVALID_NEXT_TOKEN"
    with pytest.raises(NotFound) as missing:
        opt_outs.describe_lists(ctx, owner, names=["a-list", "nope"])
    assert missing.value.details == {"ResourceType": "opt-out-list", "ResourceId": "nope"}


def test_a_list_in_use_by_a_number_cannot_be_deleted_and_deleting_forgets_entries(ctx, owner):
    opt_outs.create_list(ctx, owner, "used")
    opt_outs.create_list(ctx, owner, "spare")
    with ctx.db.write() as conn:
        resources.insert(conn, owner.account_id, owner.region, "phone-number", "phone-" + "0" * 32, NUMBER,
                         {"PhoneNumber": NUMBER, "OptOutListName": "used"})
    with pytest.raises(Conflict) as refused:
        opt_outs.delete_list(ctx, owner, "used")
    assert refused.value.details["Reason"] == "RESOURCE_DELETION_NOT_ALLOWED"
    opt_outs.put_number(ctx, owner, "spare", "+14255550111")
    arn = f"arn:aws:sms-voice:{owner.region}:{owner.account_id}:opt-out-list/spare"
    assert opt_outs.delete_list(ctx, owner, arn)["OptOutListName"] == "spare"
    with ctx.db.read() as conn:
        assert entries.get(conn, owner.account_id, owner.region, "spare", "+14255550111") is None
    with pytest.raises(NotFound):
        opt_outs.delete_list(ctx, owner, "spare")


def test_api_and_end_user_opt_outs_are_told_apart_and_filtered(ctx, owner):
    put = opt_outs.put_number(ctx, owner, "Default", NUMBER)
    assert put["EndUserOptedOut"] is False and put["OptedOutNumber"] == NUMBER
    with ctx.db.write() as conn:
        opt_outs.opt_out_by_end_user(conn, owner.account_id, owner.region, "Default", "+14255550199")
    everyone = opt_outs.describe_numbers(ctx, owner, "Default")["OptedOutNumbers"]
    assert [(item["OptedOutNumber"], item["EndUserOptedOut"]) for item in everyone] == [
        (NUMBER, False), ("+14255550199", True)]
    by_user = opt_outs.describe_numbers(ctx, owner, "Default",
                                        filters=[{"Name": "end-user-opted-out", "Values": ["true"]}])
    assert [item["OptedOutNumber"] for item in by_user["OptedOutNumbers"]] == ["+14255550199"]
    asked = opt_outs.describe_numbers(ctx, owner, "Default", numbers=[NUMBER])
    assert [item["OptedOutNumber"] for item in asked["OptedOutNumbers"]] == [NUMBER]
    with pytest.raises(InvalidInput) as bad:
        opt_outs.describe_numbers(ctx, owner, "Default", filters=[{"Name": "end-user-opted-out", "Values": ["yes"]}])
    assert bad.value.details["Reason"] == "INVALID_FILTER_VALUES"


def test_opted_out_numbers_page(ctx, owner):
    for last in range(5):
        opt_outs.put_number(ctx, owner, "Default", f"+1425555020{last}")
    seen, token = [], None
    while True:
        got = opt_outs.describe_numbers(ctx, owner, "Default", max_results=2, token=token)
        seen += [item["OptedOutNumber"] for item in got["OptedOutNumbers"]]
        token = got.get("NextToken")
        if token is None:
            break
    assert seen == [f"+1425555020{last}" for last in range(5)]


def test_a_number_can_be_opted_back_in_once_every_30_days(ctx, owner, monkeypatch):
    opt_outs.put_number(ctx, owner, "Default", NUMBER)
    removed = opt_outs.delete_number(ctx, owner, "Default", NUMBER)
    assert removed["OptedOutNumber"] == NUMBER
    assert opt_outs.describe_numbers(ctx, owner, "Default")["OptedOutNumbers"] == []
    with pytest.raises(NotFound) as gone:
        opt_outs.delete_number(ctx, owner, "Default", NUMBER)
    assert gone.value.details == {"ResourceType": "opted-out-number", "ResourceId": NUMBER}
    with ctx.db.write() as conn:  # STOP again the next day
        opt_outs.opt_out_by_end_user(conn, owner.account_id, owner.region, "Default", NUMBER)
    with pytest.raises(InvalidInput) as too_soon:
        opt_outs.delete_number(ctx, owner, "Default", NUMBER)
    assert too_soon.value.details["Reason"] == "PHONE_NUMBER_CANNOT_BE_OPTED_IN"
    later = opt_outs.time.time() + 31 * 24 * 3600
    monkeypatch.setattr(opt_outs.time, "time", lambda: later)
    assert opt_outs.delete_number(ctx, owner, "Default", NUMBER)["EndUserOptedOut"] is True


@pytest.mark.parametrize("number", ["14255550100", "+0425555", "+1 425 555 0100", "+1234567890123456"])
def test_opted_out_numbers_must_be_e164(ctx, owner, number):
    with pytest.raises(InvalidInput) as bad:
        opt_outs.put_number(ctx, owner, "Default", number)
    assert bad.value.details["Reason"] == "INVALID_PARAMETER"


def test_a_confined_tenant_reads_the_accounts_lists_but_changes_none(ctx, admin, confined):
    assert [item["OptOutListName"] for item in opt_outs.describe_lists(ctx, confined)["OptOutLists"]] == ["Default"]
    for change in (lambda: opt_outs.create_list(ctx, confined, "mine"),
                   lambda: opt_outs.put_number(ctx, confined, "Default", NUMBER),
                   lambda: opt_outs.delete_number(ctx, confined, "Default", NUMBER),
                   lambda: opt_outs.delete_list(ctx, confined, "Default")):
        with pytest.raises(Forbidden):
            change()


def test_opt_outs_belong_to_one_account(ctx, admin, owner):
    other = onboard(ctx, admin, "globex", "ma-mp")[1]
    opt_outs.put_number(ctx, owner, "Default", NUMBER)
    assert opt_outs.describe_numbers(ctx, other, "Default")["OptedOutNumbers"] == []
    foreign = f"arn:aws:sms-voice:{owner.region}:{owner.account_id}:opt-out-list/Default"
    with pytest.raises(NotFound):
        opt_outs.describe_numbers(ctx, other, foreign)


# --- configuration sets and event destinations ---------------------------------------------------------

def _firehose(caller, name="sms-events"):
    return {"IamRoleArn": f"arn:aws:iam::{caller.account_id}:role/firehose",
            "DeliveryStreamArn": f"arn:aws:firehose:{caller.region}:{caller.account_id}:deliverystream/{name}"}


def _sns(caller, topic="sms-topic"):
    return {"TopicArn": f"arn:aws:sns:{caller.region}:{caller.account_id}:{topic}"}


def test_a_set_keeps_its_defaults_and_deleting_answers_it_as_it_was(ctx, owner):
    created = configuration_sets.create(ctx, owner, "alerts", [{"Key": "env", "Value": "prod"}])
    assert created["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert configuration_sets.set_default_sender_id(ctx, owner, "alerts", "ACME")["SenderId"] == "ACME"
    configuration_sets.set_default_message_type(ctx, owner, "alerts", "TRANSACTIONAL")
    configuration_sets.set_default_message_feedback(ctx, owner, "alerts", True)
    got = configuration_sets.describe(ctx, owner, ["alerts"])["ConfigurationSets"][0]
    assert got["DefaultSenderId"] == "ACME" and got["DefaultMessageType"] == "TRANSACTIONAL"
    assert got["DefaultMessageFeedbackEnabled"] is True and got["EventDestinations"] == []
    assert configuration_sets.delete_default_sender_id(ctx, owner, "alerts")["SenderId"] == "ACME"
    assert "SenderId" not in configuration_sets.delete_default_sender_id(ctx, owner, "alerts")
    assert configuration_sets.delete_default_message_type(ctx, owner, "alerts")["MessageType"] == "TRANSACTIONAL"
    arn = f"arn:aws:sms-voice:{owner.region}:{owner.account_id}:configuration-set/alerts"
    deleted = configuration_sets.delete(ctx, owner, arn)
    assert deleted["ConfigurationSetArn"] == arn and deleted["DefaultMessageFeedbackEnabled"] is True
    assert "DefaultSenderId" not in deleted
    with pytest.raises(NotFound) as gone:
        configuration_sets.describe(ctx, owner, ["alerts"])
    assert gone.value.details == {"ResourceType": "configuration-set", "ResourceId": "alerts"}


def test_set_names_are_unique_and_counted(ctx, owner):
    configuration_sets.create(ctx, owner, "one")
    with pytest.raises(Conflict) as again:
        configuration_sets.create(ctx, owner, "one")
    assert again.value.details["Reason"] == "RESOURCE_ALREADY_EXISTS"
    _quota(ctx, owner, CONFIGURATION_SETS=1)
    with pytest.raises(LimitExceeded) as full:
        configuration_sets.create(ctx, owner, "two")
    assert full.value.details["Reason"] == "CONFIGURATION_SETS_PER_ACCOUNT"


def test_event_destinations_one_kind_no_text_sent_five_at_most(ctx, owner):
    configuration_sets.create(ctx, owner, "events")
    made = configuration_sets.create_destination(ctx, owner, "events", "lake", {
        "MatchingEventTypes": ["TEXT_DELIVERED", "TEXT_BLOCKED", "TEXT_DELIVERED"],
        "KinesisFirehoseDestination": _firehose(owner)})
    assert made["EventDestination"] == {"EventDestinationName": "lake", "Enabled": True,
                                        "MatchingEventTypes": ["TEXT_BLOCKED", "TEXT_DELIVERED"],
                                        "KinesisFirehoseDestination": _firehose(owner)}
    bad = [({"MatchingEventTypes": ["TEXT_SENT"], "SnsDestination": _sns(owner)}, "INVALID_PARAMETER"),
           ({"MatchingEventTypes": ["ALL"]}, "MISSING_PARAMETER"),
           ({"MatchingEventTypes": ["ALL"], "SnsDestination": _sns(owner),
             "KinesisFirehoseDestination": _firehose(owner)}, "PARAMETERS_CANNOT_BE_USED_TOGETHER"),
           ({"MatchingEventTypes": ["ALL"], "SnsDestination": {"TopicArn": "arn:aws:sns:us-east-1:999999999999:x"}},
            "INVALID_ARN")]
    for request, reason in bad:
        with pytest.raises(InvalidInput) as refused:
            configuration_sets.create_destination(ctx, owner, "events", "other", request)
        assert refused.value.details["Reason"] == reason
    with pytest.raises(Conflict):
        configuration_sets.create_destination(ctx, owner, "events", "lake",
                                              {"MatchingEventTypes": ["ALL"], "SnsDestination": _sns(owner)})
    for index in range(4):
        configuration_sets.create_destination(ctx, owner, "events", f"sns-{index}",
                                              {"MatchingEventTypes": ["ALL"], "SnsDestination": _sns(owner)})
    with pytest.raises(LimitExceeded) as full:
        configuration_sets.create_destination(ctx, owner, "events", "sixth",
                                              {"MatchingEventTypes": ["ALL"], "SnsDestination": _sns(owner)})
    assert full.value.details["Reason"] == "EVENT_DESTINATIONS_PER_CONFIGURATION_SET"


def test_updating_a_destination_changes_only_what_is_given_and_deleting_answers_it(ctx, owner):
    configuration_sets.create(ctx, owner, "events")
    configuration_sets.create_destination(ctx, owner, "events", "dest", {
        "MatchingEventTypes": ["TEXT_DELIVERED"], "KinesisFirehoseDestination": _firehose(owner)})
    updated = configuration_sets.update_destination(ctx, owner, "events", "dest", {"Enabled": False})
    assert updated["EventDestination"]["Enabled"] is False
    assert updated["EventDestination"]["KinesisFirehoseDestination"] == _firehose(owner)
    moved = configuration_sets.update_destination(ctx, owner, "events", "dest", {"SnsDestination": _sns(owner)})
    assert "KinesisFirehoseDestination" not in moved["EventDestination"]
    assert moved["EventDestination"]["SnsDestination"] == _sns(owner)
    assert moved["EventDestination"]["MatchingEventTypes"] == ["TEXT_DELIVERED"]
    with pytest.raises(NotFound) as missing:
        configuration_sets.update_destination(ctx, owner, "events", "nope", {"Enabled": True})
    assert missing.value.details == {"ResourceType": "event-destination", "ResourceId": "nope"}
    deleted = configuration_sets.delete_destination(ctx, owner, "events", "dest")
    assert deleted["EventDestination"]["EventDestinationName"] == "dest"
    assert configuration_sets.describe(ctx, owner)["ConfigurationSets"][0]["EventDestinations"] == []


def test_sets_are_filtered_and_paged(ctx, owner):
    for name in ("a", "b", "c", "d"):
        configuration_sets.create(ctx, owner, name)
    configuration_sets.set_default_message_type(ctx, owner, "b", "PROMOTIONAL")
    configuration_sets.set_default_message_type(ctx, owner, "d", "PROMOTIONAL")
    configuration_sets.create_destination(ctx, owner, "c", "lake", {
        "MatchingEventTypes": ["TEXT_DELIVERED"], "KinesisFirehoseDestination": _firehose(owner)})

    def names(**query):
        return [item["ConfigurationSetName"] for item in configuration_sets.describe(ctx, owner, **query)
                ["ConfigurationSets"]]
    assert names(filters=[{"Name": "default-message-type", "Values": ["PROMOTIONAL"]}]) == ["b", "d"]
    assert names(filters=[{"Name": "event-destination-name", "Values": ["lake"]}]) == ["c"]
    assert names(filters=[{"Name": "matching-event-types", "Values": ["TEXT_BLOCKED"]}]) == []
    first = configuration_sets.describe(ctx, owner, max_results=3)
    rest = configuration_sets.describe(ctx, owner, max_results=3, token=first["NextToken"])
    assert [item["ConfigurationSetName"] for item in first["ConfigurationSets"] + rest["ConfigurationSets"]] == [
        "a", "b", "c", "d"]


def test_a_confined_tenant_reads_sets_but_changes_none(ctx, admin, confined):
    shared_admin = account_caller(ctx, admin, confined.account_id)
    configuration_sets.create(ctx, shared_admin, "shared")
    assert [item["ConfigurationSetName"] for item in configuration_sets.describe(ctx, confined)
            ["ConfigurationSets"]] == ["shared"]
    for change in (lambda: configuration_sets.create(ctx, confined, "mine"),
                   lambda: configuration_sets.set_default_sender_id(ctx, confined, "shared", "X"),
                   lambda: configuration_sets.create_destination(ctx, confined, "shared", "d", {
                       "MatchingEventTypes": ["ALL"], "SnsDestination": _sns(confined)}),
                   lambda: configuration_sets.delete(ctx, confined, "shared")):
        with pytest.raises(Forbidden):
            change()


# --- the account -----------------------------------------------------------------------------------

def test_a_new_account_is_sandboxed_and_the_operator_takes_it_to_production(ctx, admin, owner):
    assert account.describe_attributes(ctx, owner)["AccountAttributes"] == [{"Name": "ACCOUNT_TIER",
                                                                               "Value": "SANDBOX"}]
    assert account.describe_spend_limits(ctx, owner)["SpendLimits"] == [{
        "Name": "TEXT_MESSAGE_MONTHLY_SPEND_LIMIT", "EnforcedLimit": 1, "MaxLimit": 1, "Overridden": False}]
    with pytest.raises(Forbidden):
        account.set_sms_production(ctx, owner, owner.account_id, sandbox=False, max_spend=500)
    account.set_sms_production(ctx, admin, owner.account_id, sandbox=False, max_spend=500, region=owner.region)
    assert account.describe_attributes(ctx, owner)["AccountAttributes"][0]["Value"] == "PRODUCTION"
    assert account.set_spend_override(ctx, owner, 200) == {"MonthlyLimit": 200}
    assert account.describe_spend_limits(ctx, owner)["SpendLimits"][0] == {
        "Name": "TEXT_MESSAGE_MONTHLY_SPEND_LIMIT", "EnforcedLimit": 200, "MaxLimit": 500, "Overridden": True}
    with pytest.raises(InvalidInput) as too_high:
        account.set_spend_override(ctx, owner, 501)
    assert too_high.value.details["Reason"] == "REQUESTED_SPEND_LIMIT_HIGHER_THAN_SERVICE_LIMIT"
    assert account.delete_spend_override(ctx, owner) == {"MonthlyLimit": 500}
    account.set_sms_production(ctx, admin, owner.account_id, sandbox=True, max_spend=None, region=owner.region)
    assert account.describe_spend_limits(ctx, owner)["SpendLimits"][0]["MaxLimit"] == 1
    with pytest.raises(NotFound):
        account.set_sms_production(ctx, admin, "000000000000", sandbox=False, max_spend=None)


def test_account_limits_count_what_the_account_has(ctx, owner):
    configuration_sets.create(ctx, owner, "one")
    opt_outs.create_list(ctx, owner, "extra")
    found = {item["Name"]: item for item in account.describe_limits(ctx, owner)["AccountLimits"]}
    assert found["CONFIGURATION_SETS"] == {"Name": "CONFIGURATION_SETS", "Used": 1, "Max": 25}
    assert found["PHONE_NUMBERS"]["Used"] == 0 and found["PHONE_NUMBERS"]["Max"] >= 1
    assert found["OPT_OUT_LISTS"]["Used"] == 2 and found["VERIFIED_DESTINATION_NUMBERS"]["Max"] == 10
    first = account.describe_limits(ctx, owner, max_results=4)
    rest = account.describe_limits(ctx, owner, max_results=4, token=first["NextToken"])
    assert len(first["AccountLimits"]) == 4 and len(rest["AccountLimits"]) == len(found) - 4


def test_a_destination_number_is_verified_with_the_code_it_was_sent(ctx, owner):
    made = account.create_verified_number(ctx, owner, "+12065550123")
    assert made["Status"] == "PENDING" and made["VerifiedDestinationNumberId"].startswith("verifieddestinationnumber-")
    number_id = made["VerifiedDestinationNumberId"]
    with pytest.raises(Conflict) as no_code:
        account.verify_number(ctx, owner, number_id, "123456")
    assert no_code.value.details["Reason"] == "VERIFICATION_CODE_EXPIRED"
    assert account.send_verification_code(ctx, owner, number_id, "TEXT")["MessageId"]
    with ctx.db.read() as conn:
        code = resources.get(conn, owner.account_id, owner.region, account.VERIFIED, number_id)["document"]["_code"]
    with pytest.raises(InvalidInput) as wrong:
        account.verify_number(ctx, owner, number_id, "x" + code)
    assert wrong.value.details["Reason"] == "VERIFICATION_CODE_MISMATCH"
    verified = account.verify_number(ctx, owner, number_id, code)
    assert verified["Status"] == "VERIFIED" and "_code" not in verified
    with ctx.db.read() as conn:
        assert account.is_verified(conn, owner.account_id, owner.region, "+12065550123")
    listed = account.describe_verified_numbers(ctx, owner, filters=[{"Name": "status", "Values": ["VERIFIED"]}])
    assert [item["DestinationPhoneNumber"] for item in listed["VerifiedDestinationNumbers"]] == ["+12065550123"]
    assert not any(key.startswith("_") for key in listed["VerifiedDestinationNumbers"][0])
    deleted = account.delete_verified_number(ctx, owner, number_id)
    assert deleted["DestinationPhoneNumber"] == "+12065550123"
    with pytest.raises(NotFound):
        account.delete_verified_number(ctx, owner, number_id)


def test_wrong_guesses_spend_the_code_and_the_sandbox_holds_ten_numbers(ctx, owner, monkeypatch):
    number_id = account.create_verified_number(ctx, owner, "+12065550100")["VerifiedDestinationNumberId"]
    account.send_verification_code(ctx, owner, number_id, "TEXT")
    for _ in range(account.MAX_GUESSES):
        with pytest.raises(InvalidInput):
            account.verify_number(ctx, owner, number_id, "0000000")
    with pytest.raises(Conflict) as spent:
        account.verify_number(ctx, owner, number_id, "0000000")
    assert spent.value.details["Reason"] == "VERIFICATION_CODE_EXPIRED"
    with pytest.raises(InvalidInput) as voice:
        account.send_verification_code(ctx, owner, number_id, "VOICE")
    assert voice.value.details["Reason"] == "VOICE_CAPABILITY_NOT_AVAILABLE"
    for last in range(1, 10):
        account.create_verified_number(ctx, owner, f"+1206555011{last}")
    with pytest.raises(LimitExceeded) as full:
        account.create_verified_number(ctx, owner, "+12065550188")
    assert full.value.details["Reason"] == "VERIFIED_DESTINATION_NUMBERS_PER_ACCOUNT"


# --- tags ------------------------------------------------------------------------------------------

def test_tags_on_any_sms_resource_of_the_callers_account(ctx, admin, owner):
    configuration_sets.create(ctx, owner, "tagged", [{"Key": "a", "Value": "1"}])
    arn = f"arn:aws:sms-voice:{owner.region}:{owner.account_id}:configuration-set/tagged"
    tags.tag_resource(ctx, owner, arn, [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    assert tags.list_tags(ctx, owner, arn)["Tags"] == [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    tags.untag_resource(ctx, owner, arn, ["a"])
    assert tags.list_tags(ctx, owner, arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    other = onboard(ctx, admin, "globex", "ma-mp")[1]
    for bad in (arn, arn.replace("tagged", "missing"), f"arn:aws:sms-voice:{owner.region}:{owner.account_id}:x/y"):
        with pytest.raises(NotFound):
            tags.list_tags(ctx, other if bad == arn else owner, bad)
    with pytest.raises(LimitExceeded) as full:
        tags.tag_resource(ctx, owner, arn, [{"Key": f"k{index}", "Value": ""} for index in range(200)])
    assert full.value.details["Reason"] == "TAGS_PER_RESOURCE"
    configuration_sets.delete(ctx, owner, "tagged")
    configuration_sets.create(ctx, owner, "tagged")
    assert tags.list_tags(ctx, owner, arn)["Tags"] == []
