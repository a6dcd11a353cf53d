"""Projects through boto3 against a real server: shapes, paging, settings, tags and errors."""

from __future__ import annotations

import re
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client, onboard


@pytest.fixture(scope="module")
def account(server):
    """A fresh ma-mp tenant: its own account, so project counts here are this module's alone."""
    return onboard(server, "ma-mp")


@pytest.fixture(scope="module")
def pinpoint(server, account):
    return make_client(server, account["credentials"])


def test_create_get_delete_app_shapes(pinpoint, account):
    created = pinpoint.create_app(CreateApplicationRequest={"Name": "welcome", "tags": {"team": "growth"}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    app = created["ApplicationResponse"]
    assert re.fullmatch(r"[0-9a-f]{32}", app["Id"])
    assert app["Arn"] == f"arn:aws:mobiletargeting:us-east-1:{account['tenant']['account_id']}:apps/{app['Id']}"
    assert app["Name"] == "welcome" and app["tags"] == {"team": "growth"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", app["CreationDate"])
    assert pinpoint.get_app(ApplicationId=app["Id"])["ApplicationResponse"] == app
    assert pinpoint.delete_app(ApplicationId=app["Id"])["ApplicationResponse"]["Id"] == app["Id"]
    with pytest.raises(ClientError) as caught:
        pinpoint.get_app(ApplicationId=app["Id"])
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_get_apps_pages_with_page_size_and_token(pinpoint, account):
    names = {f"page-{uuid.uuid4().hex[:6]}" for _ in range(7)}
    for name in names:
        pinpoint.create_app(CreateApplicationRequest={"Name": name})
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"PageSize": "3", **({"Token": token} if token else {})}
        page = pinpoint.get_apps(**kwargs)["ApplicationsResponse"]
        assert len(page["Item"]) <= 3
        seen += [item["Name"] for item in page["Item"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert names <= set(seen) and len(seen) == len(set(seen)) and pages >= 3
    with pytest.raises(ClientError, match="Token"):
        pinpoint.get_apps(Token="not-a-token")
    with pytest.raises(ClientError, match="PageSize"):
        pinpoint.get_apps(PageSize="0")


def test_application_settings_round_trip(pinpoint):
    app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "settings"})["ApplicationResponse"]["Id"]
    initial = pinpoint.get_application_settings(ApplicationId=app_id)["ApplicationSettingsResource"]
    assert initial["ApplicationId"] == app_id and "LastModifiedDate" in initial
    updated = pinpoint.update_application_settings(
        ApplicationId=app_id,
        WriteApplicationSettingsRequest={"Limits": {"Daily": 5, "MessagesPerSecond": 50},
                                         "QuietTime": {"Start": "22:00", "End": "07:30"}},
    )["ApplicationSettingsResource"]
    assert updated["Limits"] == {"Daily": 5, "MessagesPerSecond": 50}
    assert pinpoint.get_application_settings(ApplicationId=app_id)["ApplicationSettingsResource"]["QuietTime"] == {
        "Start": "22:00", "End": "07:30"}
    with pytest.raises(ClientError, match="Limits.Daily must be between 0 and 100"):
        pinpoint.update_application_settings(ApplicationId=app_id,
                                             WriteApplicationSettingsRequest={"Limits": {"Daily": 101}})


def test_tags_round_trip(pinpoint):
    app = pinpoint.create_app(CreateApplicationRequest={"Name": "tags"})["ApplicationResponse"]
    response = pinpoint.tag_resource(ResourceArn=app["Arn"], TagsModel={"tags": {"a": "1", "b": "2"}})
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    pinpoint.untag_resource(ResourceArn=app["Arn"], TagKeys=["a"])
    assert pinpoint.list_tags_for_resource(ResourceArn=app["Arn"])["TagsModel"]["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as caught:
        pinpoint.list_tags_for_resource(ResourceArn=app["Arn"].replace(app["Id"], "0" * 32))
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
