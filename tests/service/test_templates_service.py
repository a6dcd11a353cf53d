"""Pinpoint message templates: version rules, listing, validation, tags, and tenants in a shared account."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from pinfold import onboarding, tags
from pinfold.core.errors import Forbidden, InvalidInput, LimitExceeded, NotFound
from pinfold.messaging import templates
from pinfold.messaging.store import templates as template_store
from tests.service.helpers import account_caller, onboard

EMAIL = "EMAIL"


def _email(subject: str, **extra) -> dict:
    return {"Subject": subject, "HtmlPart": "<p>Hi {{User.UserAttributes.FirstName}}</p>",
            "TextPart": "Hi {{User.UserAttributes.FirstName}}", **extra}


def test_versions_follow_pinpoints_rules(ctx, admin):
    arn = templates.create(ctx, admin, "welcome", EMAIL, _email("v1", DefaultSubstitutions='{"FirstName": "you"}'))
    assert arn == f"arn:aws:mobiletargeting:{admin.region}:{admin.account_id}:templates/welcome/EMAIL"
    templates.update(ctx, admin, "welcome", EMAIL, _email("v1 fixed"))  # overwrites the latest version
    assert templates.get(ctx, admin, "welcome", EMAIL)["Subject"] == "v1 fixed"
    templates.update(ctx, admin, "welcome", EMAIL, _email("v2"), create_new_version=True)
    active = templates.get(ctx, admin, "welcome", EMAIL)
    assert (active["Version"], active["Subject"]) == ("1", "v1 fixed")  # a new version does not become active
    assert "DefaultSubstitutions" not in active  # an update replaces the whole version
    assert templates.get(ctx, admin, "welcome", EMAIL, "2")["Subject"] == "v2"
    with pytest.raises(InvalidInput):  # only the latest version may be overwritten
        templates.update(ctx, admin, "welcome", EMAIL, _email("x"), version="1")
    with pytest.raises(NotFound):
        templates.update(ctx, admin, "welcome", EMAIL, _email("x"), version="9")
    with pytest.raises(InvalidInput):
        templates.update(ctx, admin, "welcome", EMAIL, _email("x"), create_new_version=True, version="2")
    templates.update(ctx, admin, "welcome", EMAIL, _email("v2 fixed"), version="2")
    templates.set_active_version(ctx, admin, "welcome", EMAIL, "latest")
    assert templates.get(ctx, admin, "welcome", EMAIL)["Subject"] == "v2 fixed"
    templates.set_active_version(ctx, admin, "welcome", EMAIL, "1")
    templates.delete(ctx, admin, "welcome", EMAIL, "2")
    templates.update(ctx, admin, "welcome", EMAIL, _email("v3"), create_new_version=True)
    page = templates.versions_page(ctx, admin, "welcome", EMAIL, None, None)
    assert [item["Version"] for item in page["Item"]] == ["1", "3"]  # numbers are never reused
    with pytest.raises(InvalidInput):
        templates.delete(ctx, admin, "welcome", EMAIL, "1")  # the active version
    with pytest.raises(NotFound):
        templates.delete(ctx, admin, "welcome", EMAIL, "2")
    with pytest.raises(NotFound):
        templates.set_active_version(ctx, admin, "welcome", EMAIL, "2")
    with pytest.raises(InvalidInput):
        templates.get(ctx, admin, "welcome", EMAIL, "two")
    templates.delete(ctx, admin, "welcome", EMAIL)
    with pytest.raises(NotFound):
        templates.get(ctx, admin, "welcome", EMAIL)
    with ctx.db.read() as conn:
        assert template_store.find(conn, admin.account_id, admin.region, "welcome", EMAIL) is None


def test_deleting_the_only_version_deletes_the_template(ctx, admin):
    templates.create(ctx, admin, "single", EMAIL, _email("only"))
    templates.delete(ctx, admin, "single", EMAIL, "1")
    with pytest.raises(NotFound):
        templates.get(ctx, admin, "single", EMAIL)
    templates.create(ctx, admin, "single", EMAIL, _email("again"))  # the name is free again


def test_the_pipeline_reads_the_active_or_a_pinned_version(ctx, admin):
    templates.create(ctx, admin, "receipt", EMAIL, _email("one", DefaultSubstitutions='{"FirstName": "friend"}'))
    templates.update(ctx, admin, "receipt", EMAIL, _email("two"), create_new_version=True)
    with ctx.db.read() as conn:
        active = template_store.get(conn, admin.account_id, admin.region, "receipt", EMAIL)
        pinned = template_store.get(conn, admin.account_id, admin.region, "receipt", EMAIL, 2)
        missing = template_store.get(conn, admin.account_id, admin.region, "receipt", EMAIL, 7)
    assert active == {**active, "version": 1, "subject": "one", "text": "Hi {{User.UserAttributes.FirstName}}",
                      "default_substitutions": {"FirstName": "friend"}, "tenant_id": None}
    assert (pinned["version"], pinned["subject"], pinned["default_substitutions"]) == (2, "two", {})
    assert missing is None


@pytest.mark.parametrize(("name", "request_", "field"), [
    ("-dash-first", _email("s"), "TemplateName"),
    ("x" * 129, _email("s"), "TemplateName"),
    ("has space", _email("s"), "TemplateName"),
    ("subs", _email("s", DefaultSubstitutions="[1, 2]"), "DefaultSubstitutions"),
    ("subs", _email("s", DefaultSubstitutions="{not json"), "DefaultSubstitutions"),
    ("syntax", _email("s", HtmlPart="<p>{{#if User.UserId}}unclosed</p>"), "HtmlPart"),
    ("syntax", _email("{{", TextPart="fine"), "Subject"),
    ("headers", _email("s", Headers=[{"Name": "", "Value": "x"}]), "Headers"),
    ("headers", _email("s", Headers=[{"Name": f"X-{n}", "Value": "v"} for n in range(16)]), "Headers"),
])
def test_bad_templates_are_refused_with_the_field(ctx, admin, name, request_, field):
    with pytest.raises(InvalidInput) as caught:
        templates.create(ctx, admin, name, EMAIL, request_)
    assert caught.value.field == field
    with ctx.db.read() as conn:
        assert template_store.count(conn, admin.account_id, admin.region) == 0


def test_names_are_unique_per_type_and_parts_have_a_size_limit(ctx, admin):
    templates.create(ctx, admin, "dup", EMAIL, _email("s"))
    with pytest.raises(InvalidInput) as caught:
        templates.create(ctx, admin, "dup", EMAIL, _email("s"))
    assert "already exists" in caught.value.message
    with pytest.raises(LimitExceeded):
        templates.create(ctx, admin, "huge", EMAIL, {"Subject": "s", "TextPart": "x" * 600_001})


def test_listing_pages_by_name_with_prefix_and_type(ctx, admin):
    for name in ("news-a", "news-b", "news-c", "News-upper", "alerts"):
        templates.create(ctx, admin, name, EMAIL, _email(name, TemplateDescription=f"about {name}"))
    templates.update(ctx, admin, "news-b", EMAIL, _email("b2"), create_new_version=True)
    seen, token = [], None
    while True:
        page = templates.list_page(ctx, admin, "news", None, "2", token)
        seen += page["Item"]
        token = page.get("NextToken")
        if token is None:
            break
    assert [item["TemplateName"] for item in seen] == ["news-a", "news-b", "news-c"]  # prefix is case sensitive
    assert seen[1]["Version"] == "1"  # the active version
    assert seen[0]["TemplateDescription"] == "about news-a" and seen[0]["TemplateType"] == EMAIL
    everything = templates.list_page(ctx, admin, None, "EMAIL", None, None)["Item"]
    assert len(everything) == 5
    assert templates.list_page(ctx, admin, None, "SMS", None, None) == {"Item": []}
    with pytest.raises(InvalidInput):
        templates.list_page(ctx, admin, None, "FAX", None, None)
    with pytest.raises(InvalidInput):
        templates.list_page(ctx, admin, None, None, "0", None)


def test_versions_page(ctx, admin):
    templates.create(ctx, admin, "many", EMAIL, _email("v1"))
    for n in range(2, 6):
        templates.update(ctx, admin, "many", EMAIL, _email(f"v{n}"), create_new_version=True)
    first = templates.versions_page(ctx, admin, "many", "EMAIL", "3", None)
    second = templates.versions_page(ctx, admin, "many", "EMAIL", "3", first["NextToken"])
    assert [v["Version"] for v in first["Item"] + second["Item"]] == ["1", "2", "3", "4", "5"]
    assert "NextToken" not in second
    with pytest.raises(NotFound):
        templates.versions_page(ctx, admin, "absent", "EMAIL", None, None)


@pytest.mark.parametrize("model", ["sa-sp", "sa-mp"])
def test_tenants_in_a_shared_account_see_the_operators_templates_and_their_own(ctx, admin, model):
    a_place, a = onboard(ctx, admin, "alpha", model)
    _b_place, b = onboard(ctx, admin, "bravo", model)
    operator = account_caller(ctx, admin, a_place["account_id"])
    shared_arn = templates.create(ctx, operator, "house-style", EMAIL, _email("house"))
    mine_arn = templates.create(ctx, a, "alpha-welcome", EMAIL, _email("alpha", tags={"tenant": "bravo", "k": "v"}))
    assert templates.get(ctx, a, "alpha-welcome", EMAIL)["tags"] == {"tenant": "alpha", "k": "v"}
    assert templates.get(ctx, a, "house-style", EMAIL)["Subject"] == "house"
    for call in (lambda: templates.get(ctx, b, "alpha-welcome", EMAIL),
                 lambda: templates.update(ctx, b, "alpha-welcome", EMAIL, _email("x")),
                 lambda: templates.delete(ctx, b, "alpha-welcome", EMAIL),
                 lambda: templates.set_active_version(ctx, b, "alpha-welcome", EMAIL, "latest"),
                 lambda: templates.versions_page(ctx, b, "alpha-welcome", EMAIL, None, None),
                 lambda: tags.list_tags(ctx, b, mine_arn),
                 lambda: tags.tag(ctx, b, mine_arn, {"x": "y"})):
        with pytest.raises(NotFound):
            call()
    for call in (lambda: templates.update(ctx, a, "house-style", EMAIL, _email("x")),
                 lambda: templates.delete(ctx, a, "house-style", EMAIL),
                 lambda: templates.set_active_version(ctx, a, "house-style", EMAIL, "1"),
                 lambda: tags.tag(ctx, a, shared_arn, {"x": "y"}),
                 lambda: tags.untag(ctx, a, mine_arn, ["tenant"]),
                 lambda: tags.tag(ctx, a, mine_arn, {"tenant": "bravo"})):
        with pytest.raises(Forbidden):
            call()
    assert [t["TemplateName"] for t in templates.list_page(ctx, b, None, None, None, None)["Item"]] == ["house-style"]
    listed = templates.list_page(ctx, a, None, None, None, None)["Item"]
    assert [t["TemplateName"] for t in listed] == ["alpha-welcome", "house-style"]
    tags.tag(ctx, a, mine_arn, {"team": "growth"})
    assert tags.list_tags(ctx, a, mine_arn) == {"tenant": "alpha", "k": "v", "team": "growth"}
    assert tags.list_tags(ctx, a, shared_arn) == {}
    all_seen = {t["TemplateName"] for t in templates.list_page(ctx, operator, None, None, None, None)["Item"]}
    assert all_seen == {"alpha-welcome", "house-style"}
    with ctx.db.read() as conn:
        assert templates.for_sending(conn, a, "house-style", EMAIL)["subject"] == "house"
        with pytest.raises(NotFound):
            templates.for_sending(conn, b, "alpha-welcome", EMAIL)
    from pinfold import onboarding as tenants

    assert tenants.offboard(ctx, admin, "alpha")["removed"]["templates"] == 1  # offboarding takes them along
    with pytest.raises(NotFound):
        templates.get(ctx, operator, "alpha-welcome", EMAIL)
    assert templates.get(ctx, operator, "house-style", EMAIL)["Subject"] == "house"


def test_an_ma_mp_tenant_has_its_own_accounts_templates(ctx, admin):
    templates.create(ctx, admin, "operator-only", EMAIL, _email("op"))
    _placed, solo = onboard(ctx, admin, "solo", "ma-mp")
    templates.create(ctx, solo, "solo-welcome", EMAIL, _email("solo"))
    assert [t["TemplateName"] for t in templates.list_page(ctx, solo, None, None, None, None)["Item"]] == [
        "solo-welcome"]
    assert templates.get(ctx, solo, "solo-welcome", EMAIL)["tags"] == {}  # its account: no tenant tag needed
    with pytest.raises(NotFound):
        templates.get(ctx, solo, "operator-only", EMAIL)


def test_concurrent_new_versions_each_get_their_own_number(ctx, admin):
    templates.create(ctx, admin, "busy", EMAIL, _email("v1"))

    def add(n: int) -> None:
        templates.update(ctx, admin, "busy", EMAIL, _email(f"from {n}"), create_new_version=True)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(add, range(12)))
    page = templates.versions_page(ctx, admin, "busy", EMAIL, None, None)
    assert [item["Version"] for item in page["Item"]] == [str(n) for n in range(1, 14)]


def test_a_project_key_reads_the_operators_templates_and_changes_none(ctx, admin):
    from tests.service.helpers import caller_for_credentials

    place, tenant = onboard(ctx, admin, "alpha", "sa-mp")
    operator = account_caller(ctx, admin, place["account_id"])
    templates.create(ctx, operator, "house-style", EMAIL, _email("house"))
    templates.create(ctx, tenant, "alpha-welcome", EMAIL, _email("alpha"))
    key = caller_for_credentials(ctx, onboarding.create_access_key(
        ctx, admin, scope="project", account_id=place["account_id"], project_id=place["project_id"]))
    assert templates.get(ctx, key, "house-style", EMAIL)["Subject"] == "house"
    with pytest.raises(NotFound):
        templates.get(ctx, key, "alpha-welcome", EMAIL)
    for call in (lambda: templates.update(ctx, key, "house-style", EMAIL, _email("x")),
                 lambda: templates.delete(ctx, key, "house-style", EMAIL),
                 lambda: templates.create(ctx, key, "mine", EMAIL, _email("x"))):
        with pytest.raises(Forbidden):
            call()
    assert [t["TemplateName"] for t in templates.list_page(ctx, key, None, None, None, None)["Item"]] == [
        "house-style"]


PUSH_CONTENT = {"Default": {"Title": "Hi {{User.UserAttributes.FirstName}}", "Body": "Your order shipped",
                            "Action": "OPEN_APP"},
                "APNS": {"Title": "Hi", "Body": "Shipped", "Sound": "default", "Action": "DEEP_LINK",
                         "Url": "shop://orders/{{Attributes.OrderId}}"},
                "GCM": {"Title": "Hi", "Body": "Shipped", "ImageUrl": "https://cdn.example.com/box.png",
                        "Action": "URL", "Url": "https://example.com/orders"},
                "DefaultSubstitutions": '{"FirstName": "there"}', "TemplateDescription": "shipping"}


def test_push_templates_keep_each_platforms_content_and_version_like_the_others(ctx, admin):
    templates.create(ctx, admin, "shipped", "PUSH", PUSH_CONTENT)
    found = templates.get(ctx, admin, "shipped", "PUSH")
    assert {key: found[key] for key in ("Default", "APNS", "GCM", "DefaultSubstitutions", "TemplateType",
                                        "Version")} == {
        "Default": PUSH_CONTENT["Default"], "APNS": PUSH_CONTENT["APNS"], "GCM": PUSH_CONTENT["GCM"],
        "DefaultSubstitutions": PUSH_CONTENT["DefaultSubstitutions"], "TemplateType": "PUSH", "Version": "1"}
    templates.update(ctx, admin, "shipped", "PUSH", {"Default": {"Body": "v2"}}, create_new_version=True)
    assert templates.get(ctx, admin, "shipped", "PUSH", "2")["Default"] == {"Body": "v2"}
    listed = templates.list_page(ctx, admin, None, "PUSH", None, None)["Item"]
    assert [(item["TemplateName"], item["TemplateType"]) for item in listed] == [("shipped", "PUSH")]
    with ctx.db.read() as conn:  # what a push send renders
        assert templates.for_sending(conn, admin, "shipped", "PUSH")["document"]["APNS"]["Sound"] == "default"


@pytest.mark.parametrize(("request_", "field"), [
    ({}, "Default"),
    ({"TemplateDescription": "no content"}, "Default"),
    ({"APNS": {"Body": "x", "ImageUrl": "https://a.example/i.png"}}, "APNS"),  # an Android member
    ({"GCM": {"Body": "x", "Action": "OPEN"}}, "GCM.Action"),
    ({"Default": {"Body": "{{#if x}}unclosed"}}, "Default.Body"),
    ({"Baidu": {"Title": 7}}, "Baidu.Title"),
    ({"ADM": "not an object"}, "ADM"),
])
def test_bad_push_templates_are_refused_with_the_field(ctx, admin, request_, field):
    with pytest.raises(InvalidInput) as caught:
        templates.create(ctx, admin, "bad", "PUSH", request_)
    assert caught.value.field == field
    with ctx.db.read() as conn:
        assert template_store.count(conn, admin.account_id, admin.region) == 0
    with pytest.raises(LimitExceeded):
        templates.create(ctx, admin, "huge", "PUSH", {"APNS": {"Title": "t", "Body": "x" * 4_000}})
    templates.create(ctx, admin, "large", "PUSH", {"ADM": {"Title": "t", "Body": "x" * 5_000}})
