"""SendTextMessage end to end on the carrier simulator: what is refused at once (opted out, no
identity, the sandbox, MaxPrice, the spend limit), which origination identity carries a text, and
what the SMS sending pass does with it (delivered, failed, expired, opted out since) with its
`_SMS.*` records and their End User Messaging shape."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from typer.testing import CliRunner

from pinfold.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from pinfold.events import outbox
from pinfold.sending.queue import TRANSACTIONAL
from pinfold.sms import events, send
from pinfold.sms.delivery import SmsDelivery
from pinfold.sms.rules import limits, prices, routing
from pinfold.sms.store import messages, opt_outs, resources, spend
from tests.service.helpers import account_caller, onboard

US_SUCCESS, US_FAILURE = "+14254147755", "+14254147167"
GB_SUCCESS = "+447860019066"
REAL_US = "+12065550123"  # not a simulator destination


@pytest.fixture
def owner(ctx, admin):
    tenant, _ = onboard(ctx, admin, "acme", "ma-mp")
    return account_caller(ctx, admin, tenant["account_id"])


def _number(ctx, caller, number: str, *, number_type: str = "SIMULATOR", country: str = "US",
            message_type: str = "TRANSACTIONAL", status: str = "ACTIVE", opt_out_list: str = "Default",
            pool_id: str | None = None, created: float = 1.0, international: bool = False) -> str:
    number_id = f"phone-{uuid.uuid4().hex}"
    document = {"PhoneNumberId": number_id, "PhoneNumber": number, "Status": status, "IsoCountryCode": country,
                "MessageType": message_type, "NumberCapabilities": ["SMS", "VOICE"], "NumberType": number_type,
                "MonthlyLeasingPrice": "1.00", "TwoWayEnabled": False, "SelfManagedOptOutsEnabled": False,
                "OptOutListName": opt_out_list, "DeletionProtectionEnabled": False,
                "InternationalSendingEnabled": international, "CreatedTimestamp": created, "_keywords": {},
                **({"PoolId": pool_id} if pool_id else {})}
    with ctx.db.write() as conn:
        resources.insert(conn, caller.account_id, caller.region, "phone-number", number_id, number, document,
                         pool_id=pool_id)
    return number_id


def _sender_id(ctx, caller, sender_id: str, country: str) -> str:
    key = f"{sender_id}:{country}"
    document = {"SenderId": sender_id, "IsoCountryCode": country, "MessageTypes": ["TRANSACTIONAL"],
                "MonthlyLeasingPrice": "0.00", "DeletionProtectionEnabled": False, "Registered": False,
                "CreatedTimestamp": 1.0}
    with ctx.db.write() as conn:
        resources.insert(conn, caller.account_id, caller.region, "sender-id", key, sender_id, document)
    return key


def _pool(ctx, caller, *, opt_out_list: str = "Default", sender_ids: list[str] | None = None,
          status: str = "ACTIVE") -> str:
    pool_id = f"pool-{uuid.uuid4().hex}"
    document = {"PoolId": pool_id, "Status": status, "MessageType": "TRANSACTIONAL", "TwoWayEnabled": False,
                "SelfManagedOptOutsEnabled": False, "OptOutListName": opt_out_list, "SharedRoutesEnabled": False,
                "DeletionProtectionEnabled": False, "CreatedTimestamp": 1.0, "_keywords": {},
                "_sender_ids": sender_ids or []}
    with ctx.db.write() as conn:
        resources.insert(conn, caller.account_id, caller.region, "pool", pool_id, pool_id, document)
    return pool_id


def _production(ctx, caller, limit: float = 100.0) -> None:
    with ctx.db.write() as conn:
        resources.insert(conn, caller.account_id, caller.region, limits.SETTINGS_KIND, limits.SETTINGS_ID,
                         limits.SETTINGS_ID, {"Sandbox": False, "MaxSpendLimit": limit})


def _opt_out(ctx, caller, number: str, list_name: str = "Default") -> None:
    with ctx.db.write() as conn:
        opt_outs.put(conn, caller.account_id, caller.region, list_name, number, end_user=True, at=time.time())


def _send(ctx, caller, destination: str = US_SUCCESS, body: str = "Your code is 123456", **extra) -> str:
    return send.send_text_message(ctx, caller, {"DestinationPhoneNumber": destination, "MessageBody": body,
                                                **extra})["MessageId"]


def _row(ctx, message_id: str) -> dict:
    with ctx.db.read() as conn:
        return messages.get(conn, message_id)


def _spent(ctx, caller) -> float:
    with ctx.db.read() as conn:
        return spend.spent(conn, caller.account_id, caller.region, spend.month_of(time.time()))


def _records(ctx) -> list[dict]:
    with ctx.db.read() as conn:
        return [row["record"] for row in outbox.read_after(conn, 0, 10_000)]


# --- accepted, delivered, recorded -------------------------------------------------------------------

def test_a_text_to_the_success_simulator_is_queued_charged_delivered_and_recorded(ctx, owner):
    _number(ctx, owner, "+12015550100")
    message_id = _send(ctx, owner, Context={"order": "42"}, ConfigurationSetName=None)
    row = _row(ctx, message_id)
    assert row["status"] == "queued" and row["message"]["origination"] == "+12015550100"
    assert row["message"]["parts"] == 1 and row["message"]["encoding"] == "GSM"
    assert _spent(ctx, owner) == pytest.approx(prices.price_of("US", 1))

    delivery = SmsDelivery(ctx)
    assert delivery.run_once() == 1
    assert _row(ctx, message_id)["status"] == "delivered"
    kept = list((ctx.settings.data_dir / "sms").glob(f"*/{message_id}.json"))
    assert len(kept) == 1
    stored = json.loads(kept[0].read_text())
    assert (stored["destination"], stored["origination"], stored["outcome"]) == (US_SUCCESS, "+12015550100",
                                                                                   "DELIVERED")
    [record] = _records(ctx)
    assert record["event_type"] == "_SMS.SUCCESS"
    attributes = record["attributes"]
    assert attributes["record_status"] == "DELIVERED" and attributes["destination_phone_number"] == US_SUCCESS
    assert attributes["origination_phone_number"] == "+12015550100" and attributes["iso_country_code"] == "US"
    assert attributes["number_of_message_parts"] == "1" and attributes["message_id"] == message_id
    assert json.loads(attributes["customer_context"]) == {"order": "42"}
    assert record["metrics"]["price_in_millicents_usd"] == pytest.approx(prices.price_of("US", 1) * 100_000)
    assert record["pinfold"]["account_id"] == owner.account_id
    text = events.text_events(record)
    assert [(e["eventType"], e["isFinal"]) for e in text] == [("TEXT_SUCCESSFUL", False), ("TEXT_DELIVERED", True)]
    assert text[1]["messageEncoding"] == "GSM" and text[1]["context"] == {"order": "42"}
    assert text[1]["totalMessageParts"] == 1 and text[1]["messageType"] == "TRANSACTIONAL"


def test_a_text_to_the_failure_simulator_fails_and_says_so(ctx, owner):
    _number(ctx, owner, "+12015550100")
    message_id = _send(ctx, owner, US_FAILURE)
    SmsDelivery(ctx).run_once()
    assert _row(ctx, message_id)["status"] == "failed"
    [record] = _records(ctx)
    assert record["event_type"] == "_SMS.FAILURE" and record["attributes"]["record_status"] == "UNREACHABLE"
    assert [e["eventType"] for e in events.text_events(record)] == ["TEXT_UNREACHABLE"]


def test_a_long_unicode_text_is_charged_per_part(ctx, owner):
    _number(ctx, owner, "+12015550100")
    message_id = _send(ctx, owner, body="’" * 100)
    message = _row(ctx, message_id)["message"]
    assert (message["encoding"], message["parts"]) == ("Unicode", 2)
    assert _spent(ctx, owner) == pytest.approx(prices.price_of("US", 2))


def test_a_dry_run_is_checked_but_neither_queued_nor_charged(ctx, owner):
    _number(ctx, owner, "+12015550100")
    message_id = _send(ctx, owner, DryRun=True)
    assert _row(ctx, message_id) is None and _spent(ctx, owner) == 0
    with pytest.raises(Conflict):
        _send(ctx, owner, REAL_US, DryRun=True)  # still refused as a real send would be (no identity for it)


# --- refused at once ------------------------------------------------------------------------------

def test_an_opted_out_destination_is_refused_with_the_reason_and_the_number(ctx, owner):
    _number(ctx, owner, "+12015550100")
    _opt_out(ctx, owner, US_SUCCESS)
    with pytest.raises(Conflict) as refused:
        _send(ctx, owner)
    assert refused.value.details == {"Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT",
                                     "ResourceType": "opted-out-number", "ResourceId": US_SUCCESS}
    assert _spent(ctx, owner) == 0


def test_the_opt_out_list_is_the_identitys_own(ctx, owner):
    _number(ctx, owner, "+12015550100", opt_out_list="Other")
    _opt_out(ctx, owner, US_SUCCESS)  # on Default, which this number does not use
    assert _send(ctx, owner)
    _opt_out(ctx, owner, US_SUCCESS, "Other")
    with pytest.raises(Conflict, match="opted out"):
        _send(ctx, owner)


def test_an_ma_mp_tenants_opt_out_does_not_block_another_tenant(ctx, admin):
    first = account_caller(ctx, admin, onboard(ctx, admin, "one", "ma-mp")[0]["account_id"])
    second = account_caller(ctx, admin, onboard(ctx, admin, "two", "ma-mp")[0]["account_id"])
    for caller in (first, second):
        _number(ctx, caller, "+12015550100")
    _opt_out(ctx, first, US_SUCCESS)
    with pytest.raises(Conflict):
        _send(ctx, first)
    assert _send(ctx, second)


def test_without_an_identity_that_can_reach_the_destination_nothing_is_found(ctx, owner):
    with pytest.raises(Conflict) as refused:
        _send(ctx, owner)
    assert refused.value.details["Reason"] == "NO_ORIGINATION_IDENTITIES_FOUND"
    _number(ctx, owner, "+12015550100")  # a simulator number reaches only simulator destinations
    _production(ctx, owner)
    with pytest.raises(Conflict) as refused:
        _send(ctx, owner, REAL_US)
    assert refused.value.details["Reason"] == "NO_ORIGINATION_IDENTITIES_FOUND"
    with pytest.raises(Conflict):
        _send(ctx, owner, GB_SUCCESS)  # nor those of another country


def test_the_sandbox_sends_only_to_verified_and_simulator_destinations(ctx, owner):
    _number(ctx, owner, "+12065550100", number_type="LONG_CODE")
    with pytest.raises(Conflict) as refused:
        _send(ctx, owner, REAL_US)
    assert refused.value.details["Reason"] == "DESTINATION_PHONE_NUMBER_NOT_VERIFIED"
    verified = {"VerifiedDestinationNumberId": f"verifieddestinationnumber-{uuid.uuid4().hex}",
                "DestinationPhoneNumber": REAL_US, "Status": "PENDING", "CreatedTimestamp": 1.0}
    with ctx.db.write() as conn:
        resources.insert(conn, owner.account_id, owner.region, "verified-destination-number",
                         verified["VerifiedDestinationNumberId"], REAL_US, verified)
    with pytest.raises(Conflict):
        _send(ctx, owner, REAL_US)  # pending is not verified
    with ctx.db.write() as conn:
        resources.update(conn, owner.account_id, owner.region, "verified-destination-number",
                         verified["VerifiedDestinationNumberId"], document={**verified, "Status": "VERIFIED"})
    assert _send(ctx, owner, REAL_US)
    assert _send(ctx, owner, US_SUCCESS)


def test_the_monthly_spend_limit_refuses_what_would_pass_it(ctx, owner):
    _number(ctx, owner, "+12015550100")  # the sandbox allows 1 USD a month
    with ctx.db.write() as conn:
        spend.add(conn, owner.account_id, owner.region, spend.month_of(time.time()), 0.995)
    with pytest.raises(LimitExceeded) as refused:
        _send(ctx, owner)
    assert refused.value.details == {"Reason": "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT"}
    with ctx.db.write() as conn:
        spend.add(conn, owner.account_id, owner.region, spend.month_of(time.time()), -0.1)
    assert _send(ctx, owner)


def test_max_price_refuses_a_message_that_costs_more(ctx, owner):
    _number(ctx, owner, "+12015550100")
    price = prices.price_of("US", 2)
    with pytest.raises(InvalidInput) as refused:
        _send(ctx, owner, body="a" * 200, MaxPrice=f"{price - 0.00001:.5f}")
    assert refused.value.details["Reason"] == "PRICE_OVER_THRESHOLD"
    assert _send(ctx, owner, body="a" * 200, MaxPrice=f"{price:.5f}")


@pytest.mark.parametrize(("request_", "field"), [
    ({"MessageBody": "   \n"}, "MessageBody"),
    ({"MessageBody": "ж" * 631}, "MessageBody"),
    ({"DestinationPhoneNumber": "+1999"}, "DestinationPhoneNumber"),
    ({"DestinationPhoneNumber": "not a number"}, "DestinationPhoneNumber"),
    ({"TimeToLive": 4}, "TimeToLive"),
    ({"TimeToLive": 259_201}, "TimeToLive"),
    ({"MaxPrice": "1"}, "MaxPrice"),
    ({"MessageType": "URGENT"}, "MessageType"),
    ({"Context": {str(n): "v" for n in range(6)}}, "Context"),
])
def test_bad_input_is_a_validation_error_naming_the_field(ctx, owner, request_, field):
    _number(ctx, owner, "+12015550100")
    with pytest.raises(InvalidInput) as refused:
        send.send_text_message(ctx, owner, {"DestinationPhoneNumber": US_SUCCESS, "MessageBody": "hi", **request_})
    fields = refused.value.details.get("Fields") or [{"Name": refused.value.field}]
    assert fields[0]["Name"] == field


def test_a_body_over_the_maximum_says_so(ctx, owner):
    _number(ctx, owner, "+12015550100")
    with pytest.raises(InvalidInput) as refused:
        _send(ctx, owner, body="{" * 766)
    assert refused.value.details["Reason"] == "MAXIMUM_SIZE_EXCEEDED"


# --- naming the origination -------------------------------------------------------------------------

def test_the_origination_may_be_named_by_number_id_or_arn(ctx, owner):
    _number(ctx, owner, "+12015550100")
    number_id = _number(ctx, owner, "+12015550199", created=2.0)
    arn = f"arn:aws:sms-voice:{owner.region}:{owner.account_id}:phone-number/{number_id}"
    for given in ("+12015550199", "12015550199", number_id, arn):
        message_id = _send(ctx, owner, OriginationIdentity=given)
        assert _row(ctx, message_id)["message"]["origination"] == "+12015550199"


def test_an_unknown_or_foreign_origination_is_not_found_with_its_type(ctx, owner):
    foreign = f"arn:aws:sms-voice:{owner.region}:111122223333:phone-number/phone-{'0' * 32}"
    for given, kind in ((f"phone-{'1' * 32}", "phone-number"), ("+12015550111", "phone-number"),
                        (f"pool-{'2' * 32}", "pool"), ("Acme", "sender-id"), (foreign, "phone-number")):
        with pytest.raises(NotFound) as missing:
            _send(ctx, owner, OriginationIdentity=given)
        assert missing.value.details == {"ResourceType": kind, "ResourceId": given}


def test_a_named_number_must_be_able_to_reach_the_destination(ctx, owner):
    simulator_id = _number(ctx, owner, "+12015550100")
    _production(ctx, owner)
    with pytest.raises(InvalidInput) as refused:
        _send(ctx, owner, REAL_US, OriginationIdentity=simulator_id)
    assert refused.value.details["Reason"] == "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY"
    pending = _number(ctx, owner, "+12065550100", number_type="LONG_CODE", status="PENDING")
    with pytest.raises(Conflict) as refused:
        _send(ctx, owner, REAL_US, OriginationIdentity=pending)
    assert refused.value.details["Reason"] == "RESOURCE_NOT_ACTIVE"


def test_a_pool_sends_from_its_members_and_guards_with_its_own_list(ctx, owner):
    _number(ctx, owner, "+12015550100")  # not in the pool
    pool_id = _pool(ctx, owner, opt_out_list="PoolList")
    _number(ctx, owner, "+12015550177", pool_id=pool_id, opt_out_list="PoolList", created=5.0)
    message_id = _send(ctx, owner, OriginationIdentity=pool_id)
    message = _row(ctx, message_id)["message"]
    assert message["origination"] == "+12015550177" and message["pool_id"] == pool_id
    _opt_out(ctx, owner, US_SUCCESS, "PoolList")
    with pytest.raises(Conflict, match="opted out"):
        _send(ctx, owner, OriginationIdentity=pool_id)
    empty = _pool(ctx, owner)
    with pytest.raises(Conflict) as refused:
        _send(ctx, owner, OriginationIdentity=empty)
    assert refused.value.details["Reason"] == "NO_ORIGINATION_IDENTITIES_FOUND"


def test_a_configuration_set_gives_the_message_type_and_must_exist(ctx, owner):
    _number(ctx, owner, "+12015550100")  # transactional
    with pytest.raises(NotFound) as missing:
        _send(ctx, owner, ConfigurationSetName="nope")
    assert missing.value.details == {"ResourceType": "configuration-set", "ResourceId": "nope"}
    document = {"ConfigurationSetName": "promo", "EventDestinations": [], "DefaultMessageType": "PROMOTIONAL",
                "CreatedTimestamp": 1.0}
    with ctx.db.write() as conn:
        resources.insert(conn, owner.account_id, owner.region, "configuration-set", "promo", "promo", document)
    with pytest.raises(Conflict):  # no promotional number
        _send(ctx, owner, ConfigurationSetName="promo")
    message_id = _send(ctx, owner, ConfigurationSetName="promo", MessageType="TRANSACTIONAL")
    assert _row(ctx, message_id)["message"]["configuration_set"] == "promo"
    SmsDelivery(ctx).run_once()
    [record] = _records(ctx)  # the set's event destinations would take it, by the types they match
    assert events.destined(record, owner.account_id, owner.region, "promo", {"TEXT_DELIVERED"})
    assert events.destined(record, owner.account_id, owner.region, "promo", {"TEXT_ALL"})
    assert not events.destined(record, owner.account_id, owner.region, "promo", {"TEXT_FAILED", "TEXT_BLOCKED"})
    assert not events.destined(record, owner.account_id, owner.region, "other", {"ALL"})


def test_a_tenant_confined_to_a_project_sends_through_the_accounts_numbers(ctx, admin):
    tenant, confined = onboard(ctx, admin, "shop", "sa-mp")
    owner = account_caller(ctx, admin, tenant["account_id"])
    _number(ctx, owner, "+12015550100")
    message_id = _send(ctx, confined)
    row = _row(ctx, message_id)
    assert (row["tenant_id"], row["project_id"]) == ("shop", tenant["project_id"])
    SmsDelivery(ctx).run_once()
    [record] = _records(ctx)
    assert record["pinfold"]["tenant_id"] == "shop" and record["application"]["app_id"] == tenant["project_id"]


# --- the sending pass -----------------------------------------------------------------------------

def test_a_destination_that_opts_out_after_the_send_is_held_back_and_refunded(ctx, owner):
    _number(ctx, owner, "+12015550100")
    message_id = _send(ctx, owner)
    _opt_out(ctx, owner, US_SUCCESS)
    SmsDelivery(ctx).run_once()
    assert _row(ctx, message_id)["status"] == "opted_out"
    assert _spent(ctx, owner) == pytest.approx(0)
    [record] = _records(ctx)
    assert (record["event_type"], record["attributes"]["record_status"]) == ("_SMS.FAILURE", "OPTED_OUT")
    assert not list((ctx.settings.data_dir / "sms").glob("*/*.json"))


def test_a_message_past_its_time_to_live_expires_unsent(ctx, owner):
    _number(ctx, owner, "+12015550100")
    message_id = _send(ctx, owner, TimeToLive=5)
    SmsDelivery(ctx).run_once(now=time.time() + 10)
    assert _row(ctx, message_id)["status"] == "expired"
    [record] = _records(ctx)
    assert record["attributes"]["record_status"] == "TTL_EXPIRED"
    assert [e["eventType"] for e in events.text_events(record)] == ["TEXT_TTL_EXPIRED"]
    assert _spent(ctx, owner) == pytest.approx(0)


class _Unreachable:
    """A carrier that cannot be reached for now."""

    name = "unreachable"

    def deliver(self, texts, acknowledged=None):
        from pinfold.sending.channel import Outcome

        outcomes = []
        for index, _text in enumerate(texts):
            outcomes.append(Outcome("transient", "connection refused"))
            if acknowledged is not None:
                acknowledged(index, outcomes[-1])
        return outcomes

    def close(self):
        pass


def test_a_carrier_that_cannot_be_reached_is_tried_again_until_the_time_to_live(ctx, owner):
    _number(ctx, owner, "+12015550100")
    message_id = _send(ctx, owner, TimeToLive=100)
    delivery = SmsDelivery(ctx, _Unreachable())
    start = time.time()
    delivery.run_once(now=start)
    row = _row(ctx, message_id)
    assert row["status"] == "queued" and row["due_at"] > start
    [record] = _records(ctx)
    assert (record["event_type"], record["attributes"]["record_status"]) == ("_SMS.BUFFERED", "CARRIER_UNREACHABLE")
    assert "price_in_millicents_usd" not in record["metrics"]
    delivery.run_once(now=row["due_at"] + 1)
    assert _row(ctx, message_id)["status"] == "queued"
    delivery.run_once(now=start + 101)
    assert _row(ctx, message_id)["status"] == "expired"
    assert _spent(ctx, owner) == pytest.approx(0)


def test_a_claimed_message_is_not_claimed_twice_while_its_lease_holds(ctx, owner):
    _number(ctx, owner, "+12015550100")
    _send(ctx, owner)
    now = time.time()
    with ctx.db.write() as conn:
        first = messages.claim(conn, lane=TRANSACTIONAL, now=now, until=now + 20, limit=10)
        again = messages.claim(conn, lane=TRANSACTIONAL, now=now + 1, until=now + 21, limit=10)
        later = messages.claim(conn, lane=TRANSACTIONAL, now=now + 21, until=now + 41, limit=10)
    assert len(first) == 1 and again == [] and [row["taken_over"] for row in later] == [True]


# --- routing rules ----------------------------------------------------------------------------------

def _identity(kind: str, name: str, **document) -> routing.Identity:
    return routing.Identity(kind, name, name, {"Status": "ACTIVE", "NumberCapabilities": ["SMS"],
                                               "IsoCountryCode": "US", "MessageType": "TRANSACTIONAL", **document})


def test_routing_prefers_short_codes_then_10dlc_then_long_codes_domestic_and_transactional_first():
    us = routing.Destination(REAL_US, "US", False)
    long_code = _identity("phone-number", "long", NumberType="LONG_CODE")
    ten_dlc = _identity("phone-number", "10dlc", NumberType="TEN_DLC")
    short = _identity("phone-number", "short", NumberType="SHORT_CODE")
    promotional_short = _identity("phone-number", "promo", NumberType="SHORT_CODE", MessageType="PROMOTIONAL",
                                  CreatedTimestamp=-1)
    canadian = _identity("phone-number", "ca", NumberType="SHORT_CODE", IsoCountryCode="CA",
                         InternationalSendingEnabled=True)
    assert routing.choose([long_code, ten_dlc], us).name == "10dlc"
    assert routing.choose([long_code, ten_dlc, short, promotional_short, canadian], us).name == "short"
    assert routing.choose([long_code, canadian], us).name == "long"
    assert routing.choose([canadian], us).name == "ca"
    assert routing.choose([long_code, promotional_short], us, message_type="PROMOTIONAL").name == "promo"
    assert routing.choose([_identity("phone-number", "off", NumberType="LONG_CODE", Status="PENDING")], us) is None


def test_routing_falls_back_to_sender_ids_then_the_default_sender_id():
    gb = routing.Destination("+447700900123", "GB", False)
    sender = _identity("sender-id", "ACME", IsoCountryCode="GB", MessageTypes=["TRANSACTIONAL"])
    us_number = _identity("phone-number", "us", NumberType="LONG_CODE")
    assert routing.choose([us_number, sender], gb).name == "ACME"
    chosen = routing.choose([us_number], gb, default_sender_id="NOTICE")
    assert (chosen.kind, chosen.name) == ("default-sender-id", "NOTICE")
    assert routing.choose([], routing.Destination(REAL_US, "US", False), default_sender_id="NOTICE") is None


def test_routing_sends_simulator_numbers_only_to_their_countrys_simulator_destinations():
    simulated = _identity("phone-number", "sim", NumberType="SIMULATOR")
    assert routing.choose([simulated], routing.Destination(US_SUCCESS, "US", True)).name == "sim"
    assert routing.choose([simulated], routing.Destination(REAL_US, "US", False)) is None
    assert routing.choose([simulated], routing.Destination(GB_SUCCESS, "GB", True)) is None


# --- pinfold sms list|show ---------------------------------------------------------------------------

def test_the_cli_lists_kept_texts_newest_first_and_shows_one(ctx, owner):
    from pinfold.cli import sms

    _number(ctx, owner, "+12015550100")
    first = _send(ctx, owner, body="first")
    SmsDelivery(ctx).run_once()
    time.sleep(0.01)
    second = _send(ctx, owner, US_FAILURE, body="second")
    SmsDelivery(ctx).run_once()
    runner = CliRunner()
    data_dir = str(ctx.settings.data_dir)
    listed = runner.invoke(sms.sms_app, ["list", "--json", "--data-dir", data_dir])
    assert listed.exit_code == 0, listed.output
    assert [text["message_id"] for text in json.loads(listed.stdout)] == [second, first]
    page = runner.invoke(sms.sms_app, ["list", "--json", "--limit", "1", "--data-dir", data_dir])
    token = page.stderr.strip().rpartition(" ")[2]
    rest = runner.invoke(sms.sms_app, ["list", "--json", "--limit", "1", "--next-token", token,
                                       "--data-dir", data_dir])
    assert [text["message_id"] for text in json.loads(rest.stdout)] == [first]
    only = runner.invoke(sms.sms_app, ["list", "--json", "--destination", US_FAILURE, "--data-dir", data_dir])
    assert [text["message_id"] for text in json.loads(only.stdout)] == [second]
    shown = runner.invoke(sms.sms_app, ["show", first, "--data-dir", data_dir])
    assert shown.exit_code == 0 and "first" in shown.stdout and US_SUCCESS in shown.stdout
    missing = runner.invoke(sms.sms_app, ["show", "../../etc/passwd", "--data-dir", data_dir])
    assert missing.exit_code == 2
    assert runner.invoke(sms.sms_app, ["show", str(uuid.uuid4()), "--data-dir", data_dir]).exit_code == 4


def test_a_keyword_reply_goes_from_the_receiving_number_even_to_an_opted_out_handset(ctx, owner):
    number_id = _number(ctx, owner, "+12015550100")
    _opt_out(ctx, owner, US_SUCCESS)
    with ctx.db.write() as conn:
        number = {**resources.get(conn, owner.account_id, owner.region, "phone-number", number_id),
                  "account_id": owner.account_id, "region": owner.region}
        message_id = send.queue_reply(conn, number, US_SUCCESS, "You are unsubscribed. Reply START to resubscribe.")
    SmsDelivery(ctx).run_once()  # the gate would hold back any other text to this handset
    row = _row(ctx, message_id)
    assert row["status"] == "delivered" and row["message"]["origination"] == "+12015550100"
    assert _spent(ctx, owner) == pytest.approx(prices.price_of("US", 1))
