"""The email channel and message templates through boto3 `pinpoint` against a real server."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import admin_request, make_client, onboard

HTML = "<p>Hello {{User.UserAttributes.FirstName}}</p>"


def _error(call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def _account_credentials(server, account_id: str) -> dict:
    response = admin_request(server, server.admin, "POST", "/admin/v1/access-keys",
                             {"scope": "account", "account_id": account_id})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def solo(server):
    """An ma-mp tenant: its own account, so it administers its own identities and templates."""
    placed = onboard(server, "ma-mp")
    return placed, make_client(server, placed["credentials"]), make_client(server, placed["credentials"], "sesv2")


def test_email_channel_lifecycle(solo):
    placed, pinpoint, ses = solo
    project, account = placed["tenant"]["project_id"], placed["tenant"]["account_id"]
    domain = f"{uuid.uuid4().hex[:8]}.example.com"
    ses.create_email_identity(EmailIdentity=domain)
    identity = f"arn:aws:ses:{placed['credentials']['region']}:{account}:identity/{domain}"
    assert _error(lambda: pinpoint.get_email_channel(ApplicationId=project))[:2] == ("NotFoundException", 404)
    made = pinpoint.update_email_channel(ApplicationId=project, EmailChannelRequest={
        "FromAddress": f"News <news@{domain}>", "Identity": identity, "Enabled": True})["EmailChannelResponse"]
    assert {key: made[key] for key in ("ApplicationId", "Platform", "Id", "Version", "Enabled", "IsArchived",
                                       "Identity", "MessagesPerSecond")} == {
        "ApplicationId": project, "Platform": "EMAIL", "Id": "email", "Version": 1, "Enabled": True,
        "IsArchived": False, "Identity": identity, "MessagesPerSecond": 1}
    updated = pinpoint.update_email_channel(ApplicationId=project, EmailChannelRequest={
        "FromAddress": f"hello@{domain}", "Identity": identity, "Enabled": False})["EmailChannelResponse"]
    assert (updated["Version"], updated["Enabled"], updated["CreationDate"]) == (2, False, made["CreationDate"])
    assert pinpoint.get_email_channel(ApplicationId=project)["EmailChannelResponse"] == updated
    channels = pinpoint.get_channels(ApplicationId=project)["ChannelsResponse"]["Channels"]
    assert list(channels) == ["EMAIL"] and channels["EMAIL"]["Version"] == 2
    code, status, message = _error(lambda: pinpoint.update_email_channel(ApplicationId=project, EmailChannelRequest={
        "FromAddress": "news@elsewhere.org", "Identity": identity}))
    assert (code, status) == ("BadRequestException", 400) and "FromAddress" in message
    code, _status, message = _error(lambda: pinpoint.update_email_channel(ApplicationId=project, EmailChannelRequest={
        "FromAddress": f"a@{domain}", "Identity": identity.replace(account, "123456789012")}))
    assert code == "BadRequestException" and "Identity" in message
    assert pinpoint.delete_email_channel(ApplicationId=project)["EmailChannelResponse"]["Version"] == 2
    assert pinpoint.get_channels(ApplicationId=project)["ChannelsResponse"]["Channels"] == {}


def test_a_shared_projects_channel_belongs_to_the_operator(server):
    tenant = onboard(server, "sa-sp")
    pinpoint = make_client(server, tenant["credentials"])
    project = tenant["tenant"]["project_id"]
    assert _error(lambda: pinpoint.get_email_channel(ApplicationId=project))[:2] == ("ForbiddenException", 403)
    assert _error(lambda: pinpoint.get_channels(ApplicationId=project))[0] == "ForbiddenException"
    request = {"FromAddress": "a@example.com", "Identity": "arn:aws:ses:us-east-1:123456789012:identity/example.com"}
    assert _error(lambda: pinpoint.update_email_channel(ApplicationId=project,
                                                        EmailChannelRequest=request))[0] == "ForbiddenException"


def test_template_versions(solo):
    _placed, pinpoint, _ses = solo
    name = f"welcome-{uuid.uuid4().hex[:8]}"
    created = pinpoint.create_email_template(TemplateName=name, EmailTemplateRequest={
        "Subject": "v1", "HtmlPart": HTML, "DefaultSubstitutions": '{"FirstName": "there"}',
        "tags": {"team": "growth"}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    arn = created["CreateTemplateMessageBody"]["Arn"]
    assert arn.endswith(f":templates/{name}/EMAIL")
    pinpoint.update_email_template(TemplateName=name, CreateNewVersion=True,
                                   EmailTemplateRequest={"Subject": "v2", "HtmlPart": HTML})
    active = pinpoint.get_email_template(TemplateName=name)["EmailTemplateResponse"]
    assert (active["Version"], active["Subject"]) == ("1", "v1")
    assert active["DefaultSubstitutions"] == '{"FirstName": "there"}'
    assert active["tags"] == {"team": "growth"} and active["TemplateType"] == "EMAIL" and active["Arn"] == arn
    assert pinpoint.get_email_template(TemplateName=name, Version="2")["EmailTemplateResponse"]["Subject"] == "v2"
    code, status, message = _error(lambda: pinpoint.update_email_template(
        TemplateName=name, Version="1", EmailTemplateRequest={"Subject": "x"}))
    assert (code, status) == ("BadRequestException", 400) and "latest" in message
    assert _error(lambda: pinpoint.update_email_template(TemplateName=name, Version="2", CreateNewVersion=True,
                                                         EmailTemplateRequest={"Subject": "x"}))[0] == \
        "BadRequestException"
    pinpoint.update_email_template(TemplateName=name, Version="2", EmailTemplateRequest={"Subject": "v2 fixed"})
    accepted = pinpoint.update_template_active_version(TemplateName=name, TemplateType="EMAIL",
                                                       TemplateActiveVersionRequest={"Version": "latest"})
    assert accepted["MessageBody"]["Message"] == "Accepted"
    assert pinpoint.get_email_template(TemplateName=name)["EmailTemplateResponse"]["Subject"] == "v2 fixed"
    versions = pinpoint.list_template_versions(TemplateName=name, TemplateType="EMAIL")["TemplateVersionsResponse"]
    assert [v["Version"] for v in versions["Item"]] == ["1", "2"]
    pinpoint.delete_email_template(TemplateName=name, Version="1")
    assert _error(lambda: pinpoint.get_email_template(TemplateName=name, Version="1"))[:2] == (
        "NotFoundException", 404)
    pinpoint.tag_resource(ResourceArn=arn, TagsModel={"tags": {"owner": "ana"}})
    assert pinpoint.list_tags_for_resource(ResourceArn=arn)["TagsModel"]["tags"] == {"team": "growth", "owner": "ana"}
    pinpoint.delete_email_template(TemplateName=name)
    assert _error(lambda: pinpoint.get_email_template(TemplateName=name))[0] == "NotFoundException"
    assert _error(lambda: pinpoint.list_tags_for_resource(ResourceArn=arn))[0] == "NotFoundException"


def test_bad_templates_are_refused_in_aws_shape(solo):
    _placed, pinpoint, _ses = solo
    code, status, message = _error(lambda: pinpoint.create_email_template(
        TemplateName="bad-subs", EmailTemplateRequest={"Subject": "s", "DefaultSubstitutions": "[1]"}))
    assert (code, status) == ("BadRequestException", 400) and "DefaultSubstitutions" in message
    code, _status, message = _error(lambda: pinpoint.create_email_template(
        TemplateName="bad-syntax", EmailTemplateRequest={"Subject": "s", "HtmlPart": "{{#each x}}never closed"}))
    assert code == "BadRequestException" and "HtmlPart" in message
    assert _error(lambda: pinpoint.list_templates(TemplateType="FAX"))[0] == "BadRequestException"
    name = f"dup-{uuid.uuid4().hex[:8]}"
    pinpoint.create_email_template(TemplateName=name, EmailTemplateRequest={"Subject": "s"})
    code, _status, message = _error(lambda: pinpoint.create_email_template(
        TemplateName=name, EmailTemplateRequest={"Subject": "s"}))
    assert code == "BadRequestException" and "already exists" in message


def test_listing_templates_pages_with_a_prefix(solo):
    _placed, pinpoint, _ses = solo
    prefix = f"page-{uuid.uuid4().hex[:6]}-"
    names = [f"{prefix}{n}" for n in range(5)]
    for name in names:
        pinpoint.create_email_template(TemplateName=name, EmailTemplateRequest={"Subject": name,
                                                                                 "TemplateDescription": "d"})
    seen, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = pinpoint.list_templates(Prefix=prefix, PageSize="2", TemplateType="EMAIL", **kwargs)
        page = page["TemplatesResponse"]
        assert len(page["Item"]) <= 2
        seen += [item["TemplateName"] for item in page["Item"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names
    assert pinpoint.list_templates(Prefix=prefix, TemplateType="SMS")["TemplatesResponse"]["Item"] == []


def test_tenants_sharing_an_account_keep_their_templates_apart(server):
    a, b = onboard(server, "sa-mp"), onboard(server, "sa-mp")
    a_client, b_client = make_client(server, a["credentials"]), make_client(server, b["credentials"])
    operator = make_client(server, _account_credentials(server, a["tenant"]["account_id"]))
    suffix = uuid.uuid4().hex[:8]
    house, mine = f"{suffix}-house", f"{suffix}-alpha"
    operator.create_email_template(TemplateName=house, EmailTemplateRequest={"Subject": "house", "HtmlPart": HTML})
    arn = a_client.create_email_template(TemplateName=mine, EmailTemplateRequest={
        "Subject": "mine"})["CreateTemplateMessageBody"]["Arn"]
    assert a_client.get_email_template(TemplateName=mine)["EmailTemplateResponse"]["tags"] == {
        "tenant": a["tenant"]["tenant_id"]}
    assert b_client.get_email_template(TemplateName=house)["EmailTemplateResponse"]["Subject"] == "house"
    assert _error(lambda: b_client.get_email_template(TemplateName=mine))[:2] == ("NotFoundException", 404)
    assert _error(lambda: b_client.delete_email_template(TemplateName=mine))[0] == "NotFoundException"
    assert _error(lambda: b_client.list_tags_for_resource(ResourceArn=arn))[0] == "NotFoundException"
    assert _error(lambda: b_client.update_email_template(TemplateName=house, EmailTemplateRequest={
        "Subject": "mine now"}))[:2] == ("ForbiddenException", 403)
    assert _error(lambda: a_client.tag_resource(ResourceArn=arn, TagsModel={"tags": {"tenant": "other"}}))[0] == \
        "ForbiddenException"
    b_names = [t["TemplateName"] for t in b_client.list_templates(Prefix=suffix)["TemplatesResponse"]["Item"]]
    assert b_names == [house]
    operator_names = [t["TemplateName"] for t in operator.list_templates(Prefix=suffix)["TemplatesResponse"]["Item"]]
    assert operator_names == [mine, house]
