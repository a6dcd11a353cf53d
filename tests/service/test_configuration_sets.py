"""SES v2 configuration sets and event destinations: options, limits, sinks, webhooks and tenancy."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from botocore.loaders import Loader

from pinfold.core.errors import Conflict, Forbidden, InvalidInput, LimitExceeded, NotFound
from pinfold.db.tables import event_bus_webhooks
from pinfold.email import configuration_sets as service
from pinfold.email import tenants as ses_tenant_service
from pinfold.email.store import configuration_sets as store
from pinfold.projects import projects
from tests.service.helpers import account_caller, onboard


def _view(ctx, caller, name):
    with ctx.db.read() as conn:
        return store.get(conn, caller.account_id, caller.region, name)


def test_a_set_keeps_every_option_it_was_created_with(ctx, admin):
    service.create(ctx, admin, {
        "ConfigurationSetName": "full-set_1",
        "TrackingOptions": {"CustomRedirectDomain": "Track.Example.com", "HttpsPolicy": "REQUIRE"},
        "DeliveryOptions": {"TlsPolicy": "REQUIRE", "SendingPoolName": "pool-a", "MaxDeliverySeconds": 600},
        "ReputationOptions": {"ReputationMetricsEnabled": True},
        "SendingOptions": {"SendingEnabled": False},
        "SuppressionOptions": {"SuppressedReasons": ["COMPLAINT", "BOUNCE", "BOUNCE"]},
        "VdmOptions": {"DashboardOptions": {"EngagementMetrics": "ENABLED"}},
        "Tags": [{"Key": "team", "Value": "mail"}]})
    got = service.get(ctx, admin, "full-set_1")
    assert got == {
        "ConfigurationSetName": "full-set_1",
        "TrackingOptions": {"CustomRedirectDomain": "track.example.com", "HttpsPolicy": "REQUIRE"},
        "DeliveryOptions": {"TlsPolicy": "REQUIRE", "SendingPoolName": "pool-a", "MaxDeliverySeconds": 600},
        "ReputationOptions": {"ReputationMetricsEnabled": True},
        "SendingOptions": {"SendingEnabled": False},
        "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
        "VdmOptions": {"DashboardOptions": {"EngagementMetrics": "ENABLED"}},
        "Tags": [{"Key": "team", "Value": "mail"}]}
    view = _view(ctx, admin, "full-set_1")
    assert view["arn"] == f"arn:aws:ses:{admin.region}:{admin.account_id}:configuration-set/full-set_1"
    assert view["sending_enabled"] is False and view["suppression"] == ["BOUNCE", "COMPLAINT"]
    assert view["delivery"]["TlsPolicy"] == "REQUIRE" and view["tracking"]["HttpsPolicy"] == "REQUIRE"


def test_a_bare_set_gets_sess_defaults(ctx, admin):
    service.create(ctx, admin, {"ConfigurationSetName": "bare"})
    assert service.get(ctx, admin, "bare") == {
        "ConfigurationSetName": "bare", "SendingOptions": {"SendingEnabled": True}, "Tags": [],
        "DeliveryOptions": {"TlsPolicy": "OPTIONAL"}, "ReputationOptions": {"ReputationMetricsEnabled": False}}
    view = _view(ctx, admin, "bare")
    assert view["suppression"] is None and view["event_destinations"] == [] and view["tracking"] == {}


@pytest.mark.parametrize("name", ["", "has space", "dot.ted", "x" * 65, "ünicode"])
def test_names_follow_sess_character_rules(ctx, admin, name):
    with pytest.raises(InvalidInput, match="1 to 64 ASCII letters"):
        service.create(ctx, admin, {"ConfigurationSetName": name})


def test_a_64_character_name_is_allowed_and_a_duplicate_is_a_conflict(ctx, admin):
    name = "A-_9" * 16
    service.create(ctx, admin, {"ConfigurationSetName": name})
    with pytest.raises(Conflict, match="already exists"):
        service.create(ctx, admin, {"ConfigurationSetName": name})


def test_the_per_account_limit_counts_only_that_account_and_region(ctx, admin, monkeypatch):
    monkeypatch.setattr(service, "MAX_CONFIGURATION_SETS", 2)
    service.create(ctx, admin, {"ConfigurationSetName": "one"})
    service.create(ctx, admin, {"ConfigurationSetName": "two"})
    with pytest.raises(LimitExceeded, match=r"configuration sets \(2\)"):
        service.create(ctx, admin, {"ConfigurationSetName": "three"})
    other_region = admin.__class__(**{**admin.__dict__, "region": "eu-west-1"})
    service.create(ctx, other_region, {"ConfigurationSetName": "three"})
    assert service.list_page(ctx, other_region, None, None) == {"ConfigurationSets": ["three"]}


def test_listing_pages_through_names_in_order(ctx, admin):
    for name in ["e", "c", "a", "d", "b"]:
        service.create(ctx, admin, {"ConfigurationSetName": name})
    seen, token = [], None
    while True:
        page = service.list_page(ctx, admin, 2, token)
        seen.append(page["ConfigurationSets"])
        token = page.get("NextToken")
        if token is None:
            break
    assert seen == [["a", "b"], ["c", "d"], ["e"]]
    service.create(ctx, admin, {"ConfigurationSetName": "with_under"})
    service.create(ctx, admin, {"ConfigurationSetName": "withXunder"})
    filtered = service.list_page(ctx, admin, None, None, {"CONFIGURATION_SET_NAME_CONTAINS": "h_u"})
    assert filtered == {"ConfigurationSets": ["with_under"]}  # "_" is a character, not a LIKE wildcard
    with pytest.raises(InvalidInput, match="PageSize"):
        service.list_page(ctx, admin, 0, None)


def test_resuming_a_paused_set_gives_its_reputation_a_fresh_start(ctx, admin):
    service.create(ctx, admin, {"ConfigurationSetName": "s"})
    service.put_sending(ctx, admin, "s", {"SendingEnabled": True})
    assert "LastFreshStart" not in service.get(ctx, admin, "s")["ReputationOptions"]
    service.put_sending(ctx, admin, "s", {"SendingEnabled": False})
    assert _view(ctx, admin, "s")["sending_enabled"] is False
    service.put_sending(ctx, admin, "s", {"SendingEnabled": True})
    got = service.get(ctx, admin, "s")
    assert got["SendingOptions"] == {"SendingEnabled": True}
    assert got["ReputationOptions"]["LastFreshStart"].endswith("Z")
    service.put_reputation(ctx, admin, "s", {"ReputationMetricsEnabled": True})
    reputation = service.get(ctx, admin, "s")["ReputationOptions"]
    assert reputation["ReputationMetricsEnabled"] is True and "LastFreshStart" in reputation


def test_suppression_has_sess_three_modes(ctx, admin):
    service.create(ctx, admin, {"ConfigurationSetName": "s"})
    assert _view(ctx, admin, "s")["suppression"] is None  # the account's settings
    service.put_suppression(ctx, admin, "s", {"SuppressedReasons": []})
    assert _view(ctx, admin, "s")["suppression"] == []  # overridden: nothing is suppressed
    service.put_suppression(ctx, admin, "s", {"SuppressedReasons": ["BOUNCE"], "SuppressionScope": "TENANT"})
    view = _view(ctx, admin, "s")
    assert view["suppression"] == ["BOUNCE"] and view["suppression_scope"] == "TENANT"
    service.put_suppression(ctx, admin, "s", {})
    assert _view(ctx, admin, "s")["suppression"] is None
    assert "SuppressionOptions" not in service.get(ctx, admin, "s")


def test_delivery_and_tracking_options_are_replaced_and_checked(ctx, admin):
    service.create(ctx, admin, {"ConfigurationSetName": "s"})
    service.put_delivery(ctx, admin, "s", {"TlsPolicy": "REQUIRE", "SendingPoolName": "tenant-a",
                                           "MaxDeliverySeconds": 300})
    assert _view(ctx, admin, "s")["delivery"] == {"TlsPolicy": "REQUIRE", "SendingPoolName": "tenant-a",
                                                  "MaxDeliverySeconds": 300}
    service.put_delivery(ctx, admin, "s", {})
    assert _view(ctx, admin, "s")["delivery"] == {"TlsPolicy": "OPTIONAL"}
    with pytest.raises(InvalidInput, match="MaxDeliverySeconds"):
        service.put_delivery(ctx, admin, "s", {"MaxDeliverySeconds": 299})
    service.put_tracking(ctx, admin, "s", {"CustomRedirectDomain": "click.example.org"})
    assert _view(ctx, admin, "s")["tracking"] == {"CustomRedirectDomain": "click.example.org",
                                                  "HttpsPolicy": "OPTIONAL"}
    with pytest.raises(InvalidInput, match="not a domain name"):
        service.put_tracking(ctx, admin, "s", {"CustomRedirectDomain": "not a domain"})
    service.put_tracking(ctx, admin, "s", {})
    assert _view(ctx, admin, "s")["tracking"] == {}
    with pytest.raises(NotFound, match="Configuration set nope does not exist"):
        service.put_delivery(ctx, admin, "nope", {})


def _destination(kind: str, arn: str | None = None, **extra) -> dict:
    bodies = {"KinesisFirehoseDestination": {"IamRoleArn": "arn:aws:iam::123456789012:role/r",
                                             "DeliveryStreamArn": arn},
              "SnsDestination": {"TopicArn": arn}, "EventBridgeDestination": {"EventBusArn": arn},
              "PinpointDestination": {"ApplicationArn": arn},
              "CloudWatchDestination": {"DimensionConfigurations": [
                  {"DimensionName": "d", "DimensionValueSource": "MESSAGE_TAG", "DefaultDimensionValue": "x"}]}}
    return {"Enabled": True, "MatchingEventTypes": ["SEND", "BOUNCE"], kind: bodies[kind], **extra}


def test_each_destination_type_maps_to_its_pinfold_sink(ctx, admin):
    account, region = admin.account_id, admin.region
    project = projects.create(ctx, admin, {"Name": "events"})["Id"]
    bus = f"arn:aws:events:{region}:{account}:event-bus/default"
    service.set_webhook(ctx, admin, bus, "https://hooks.example.com/ses", "s3cret")
    service.create(ctx, admin, {"ConfigurationSetName": "s"})
    given = {
        "fh": _destination("KinesisFirehoseDestination", f"arn:aws:firehose:{region}:{account}:deliverystream/mail"),
        "sns": _destination("SnsDestination", f"arn:aws:sns:{region}:{account}:bounces.fifo"),
        "eb": _destination("EventBridgeDestination", bus),
        "pp": _destination("PinpointDestination", f"arn:aws:mobiletargeting:{region}:{account}:apps/{project}"),
        "cw": _destination("CloudWatchDestination", Enabled=False),
    }
    for name, definition in given.items():
        service.create_destination(ctx, admin, "s", name, definition)
    sinks = {d["name"]: (d["sink"], d["target"], d["enabled"]) for d in _view(ctx, admin, "s")["event_destinations"]}
    assert sinks == {"cw": ("none", "", False), "eb": ("webhook", bus, True),
                     "fh": ("lake", ctx.settings.firehose_location("mail"), True),
                     "pp": ("pinpoint", project, True), "sns": ("nats", "bounces_fifo", True)}
    listed = service.get_destinations(ctx, admin, "s")
    assert [d["Name"] for d in listed] == ["cw", "eb", "fh", "pp", "sns"]
    assert listed[2]["KinesisFirehoseDestination"] == given["fh"]["KinesisFirehoseDestination"]
    assert listed[0]["MatchingEventTypes"] == ["SEND", "BOUNCE"]


def _with_account(value, account_id: str):
    """The definition with "{a}" in its strings replaced by the account id."""
    if isinstance(value, dict):
        return {key: _with_account(item, account_id) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_account(item, account_id) for item in value]
    return value.replace("{a}", account_id) if isinstance(value, str) else value


@pytest.mark.parametrize("definition, message", [
    ({"MatchingEventTypes": ["SEND"]}, "exactly one destination"),
    ({"MatchingEventTypes": ["SEND"], "SnsDestination": {"TopicArn": "arn:aws:sns:us-east-1:{a}:t"},
      "CloudWatchDestination": {"DimensionConfigurations": []}}, "exactly one destination"),
    ({"MatchingEventTypes": ["OPENED"], "SnsDestination": {"TopicArn": "arn:aws:sns:us-east-1:{a}:t"}},
     "Unknown event type"),
    ({"MatchingEventTypes": [], "SnsDestination": {"TopicArn": "arn:aws:sns:us-east-1:{a}:t"}}, "at least one"),
    ({"MatchingEventTypes": ["SEND"], "SnsDestination": {"TopicArn": "arn:aws:sns:us-east-1:999999999999:t"}},
     "must belong to account"),
    ({"MatchingEventTypes": ["SEND"], "SnsDestination": {"TopicArn": "arn:aws:sqs:us-east-1:{a}:t"}},
     "arn:aws:sns"),
    ({"MatchingEventTypes": ["SEND"], "KinesisFirehoseDestination": {
        "IamRoleArn": "r", "DeliveryStreamArn": "arn:aws:firehose:us-east-1:{a}:stream/x"}}, "Firehose delivery"),
    ({"MatchingEventTypes": ["SEND"], "EventBridgeDestination": {
        "EventBusArn": "arn:aws:events:us-east-1:{a}:event-bus/unmapped"}}, "No webhook is configured"),
    ({"MatchingEventTypes": ["SEND"], "PinpointDestination": {
        "ApplicationArn": "arn:aws:mobiletargeting:us-east-1:{a}:apps/missing"}}, "names no project"),
])
def test_bad_destinations_are_refused(ctx, admin, definition, message):
    service.create(ctx, admin, {"ConfigurationSetName": "s"})
    with pytest.raises(InvalidInput, match=message):
        service.create_destination(ctx, admin, "s", "d", _with_account(definition, admin.account_id))
    assert service.get_destinations(ctx, admin, "s") == []


def test_destinations_are_limited_unique_updatable_and_deletable(ctx, admin):
    topic = f"arn:aws:sns:{admin.region}:{admin.account_id}:topic"
    service.create(ctx, admin, {"ConfigurationSetName": "s"})
    for n in range(service.MAX_EVENT_DESTINATIONS):
        service.create_destination(ctx, admin, "s", f"d{n}", _destination("SnsDestination", topic))
    with pytest.raises(LimitExceeded, match=r"event destinations \(10\)"):
        service.create_destination(ctx, admin, "s", "d10", _destination("SnsDestination", topic))
    with pytest.raises(Conflict, match="already exists"):
        service.create_destination(ctx, admin, "s", "d0", _destination("SnsDestination", topic))
    service.update_destination(ctx, admin, "s", "d0", {"MatchingEventTypes": ["CLICK", "OPEN"],
                                                       "CloudWatchDestination": {"DimensionConfigurations": []}})
    first = service.get_destinations(ctx, admin, "s")[0]
    assert first == {"Name": "d0", "Enabled": False, "MatchingEventTypes": ["OPEN", "CLICK"],
                     "CloudWatchDestination": {"DimensionConfigurations": []}}
    with pytest.raises(NotFound, match="Event destination zz does not exist"):
        service.update_destination(ctx, admin, "s", "zz", _destination("SnsDestination", topic))
    service.delete_destination(ctx, admin, "s", "d0")
    with pytest.raises(NotFound):
        service.delete_destination(ctx, admin, "s", "d0")
    assert len(service.get_destinations(ctx, admin, "s")) == 9


def test_deleting_a_set_removes_its_destinations_and_tags(ctx, admin):
    topic = f"arn:aws:sns:{admin.region}:{admin.account_id}:topic"
    service.create(ctx, admin, {"ConfigurationSetName": "s", "Tags": [{"Key": "k", "Value": "v"}]})
    service.create_destination(ctx, admin, "s", "d", _destination("SnsDestination", topic))
    service.delete(ctx, admin, "s")
    with pytest.raises(NotFound):
        service.get(ctx, admin, "s")
    service.create(ctx, admin, {"ConfigurationSetName": "s"})
    assert service.get(ctx, admin, "s")["Tags"] == [] and service.get_destinations(ctx, admin, "s") == []


def test_webhook_secrets_are_encrypted_and_never_shown(ctx, admin):
    bus = f"arn:aws:events:{admin.region}:{admin.account_id}:event-bus/default"
    shown = service.set_webhook(ctx, admin, bus, "https://hooks.example.com/a", "top-secret-value")
    assert shown == {"event_bus_arn": bus, "url": "https://hooks.example.com/a", "signed": True,
                     "updated_at": shown["updated_at"]}
    with ctx.db.read() as conn:
        stored = conn.execute(sa.select(event_bus_webhooks.c.secret_ciphertext)).scalar_one()
    assert "top-secret-value" not in stored
    assert "top-secret-value" not in repr(service.list_webhooks(ctx, admin))
    assert service.webhook_target(ctx, bus) == ("https://hooks.example.com/a", "top-secret-value")
    service.set_webhook(ctx, admin, bus, "http://127.0.0.1:9/b")
    assert service.webhook_target(ctx, bus) == ("http://127.0.0.1:9/b", None)
    with pytest.raises(InvalidInput, match="https"):
        service.set_webhook(ctx, admin, bus, "http://hooks.example.com/plain")
    with pytest.raises(InvalidInput, match="event bus ARN"):
        service.set_webhook(ctx, admin, "arn:aws:sns:us-east-1:123456789012:t", "https://x.example.com")
    service.remove_webhook(ctx, admin, bus)
    assert service.webhook_target(ctx, bus) is None and service.list_webhooks(ctx, admin) == []
    with pytest.raises(NotFound):
        service.remove_webhook(ctx, admin, bus)


def test_only_the_organization_operator_manages_webhooks(ctx, admin):
    tenant, caller = onboard(ctx, admin, "acme", "ma-mp")
    bus = f"arn:aws:events:{caller.region}:{caller.account_id}:event-bus/default"
    with pytest.raises(Forbidden):
        service.set_webhook(ctx, caller, bus, "https://hooks.example.com/a")
    with pytest.raises(Forbidden):
        service.list_webhooks(ctx, account_caller(ctx, admin, tenant["account_id"]))


def test_confined_tenants_read_only_the_sets_associated_with_their_ses_tenant(ctx, admin):
    tenant, confined = onboard(ctx, admin, "acme", "sa-mp")
    owner = account_caller(ctx, admin, tenant["account_id"])
    for name in ("acme-set", "other-set"):
        service.create(ctx, owner, {"ConfigurationSetName": name})
    with pytest.raises(Forbidden, match="confined to one project"):
        service.create(ctx, confined, {"ConfigurationSetName": "mine"})
    assert service.list_page(ctx, confined, None, None) == {"ConfigurationSets": []}
    with pytest.raises(NotFound):
        service.get(ctx, confined, "acme-set")
    ses_tenant_service.create(ctx, owner, {"TenantName": "acme"})
    ses_tenant_service.associate(ctx, owner, "acme", store.arn(owner.account_id, owner.region, "acme-set"))
    assert service.list_page(ctx, confined, None, None) == {"ConfigurationSets": ["acme-set"]}
    assert service.get(ctx, confined, "acme-set")["ConfigurationSetName"] == "acme-set"
    assert service.get_destinations(ctx, confined, "acme-set") == []
    with pytest.raises(NotFound):
        service.get(ctx, confined, "other-set")
    with pytest.raises(Forbidden):
        service.put_sending(ctx, confined, "acme-set", {"SendingEnabled": False})
    with pytest.raises(Forbidden):
        service.delete(ctx, confined, "acme-set")
    with pytest.raises(Conflict, match="associated with tenant"):
        service.delete(ctx, owner, "acme-set")
    ses_tenant_service.dissociate(ctx, owner, "acme", store.arn(owner.account_id, owner.region, "acme-set"))
    service.delete(ctx, owner, "acme-set")


def test_ma_mp_tenants_administer_sets_in_their_own_account_only(ctx, admin):
    _, a = onboard(ctx, admin, "a", "ma-mp")
    _, b = onboard(ctx, admin, "b", "ma-mp")
    service.create(ctx, a, {"ConfigurationSetName": "shared-name"})
    service.put_sending(ctx, a, "shared-name", {"SendingEnabled": False})
    with pytest.raises(NotFound):
        service.get(ctx, b, "shared-name")
    service.create(ctx, b, {"ConfigurationSetName": "shared-name"})
    assert service.get(ctx, b, "shared-name")["SendingOptions"] == {"SendingEnabled": True}
    topic = f"arn:aws:sns:{a.region}:{a.account_id}:a-topic"
    with pytest.raises(InvalidInput, match="must belong to account"):
        service.create_destination(ctx, b, "shared-name", "steal", _destination("SnsDestination", topic))


def test_event_types_match_the_service_model():
    model = Loader().load_service_model("sesv2", "service-2")
    assert set(service.EVENT_TYPES) == set(model["shapes"]["EventType"]["enum"])
    members = model["shapes"]["EventDestinationDefinition"]["members"]
    assert set(service.DESTINATION_TYPES) == {m for m in members if m.endswith("Destination")}
