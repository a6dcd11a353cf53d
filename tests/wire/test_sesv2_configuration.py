"""SES v2 configuration sets, event destinations and email templates through boto3 against a real
server, error shapes included."""

from __future__ import annotations

import datetime
import email
import uuid
from email import policy

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard


def _ses(server, creds=None):
    return make_client(server, creds or server.admin, "sesv2")


def _code(caught) -> str:
    return caught.value.response["Error"]["Code"]


def _message(caught) -> str:
    return caught.value.response["Error"]["Message"]


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_configuration_set_lifecycle_and_options(server):
    ses, name = _ses(server), _unique("set")
    ses.create_configuration_set(
        ConfigurationSetName=name, TrackingOptions={"CustomRedirectDomain": "t.example.com"},
        DeliveryOptions={"TlsPolicy": "REQUIRE", "SendingPoolName": "pool-1", "MaxDeliverySeconds": 900},
        ReputationOptions={"ReputationMetricsEnabled": True}, SendingOptions={"SendingEnabled": True},
        SuppressionOptions={"SuppressedReasons": ["BOUNCE"]}, Tags=[{"Key": "env", "Value": "test"}])
    got = ses.get_configuration_set(ConfigurationSetName=name)
    assert got["TrackingOptions"] == {"CustomRedirectDomain": "t.example.com", "HttpsPolicy": "OPTIONAL"}
    assert got["DeliveryOptions"] == {"TlsPolicy": "REQUIRE", "SendingPoolName": "pool-1", "MaxDeliverySeconds": 900}
    assert got["SuppressionOptions"] == {"SuppressedReasons": ["BOUNCE"]}
    assert got["Tags"] == [{"Key": "env", "Value": "test"}] and got["SendingOptions"] == {"SendingEnabled": True}
    with pytest.raises(ClientError) as caught:
        ses.create_configuration_set(ConfigurationSetName=name)
    assert _code(caught) == "AlreadyExistsException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    ses.put_configuration_set_sending_options(ConfigurationSetName=name, SendingEnabled=False)
    ses.put_configuration_set_sending_options(ConfigurationSetName=name, SendingEnabled=True)
    ses.put_configuration_set_suppression_options(ConfigurationSetName=name, SuppressedReasons=[])
    ses.put_configuration_set_delivery_options(ConfigurationSetName=name, TlsPolicy="OPTIONAL")
    ses.put_configuration_set_tracking_options(ConfigurationSetName=name, CustomRedirectDomain="c.example.org",
                                               HttpsPolicy="REQUIRE_OPEN_ONLY")
    ses.put_configuration_set_reputation_options(ConfigurationSetName=name, ReputationMetricsEnabled=False)
    got = ses.get_configuration_set(ConfigurationSetName=name)
    fresh = got["ReputationOptions"]["LastFreshStart"]
    assert isinstance(fresh, datetime.datetime)
    assert abs((datetime.datetime.now(datetime.UTC) - fresh).total_seconds()) < 120
    assert got["ReputationOptions"]["ReputationMetricsEnabled"] is False
    assert got["SuppressionOptions"] == {"SuppressedReasons": []}
    assert got["DeliveryOptions"] == {"TlsPolicy": "OPTIONAL"}
    assert got["TrackingOptions"] == {"CustomRedirectDomain": "c.example.org", "HttpsPolicy": "REQUIRE_OPEN_ONLY"}

    ses.delete_configuration_set(ConfigurationSetName=name)
    for call in (lambda: ses.get_configuration_set(ConfigurationSetName=name),
                 lambda: ses.delete_configuration_set(ConfigurationSetName=name),
                 lambda: ses.put_configuration_set_sending_options(ConfigurationSetName=name, SendingEnabled=True)):
        with pytest.raises(ClientError) as caught:
            call()
        assert _code(caught) == "NotFoundException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_configuration_set_names_and_values_are_validated(server):
    ses = _ses(server)
    for bad in ("has.dot", "x" * 65):
        with pytest.raises(ClientError) as caught:
            ses.create_configuration_set(ConfigurationSetName=bad)
        assert _code(caught) == "BadRequestException" and "64 ASCII letters" in _message(caught)
    with pytest.raises(ClientError) as caught:
        ses.create_configuration_set(ConfigurationSetName=_unique("s"), DeliveryOptions={"TlsPolicy": "SOMETIMES"})
    assert _code(caught) == "BadRequestException"


def test_listing_configuration_sets_pages(server):
    ses, prefix = _ses(server), _unique("page")
    names = [f"{prefix}-{n}" for n in range(5)]
    for name in names:
        ses.create_configuration_set(ConfigurationSetName=name)
    seen, kwargs = [], {"PageSize": 2}
    while True:
        page = ses.list_configuration_sets(**kwargs)
        assert len(page["ConfigurationSets"]) <= 2
        seen += page["ConfigurationSets"]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert [name for name in seen if name.startswith(prefix)] == names
    assert seen == sorted(seen)
    filtered = ses.list_configuration_sets(Filter={"CONFIGURATION_SET_NAME_CONTAINS": f"{prefix}-3"})
    assert filtered["ConfigurationSets"] == [f"{prefix}-3"]


def test_event_destinations_through_boto3(server):
    ses, name = _ses(server), _unique("ev")
    account, region = server.admin["account_id"], server.admin["region"]
    ses.create_configuration_set(ConfigurationSetName=name)
    bus = f"arn:aws:events:{region}:{account}:event-bus/{_unique('bus')}"
    topic = f"arn:aws:sns:{region}:{account}:{_unique('topic')}"
    with pytest.raises(ClientError) as caught:  # no webhook mapped for the bus yet
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=name, EventDestinationName="bridge",
            EventDestination={"Enabled": True, "MatchingEventTypes": ["SEND"], "EventBridgeDestination": {
                "EventBusArn": bus}})
    assert _code(caught) == "BadRequestException" and "pinfold webhooks set" in _message(caught)
    server.cli("webhooks", "set", bus, "https://hooks.example.com/ses", "--secret", "wire-secret")
    listed = server.cli("webhooks", "list", "--json").stdout
    assert bus in listed and "wire-secret" not in listed and '"signed": true' in listed
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="bridge",
        EventDestination={"Enabled": True, "MatchingEventTypes": ["SEND", "DELIVERY"],
                          "EventBridgeDestination": {"EventBusArn": bus}})
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="topic",
        EventDestination={"Enabled": True, "MatchingEventTypes": ["BOUNCE", "COMPLAINT"],
                          "SnsDestination": {"TopicArn": topic}})
    got = ses.get_configuration_set_event_destinations(ConfigurationSetName=name)["EventDestinations"]
    assert got == [
        {"Name": "bridge", "Enabled": True, "MatchingEventTypes": ["SEND", "DELIVERY"],
         "EventBridgeDestination": {"EventBusArn": bus}},
        {"Name": "topic", "Enabled": True, "MatchingEventTypes": ["BOUNCE", "COMPLAINT"],
         "SnsDestination": {"TopicArn": topic}}]
    with pytest.raises(ClientError) as caught:
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=name, EventDestinationName="topic",
            EventDestination={"MatchingEventTypes": ["SEND"], "SnsDestination": {"TopicArn": topic}})
    assert _code(caught) == "AlreadyExistsException"
    with pytest.raises(ClientError) as caught:
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=name, EventDestinationName="two",
            EventDestination={"MatchingEventTypes": ["SEND"], "SnsDestination": {"TopicArn": topic},
                              "EventBridgeDestination": {"EventBusArn": bus}})
    assert _code(caught) == "BadRequestException"
    ses.update_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="topic",
        EventDestination={"Enabled": False, "MatchingEventTypes": ["OPEN"], "SnsDestination": {"TopicArn": topic}})
    got = ses.get_configuration_set_event_destinations(ConfigurationSetName=name)["EventDestinations"]
    assert got[1]["Enabled"] is False and got[1]["MatchingEventTypes"] == ["OPEN"]
    for n in range(8):
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=name, EventDestinationName=f"d{n}",
            EventDestination={"MatchingEventTypes": ["SEND"], "SnsDestination": {"TopicArn": topic}})
    with pytest.raises(ClientError) as caught:
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=name, EventDestinationName="eleventh",
            EventDestination={"MatchingEventTypes": ["SEND"], "SnsDestination": {"TopicArn": topic}})
    assert _code(caught) == "LimitExceededException"
    ses.delete_configuration_set_event_destination(ConfigurationSetName=name, EventDestinationName="bridge")
    with pytest.raises(ClientError) as caught:
        ses.delete_configuration_set_event_destination(ConfigurationSetName=name, EventDestinationName="bridge")
    assert _code(caught) == "NotFoundException"
    assert len(ses.get_configuration_set_event_destinations(ConfigurationSetName=name)["EventDestinations"]) == 9
    server.cli("webhooks", "remove", bus)
    assert bus not in server.cli("webhooks", "list", "--json").stdout


def test_email_templates_through_boto3(server):
    ses, name = _ses(server), _unique("tpl")
    content = {"Subject": "Hi {{name}}", "Html": "<b>{{name}}</b>", "Text": "Hi {{name}}"}
    ses.create_email_template(TemplateName=name, TemplateContent=content, Tags=[{"Key": "k", "Value": "v"}])
    got = ses.get_email_template(TemplateName=name)
    assert got["TemplateName"] == name and got["TemplateContent"] == content
    assert got["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as caught:
        ses.create_email_template(TemplateName=name, TemplateContent=content)
    assert _code(caught) == "AlreadyExistsException"
    ses.update_email_template(TemplateName=name, TemplateContent={"Subject": "Bye", "Text": "bye"})
    assert ses.get_email_template(TemplateName=name)["TemplateContent"] == {"Subject": "Bye", "Text": "bye"}
    with pytest.raises(ClientError) as caught:
        ses.create_email_template(TemplateName=_unique("big"), TemplateContent={"Html": "x" * (500 * 1024 + 1)})
    assert _code(caught) == "BadRequestException" and "500 KB" in _message(caught)
    with pytest.raises(ClientError) as caught:
        ses.list_email_templates(PageSize=101)
    assert _code(caught) == "BadRequestException"
    ses.delete_email_template(TemplateName=name)
    for call in (lambda: ses.get_email_template(TemplateName=name),
                 lambda: ses.update_email_template(TemplateName=name, TemplateContent=content),
                 lambda: ses.delete_email_template(TemplateName=name)):
        with pytest.raises(ClientError) as caught:
            call()
        assert _code(caught) == "NotFoundException"


def test_listing_email_templates_pages(server):
    ses, prefix = _ses(server), _unique("list")
    names = [f"{prefix}-{n}" for n in range(3)]
    for name in names:
        ses.create_email_template(TemplateName=name, TemplateContent={"Subject": "s"})
    seen, kwargs = [], {"PageSize": 1}
    while True:
        page = ses.list_email_templates(**kwargs)
        seen += page["TemplatesMetadata"]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    mine = [t for t in seen if t["TemplateName"].startswith(prefix)]
    assert [t["TemplateName"] for t in mine] == names
    assert all(isinstance(t["CreatedTimestamp"], datetime.datetime) for t in mine)


def test_test_render_returns_the_mime_message(server):
    ses, name = _ses(server), _unique("render")
    ses.create_email_template(TemplateName=name, TemplateContent={
        "Subject": "Order {{order}}", "Html": "<p>{{item}}</p>", "Text": "item: {{item}}"})
    raw = ses.test_render_email_template(TemplateName=name,
                                         TemplateData='{"order": "42", "item": "<tea>"}')["RenderedTemplate"]
    message = email.message_from_string(raw, policy=policy.default)
    assert message["Subject"] == "Order 42"
    assert message.get_body(("plain",)).get_content().strip() == "item: <tea>"
    assert message.get_body(("html",)).get_content().strip() == "<p>&lt;tea&gt;</p>"
    with pytest.raises(ClientError) as caught:
        ses.test_render_email_template(TemplateName=name, TemplateData="{not json")
    assert _code(caught) == "BadRequestException"
    with pytest.raises(ClientError) as caught:
        ses.test_render_email_template(TemplateName=_unique("missing"), TemplateData="{}")
    assert _code(caught) == "NotFoundException"


def test_confined_tenant_credentials_cannot_administer(server):
    tenant = onboard(server, "sa-mp")
    ses = _ses(server, tenant["credentials"])
    with pytest.raises(ClientError) as caught:
        ses.create_configuration_set(ConfigurationSetName=_unique("t"))
    assert _code(caught) == "AccessDeniedException"
    with pytest.raises(ClientError) as caught:
        ses.create_email_template(TemplateName=_unique("t"), TemplateContent={"Subject": "s"})
    assert _code(caught) == "AccessDeniedException"
    assert ses.list_configuration_sets()["ConfigurationSets"] == []
    assert ses.list_email_templates()["TemplatesMetadata"] == []
