"""NotFoundException (and a few other) messages in AWS's wording where it is known (docs/decisions.md,
"Error messages"), through boto3 against a real server."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard


def _error(call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


APP_NOT_FOUND = ("NotFoundException", 404, "Application not found")


def test_pinpoint_unknown_deleted_and_unreachable_applications(server):
    admin = make_client(server, server.admin)
    assert _error(lambda: admin.get_app(ApplicationId="0" * 32)) == APP_NOT_FOUND
    app_id = admin.create_app(CreateApplicationRequest={"Name": "short-lived"})["ApplicationResponse"]["Id"]
    admin.delete_app(ApplicationId=app_id)
    assert _error(lambda: admin.get_app(ApplicationId=app_id)) == APP_NOT_FOUND
    assert _error(lambda: admin.delete_app(ApplicationId=app_id)) == APP_NOT_FOUND
    # Every operation under /v1/apps/{id} answers for the application first.
    assert _error(lambda: admin.get_endpoint(ApplicationId=app_id, EndpointId="e1")) == APP_NOT_FOUND
    assert _error(lambda: admin.get_segments(ApplicationId=app_id)) == APP_NOT_FOUND
    # Another tenant's project looks exactly like a missing one.
    first, second = onboard(server, "sa-mp"), onboard(server, "sa-mp")
    outsider = make_client(server, second["credentials"])
    assert _error(lambda: outsider.get_app(ApplicationId=first["tenant"]["project_id"])) == APP_NOT_FOUND


def test_pinpoint_missing_event_stream(server):
    admin = make_client(server, server.admin)
    app_id = admin.create_app(CreateApplicationRequest={"Name": "no-stream"})["ApplicationResponse"]["Id"]
    assert _error(lambda: admin.get_event_stream(ApplicationId=app_id)) == (
        "NotFoundException", 404, "Resource not found")


def test_sesv2_missing_resources(server):
    placed = onboard(server, "ma-mp")
    ses = make_client(server, placed["credentials"], "sesv2")
    for call, message in (
            (lambda: ses.get_email_identity(EmailIdentity="nope.example.com"),
             "Email identity nope.example.com does not exist."),
            (lambda: ses.delete_email_identity(EmailIdentity="who@nope.example.com"),
             "Email identity who@nope.example.com does not exist."),
            (lambda: ses.get_configuration_set(ConfigurationSetName="nope"), "Configuration set nope does not exist."),
            (lambda: ses.get_email_template(TemplateName="nope"), "Template nope does not exist."),
            (lambda: ses.get_contact_list(ContactListName="nope"), "List with name nope does not exist.")):
        assert _error(call) == ("NotFoundException", 404, message)


def test_sesv2_duplicate_identity(server):
    placed = onboard(server, "ma-mp")
    ses = make_client(server, placed["credentials"], "sesv2")
    ses.create_email_identity(EmailIdentity="twice.example.com")
    assert _error(lambda: ses.create_email_identity(EmailIdentity="twice.example.com")) == (
        "AlreadyExistsException", 400, "Email identity twice.example.com already exist.")  # sic, as SES says it
