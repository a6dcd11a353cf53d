"""No input makes the server answer 5xx: every implemented operation, fed inputs drawn from its
botocore input shape, signed for real, against a real `pinfold serve`.

Derandomized, with PINFOLD_FUZZ_EXAMPLES examples per operation (default 10) so CI is stable and
quick; raise it for a long run. Each operation's 5xx answers are collected and reported together.
"""

from __future__ import annotations

import os
import uuid

import botocore.exceptions
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, Phase, given, settings

from pinfold.api.gateway import HANDLER_TABLES
from pinfold.api.protocol import load_services
from tests.conftest import admin_request, onboard
from tests.wire.fuzz_shapes import InputStrategies

EXAMPLES = int(os.environ.get("PINFOLD_FUZZ_EXAMPLES", "10"))
# For a long run: a file that gets one line per operation, "service:operation requests 5xx 2xx".
TALLY = os.environ.get("PINFOLD_FUZZ_TALLY")
# Deleting the shared resources would leave later operations nothing to reach, so these get their own.
_DESTRUCTIVE = ("Delete", "Remove", "Untag")
_NOW = "2026-11-26T10:00:00Z"


def _implemented() -> list[tuple[str, str]]:
    operations = []
    for spec in load_services().values():
        names = sorted(set(spec.model.operation_names) & set(HANDLER_TABLES[spec.name]))
        operations.extend((spec.name, name) for name in names)
    return operations


def _client(server, creds: dict, service: str):
    import boto3

    # Validation off so out-of-range values reach the server; one attempt so a 5xx is seen, not retried.
    config = Config(parameter_validation=False, retries={"total_max_attempts": 1}, read_timeout=60)
    return boto3.client(service, endpoint_url=server.url, region_name=creds["region"],
                        aws_access_key_id=creds["aws_access_key_id"],
                        aws_secret_access_key=creds["aws_secret_access_key"], config=config)


def _account(server) -> dict:
    """Account-scoped credentials for an account of its own, so account settings changed here touch no other test."""
    placed = onboard(server, "ma-mp")
    response = admin_request(server, server.admin, "POST", "/admin/v1/access-keys",
                             {"scope": "account", "account_id": placed["tenant"]["account_id"]})
    assert response.status_code == 201, response.text
    return response.json()


def _world(server, creds: dict) -> dict[str, list[str]]:
    """Create one resource of each kind the implemented operations name; member name -> existing names."""
    pinpoint, ses = _client(server, creds, "pinpoint"), _client(server, creds, "sesv2")
    tag = uuid.uuid4().hex[:8]
    app = pinpoint.create_app(CreateApplicationRequest={"Name": f"fuzz-{tag}"})["ApplicationResponse"]
    app_id = app["Id"]
    segment = pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest={
        "Name": "s", "Dimensions": {"Demographic": {"Channel": {"Values": ["EMAIL"]}}}})["SegmentResponse"]
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="e1", EndpointRequest={
        "ChannelType": "EMAIL", "Address": "a@example.com", "User": {"UserId": "u1"}})
    template = f"fuzz-{tag}"
    pinpoint.create_email_template(TemplateName=template, EmailTemplateRequest={"Subject": "s", "HtmlPart": "h"})
    ses.create_email_template(TemplateName=template, TemplateContent={"Subject": "s", "Text": "t"})
    domain = f"{tag}.example.com"
    ses.create_email_identity(EmailIdentity=domain)
    ses.create_configuration_set(ConfigurationSetName=template)
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=template, EventDestinationName="d",
        EventDestination={"Enabled": True, "MatchingEventTypes": ["SEND"],
                          "PinpointDestination": {"ApplicationArn": app["Arn"]}})
    ses.create_contact_list(ContactListName=template, Topics=[
        {"TopicName": "news", "DisplayName": "News", "DefaultSubscriptionStatus": "OPT_IN"}])
    ses.create_contact(ContactListName=template, EmailAddress="a@example.com")
    ses.create_tenant(TenantName=template)
    config_arn = ses.get_configuration_set(ConfigurationSetName=template).get("ConfigurationSetArn")
    arns = [app["Arn"], segment["Arn"], *([config_arn] if config_arn else [])]
    return {
        "ApplicationId": [app_id], "SegmentId": [segment["Id"]], "EndpointId": ["e1"], "UserId": ["u1"],
        "TemplateName": [template], "ConfigurationSetName": [template], "ContactListName": [template],
        "TenantName": [template], "EventDestinationName": ["d"], "TopicName": ["news"],
        "EmailAddress": ["a@example.com"], "EmailIdentity": [domain, f"a@{domain}"],
        "Version": ["1", "2"], "ResourceArn": arns, "ApplicationArn": [app["Arn"]],
        "FromEmailAddress": [f"a@{domain}"], "TemplateType": ["EMAIL"], "PageSize": ["2"],
        # Pinpoint types these as strings; a valid one lets an event reach the checks behind it.
        "Timestamp": [_NOW], "StartTimestamp": [_NOW], "StopTimestamp": [_NOW],
        "TemplateData": ['{"name": "fuzz"}'], "S3UrlPrefix": [f"s3://fuzz/{tag}/"],
        "RoleArn": ["arn:aws:iam::123456789012:role/fuzz"],
        "DestinationStreamArn": ["arn:aws:kinesis:us-east-1:123456789012:stream/fuzz"],
        "AttributeType": ["endpoint-custom-attributes", "endpoint-metric-attributes", "endpoint-user-attributes"],
    }


@pytest.fixture(scope="module")
def shared(server) -> tuple[dict, dict[str, list[str]]]:
    """An account and its resources that the operations which delete nothing share."""
    creds = _account(server)
    return creds, _world(server, creds)


def _status(call, params: dict) -> int | None:
    """The HTTP status of one call; None when botocore itself refuses to build or send the request."""
    try:
        return call(**params)["ResponseMetadata"]["HTTPStatusCode"]
    except botocore.exceptions.ClientError as error:
        return error.response["ResponseMetadata"]["HTTPStatusCode"]
    except (botocore.exceptions.ParamValidationError, UnicodeError, ValueError, TypeError, OverflowError):
        return None  # not expressible on the wire by this client (a NUL in a header, a year-1 epoch)


@pytest.mark.parametrize(("service", "operation"), _implemented(), ids=lambda value: value)
def test_no_input_gets_a_5xx(server, shared, service, operation):
    account, world = shared
    if operation.startswith(_DESTRUCTIVE):
        account = _account(server)
        world = _world(server, account)
    spec = next(spec for spec in load_services().values() if spec.name == service)
    client = _client(server, account, service)
    call = getattr(client, botocore.xform_name(operation))
    failures: list[str] = []
    sent = [0, 0]  # requests, successes

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=(Phase.explicit, Phase.generate),
              suppress_health_check=list(HealthCheck))
    @given(InputStrategies(world).for_operation(spec.model.operation_model(operation)))
    def probe(params: dict) -> None:
        status = _status(call, params)
        sent[0] += status is not None
        sent[1] += status is not None and status < 300
        if status is not None and status >= 500:
            failures.append(f"{status} {service}:{operation} {params!r:.600}")

    probe()
    if TALLY:
        with open(TALLY, "a") as tally:
            tally.write(f"{service}:{operation} {sent[0]} {len(failures)} {sent[1]}\n")
    assert sent[0] > 0, f"no request for {operation} reached the server"
    assert not failures, "\n".join(failures)
