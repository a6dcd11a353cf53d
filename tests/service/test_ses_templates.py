"""SES v2 email templates: CRUD, limits, paging, tenancy and the rendered MIME preview."""

from __future__ import annotations

import email
from email import policy

import pytest

from pinfold.core.errors import Conflict, Forbidden, InvalidInput, LimitExceeded, NotFound
from pinfold.email import templates as service
from pinfold.email import tenants as ses_tenant_service
from pinfold.email.store import templates as store
from tests.service.helpers import account_caller, onboard

CONTENT = {"Subject": "Hello {{name}}", "Html": "<p>Hi {{name}}</p>", "Text": "Hi {{name}}"}


def test_a_template_round_trips_with_its_tags(ctx, admin):
    service.create(ctx, admin, "welcome", CONTENT, [{"Key": "team", "Value": "growth"}])
    assert service.get(ctx, admin, "welcome") == {"TemplateName": "welcome", "TemplateContent": CONTENT,
                                                  "Tags": [{"Key": "team", "Value": "growth"}]}
    with ctx.db.read() as conn:
        stored = store.get(conn, admin.account_id, admin.region, "welcome")
    assert stored == {"name": "welcome", "arn": f"arn:aws:ses:{admin.region}:{admin.account_id}:template/welcome",
                      "subject": "Hello {{name}}", "html": "<p>Hi {{name}}</p>", "text": "Hi {{name}}",
                      "tags": {"team": "growth"}}


def test_update_replaces_the_content_and_missing_parts_stay_missing(ctx, admin):
    service.create(ctx, admin, "t", CONTENT)
    service.update(ctx, admin, "t", {"Subject": "New", "Text": "only text"})
    assert service.get(ctx, admin, "t")["TemplateContent"] == {"Subject": "New", "Text": "only text"}
    with pytest.raises(NotFound, match="Template nope does not exist"):
        service.update(ctx, admin, "nope", CONTENT)


def test_names_content_and_duplicates_are_checked(ctx, admin):
    with pytest.raises(InvalidInput, match="template name"):
        service.create(ctx, admin, "bad name", CONTENT)
    with pytest.raises(InvalidInput, match="Subject, Text or Html"):
        service.create(ctx, admin, "empty", {})
    service.create(ctx, admin, "t", CONTENT)
    with pytest.raises(Conflict, match="Template t already exists"):
        service.create(ctx, admin, "t", CONTENT)


def test_templates_are_limited_to_500_kb(ctx, admin):
    limit = service.MAX_TEMPLATE_BYTES
    service.create(ctx, admin, "exact", {"Subject": "s", "Html": "x" * (limit - 1)})
    with pytest.raises(InvalidInput, match="500 KB"):
        service.create(ctx, admin, "over", {"Subject": "s", "Html": "x" * limit})
    with pytest.raises(InvalidInput, match="500 KB"):  # counted in bytes, not characters
        service.update(ctx, admin, "exact", {"Subject": "s", "Html": "é" * (limit // 2 + 1)})


def test_the_per_account_count_limit(ctx, admin, monkeypatch):
    monkeypatch.setattr(service, "MAX_TEMPLATES", 2)
    service.create(ctx, admin, "a", CONTENT)
    service.create(ctx, admin, "b", CONTENT)
    with pytest.raises(LimitExceeded, match=r"email templates \(2\)"):
        service.create(ctx, admin, "c", CONTENT)
    service.delete(ctx, admin, "a")
    service.create(ctx, admin, "c", CONTENT)


def test_listing_pages_in_name_order_with_creation_times(ctx, admin):
    for name in ["t3", "t1", "t2"]:
        service.create(ctx, admin, name, CONTENT)
    first = service.list_page(ctx, admin, 2, None)
    assert [t["TemplateName"] for t in first["TemplatesMetadata"]] == ["t1", "t2"]
    assert first["TemplatesMetadata"][0]["CreatedTimestamp"].endswith("Z")
    second = service.list_page(ctx, admin, 2, first["NextToken"])
    assert [t["TemplateName"] for t in second["TemplatesMetadata"]] == ["t3"] and "NextToken" not in second
    with pytest.raises(InvalidInput, match="between 1 and 100"):
        service.list_page(ctx, admin, 101, None)


def test_delete_removes_the_template_and_its_tags(ctx, admin):
    service.create(ctx, admin, "t", CONTENT, [{"Key": "k", "Value": "v"}])
    service.delete(ctx, admin, "t")
    with pytest.raises(NotFound):
        service.get(ctx, admin, "t")
    with pytest.raises(NotFound):
        service.delete(ctx, admin, "t")
    service.create(ctx, admin, "t", CONTENT)
    assert service.get(ctx, admin, "t")["Tags"] == []


def test_confined_tenants_only_read_their_associated_templates(ctx, admin):
    tenant, confined = onboard(ctx, admin, "acme", "sa-sp")
    owner = account_caller(ctx, admin, tenant["account_id"])
    service.create(ctx, owner, "acme-welcome", CONTENT)
    service.create(ctx, owner, "other", CONTENT)
    with pytest.raises(Forbidden):
        service.create(ctx, confined, "mine", CONTENT)
    with pytest.raises(NotFound):
        service.get(ctx, confined, "acme-welcome")
    ses_tenant_service.create(ctx, owner, {"TenantName": "acme"})
    arn = store.arn(owner.account_id, owner.region, "acme-welcome")
    ses_tenant_service.associate(ctx, owner, "acme", arn)
    listed = service.list_page(ctx, confined, None, None)["TemplatesMetadata"]
    assert [t["TemplateName"] for t in listed] == ["acme-welcome"]
    assert service.get(ctx, confined, "acme-welcome")["TemplateContent"] == CONTENT
    with pytest.raises(NotFound):
        service.get(ctx, confined, "other")
    with pytest.raises(Forbidden):
        service.update(ctx, confined, "acme-welcome", CONTENT)
    with pytest.raises(Forbidden):
        service.delete(ctx, confined, "acme-welcome")
    with pytest.raises(Conflict, match="associated with tenant"):
        service.delete(ctx, owner, "acme-welcome")


def test_ma_mp_accounts_keep_separate_template_namespaces(ctx, admin):
    _, a = onboard(ctx, admin, "a", "ma-mp")
    _, b = onboard(ctx, admin, "b", "ma-mp")
    service.create(ctx, a, "welcome", CONTENT)
    with pytest.raises(NotFound):
        service.get(ctx, b, "welcome")
    service.create(ctx, b, "welcome", {"Subject": "B's"})
    assert service.get(ctx, a, "welcome")["TemplateContent"] == CONTENT


def _parsed(raw: str):
    return email.message_from_string(raw, policy=policy.default)


def test_preview_is_a_mime_message_with_rendered_parts(ctx, admin):
    service.create(ctx, admin, "t", {"Subject": "Hi {{name}}", "Html": "<p>{{name}} &amp; {{plan}}</p>",
                                     "Text": "{{name}} / {{plan}}"})
    raw = service.preview(ctx, admin, "t", '{"name": "Ana", "plan": "<gold>"}')
    message = _parsed(raw)
    assert message["Subject"] == "Hi Ana" and message.get_content_type() == "multipart/alternative"
    assert message["MIME-Version"] == "1.0" and message["Message-ID"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.strip() == "Ana / <gold>"
    assert html.strip() == "<p>Ana &amp; &lt;gold&gt;</p>"  # HTML escapes data; text does not
    assert [part.get("MIME-Version") for part in message.iter_parts()] == [None, None]


def test_preview_of_a_single_part_template_and_bad_data(ctx, admin):
    service.create(ctx, admin, "t", {"Subject": "line\n{{x}}", "Text": "x={{x}}"})
    message = _parsed(service.preview(ctx, admin, "t", '{"x": "1"}'))
    assert message.get_content_type() == "text/plain" and message.get_content().strip() == "x=1"
    assert message["Subject"] == "line 1"
    for bad in ("not json", "[1, 2]"):
        with pytest.raises(InvalidInput, match="TemplateData must be a JSON object"):
            service.preview(ctx, admin, "t", bad)
    with pytest.raises(NotFound):
        service.preview(ctx, admin, "missing", "{}")
    service.create(ctx, admin, "broken", {"Subject": "s", "Html": "{{#if x}}never closed"})
    with pytest.raises(InvalidInput, match="never closed"):
        service.preview(ctx, admin, "broken", "{}")
