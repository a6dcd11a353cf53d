"""Message templates (account-level, shared by the account's projects) and their versions.

Versioning follows Pinpoint: creating makes version 1, the active one; an update overwrites the
latest version unless it asks for a new one; numbers are never reused; the active version changes
only when asked. Tenant credentials in a shared account (sa-sp, sa-mp) see the operator's templates
read-only plus their own, which carry the `tenant` tag; other tenants' templates look absent.
"""

from __future__ import annotations

import re

import orjson
import sqlalchemy as sa

from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import NOBODY, TENANT_TAG, Caller, account_resource_owner
from pinfold.core.arns import template_arn
from pinfold.core.errors import Forbidden, InvalidInput, LimitExceeded, NotFound
from pinfold.core.numbers import whole_number
from pinfold.core.paging import decode_token, encode_token, page_size
from pinfold.core.tags import check_tags
from pinfold.db.database import is_unique_violation, lock_keys
from pinfold.inapp.rules import content
from pinfold.messaging.store import templates as store
from pinfold.projects import store as tag_store
from pinfold.templating.engine import compile_template

TYPES = ("EMAIL", "SMS", "VOICE", "PUSH", "INAPP")
MAX_TEMPLATES = 20_000  # per account and region
MAX_VERSIONS = 5_000  # per template
MAX_EMAIL_CHARS = 600_000
MAX_HEADERS = 15
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_EMAIL_MEMBERS = ("Subject", "HtmlPart", "TextPart", "DefaultSubstitutions", "RecommenderId",
                  "TemplateDescription", "Headers")
_EMAIL_SOURCES = ("Subject", "HtmlPart", "TextPart")
MAX_SMS_CHARS = 1600  # as SMS-Voice v2's MessageBody; a longer rendered body is refused when sent
_SMS_MEMBERS = ("Body", "DefaultSubstitutions", "RecommenderId", "TemplateDescription")
MAX_PUSH_CHARS = {"Default": 4_000, "ADM": 6_000}  # per platform, as Pinpoint's quotas (APNs, GCM, Baidu: 4,000)
PUSH_ACTIONS = ("OPEN_APP", "DEEP_LINK", "URL")
_ANDROID = ("Action", "Body", "ImageIconUrl", "ImageUrl", "RawContent", "SmallImageIconUrl", "Sound", "Title", "Url")
_PUSH_PLATFORMS = {"ADM": _ANDROID, "APNS": ("Action", "Body", "MediaUrl", "RawContent", "Sound", "Title", "Url"),
                   "Baidu": _ANDROID, "Default": ("Action", "Body", "Sound", "Title", "Url"), "GCM": _ANDROID}
_PUSH_MEMBERS = ("DefaultSubstitutions", "RecommenderId", "TemplateDescription")


def check_type(raw: str | None) -> str:
    template_type = (raw or "").upper()
    if template_type not in TYPES:
        raise InvalidInput(f"TemplateType must be one of {', '.join(TYPES)}, not {raw!r}", field="TemplateType")
    return template_type


def _version_number(raw: str | None, field: str = "Version") -> int | None:
    if raw in (None, ""):
        return None
    return whole_number(raw, field=field)


def _require(conn, caller: Caller, name: str, template_type: str, *, write: bool = False) -> dict:
    """The template row if the caller may see it (and change it, with `write`)."""
    if write:  # read-modify-write: changes to one template take turns (PostgreSQL; SQLite has one writer)
        _lock(conn, caller, name, template_type)
    row = store.find(conn, caller.account_id, caller.region, name, template_type)
    owner = account_resource_owner(caller)
    if row is None or (owner is not None and row["tenant_id"] not in (None, owner)):
        raise NotFound(f"Resource not found: {template_type} template {name}")
    if write and owner is not None and row["tenant_id"] is None:
        raise Forbidden(f"Template {name} was made by the operator and is read-only for tenant credentials")
    return row


def _lock(conn, caller: Caller, name: str, template_type: str) -> None:
    lock_keys(conn, "templates", [f"{caller.account_id}/{caller.region}/{template_type}/{name}"])


def _check_source(field: str, source: str) -> None:
    try:
        compile_template(source)
    except InvalidInput as error:
        raise InvalidInput(f"{field}: {error.message}", field=field) from error


def _email_document(request: dict) -> dict:
    """The stored members of an EmailTemplateRequest, after checking their syntax and sizes."""
    document = {key: request[key] for key in _EMAIL_MEMBERS if request.get(key) is not None}
    if sum(len(document.get(key, "")) for key in _EMAIL_SOURCES) > MAX_EMAIL_CHARS:
        raise LimitExceeded(f"An email template's subject and parts are limited to {MAX_EMAIL_CHARS} characters")
    for field in _EMAIL_SOURCES:
        if field in document:
            _check_source(field, document[field])
    headers = document.get("Headers") or []
    if len(headers) > MAX_HEADERS:
        raise InvalidInput(f"An email template can have at most {MAX_HEADERS} headers", field="Headers")
    for header in headers:
        if not header.get("Name") or len(header["Name"]) > 126 or len(header.get("Value") or "") > 870:
            raise InvalidInput("Each header needs a Name of 1 to 126 characters and a Value of at most 870",
                               field="Headers")
        _check_source(f"Headers.{header['Name']}", header.get("Value") or "")
    _check_substitutions(document.get("DefaultSubstitutions"))
    return document


def _check_substitutions(raw: str | None) -> None:
    if raw is None:
        return
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise InvalidInput("DefaultSubstitutions must be a JSON object of variable names and default values",
                           field="DefaultSubstitutions")


def _sms_document(request: dict) -> dict:
    """The stored members of an SMSTemplateRequest, after checking the body's syntax and size."""
    document = {key: request[key] for key in _SMS_MEMBERS if request.get(key) is not None}
    if len(document.get("Body", "")) > MAX_SMS_CHARS:
        raise LimitExceeded(f"An SMS template's body is limited to {MAX_SMS_CHARS} characters")
    if "Body" in document:
        _check_source("Body", document["Body"])
    _check_substitutions(document.get("DefaultSubstitutions"))
    return document


def _push_document(request: dict) -> dict:
    """The stored members of a PushNotificationTemplateRequest: content per platform (ADM, APNS, Baidu,
    GCM) and the Default for the others, each member's template syntax checked."""
    document = {key: request[key] for key in _PUSH_MEMBERS if request.get(key) is not None}
    for platform, members in _PUSH_PLATFORMS.items():
        content = request.get(platform)
        if content is None:
            continue
        if not isinstance(content, dict) or set(content) - set(members):
            raise InvalidInput(f"{platform} may have only {', '.join(members)}", field=platform)
        if content.get("Action") is not None and content["Action"] not in PUSH_ACTIONS:
            raise InvalidInput(f"{platform}.Action must be one of {', '.join(PUSH_ACTIONS)}",
                               field=f"{platform}.Action")
        for member, value in content.items():
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"{platform}.{member} must be a string", field=f"{platform}.{member}")
            if value and member != "Action":
                _check_source(f"{platform}.{member}", value)
        document[platform] = {member: value for member, value in content.items() if value is not None}
    if not any(platform in document for platform in _PUSH_PLATFORMS):
        raise InvalidInput(f"A push template needs content for at least one of {', '.join(_PUSH_PLATFORMS)}",
                           field="Default")
    for platform in _PUSH_PLATFORMS:
        limit = MAX_PUSH_CHARS.get(platform, MAX_PUSH_CHARS["Default"])
        if sum(len(value) for value in document.get(platform, {}).values()) > limit:
            raise LimitExceeded(f"A push template's {platform} content is limited to {limit:,} characters")
    _check_substitutions(document.get("DefaultSubstitutions"))
    return document


def _inapp_document(request: dict) -> dict:
    """The stored members of an InAppTemplateRequest: the message (inapp/rules/content.py) and its
    description. In-app templates have no substitutions: their text is shown as written."""
    document = content.check_message(request, "InAppTemplateRequest")
    if request.get("TemplateDescription") is not None:
        document["TemplateDescription"] = request["TemplateDescription"]
    return document


_DOCUMENTS = {"EMAIL": _email_document, "SMS": _sms_document, "PUSH": _push_document, "INAPP": _inapp_document}


def _document(template_type: str, request: dict) -> dict:
    build = _DOCUMENTS.get(template_type)
    if build is None:
        raise InvalidInput(f"{template_type} templates are not supported yet", field="TemplateType")
    return build(request)


def _arn_of(caller: Caller, row: dict) -> str:
    return template_arn(caller.region, caller.account_id, row["name"], row["template_type"])


def create(ctx: Context, caller: Caller, name: str, template_type: str, request: dict) -> str:
    """Create a template with version 1 active; returns its ARN."""
    if not _NAME.match(name):
        raise InvalidInput("A template name starts with a letter or digit and has at most 128 letters, digits, "
                           "underscores and hyphens", field="TemplateName")
    document = _document(template_type, request)
    owner, tags = account_resource_owner(caller), dict(request.get("tags") or {})
    if owner == NOBODY:
        raise Forbidden("Templates belong to the account: credentials confined to one project cannot create them")
    if owner is not None:
        tags[TENANT_TAG] = owner  # the brief's tag, so reports can tell tenants apart
    check_tags(tags)
    now = ids.iso_now()
    row = {"id": ids.new_project_id(), "account_id": caller.account_id, "region": caller.region, "name": name,
           "template_type": template_type, "tenant_id": owner, "active_version": 1, "latest_version": 1,
           "last_assigned": 1, "created_at": now, "modified_at": now}
    exists = InvalidInput(f"Template already exists: {template_type} template {name}", field="TemplateName")
    try:
        with ctx.db.write() as conn:
            _lock(conn, caller, name, template_type)
            if store.find(conn, caller.account_id, caller.region, name, template_type) is not None:
                raise exists
            if store.count(conn, caller.account_id, caller.region) >= MAX_TEMPLATES:
                raise LimitExceeded(f"Template limit exceeded: an account has at most {MAX_TEMPLATES} templates "
                                    "per region")
            store.insert(conn, row, document)
            tag_store.put_tags(conn, _arn_of(caller, row), tags)
    except sa.exc.IntegrityError as error:  # a concurrent create of the same name won
        if not is_unique_violation(error):
            raise
        raise exists from None
    return _arn_of(caller, row)


def update(ctx: Context, caller: Caller, name: str, template_type: str, request: dict, *,
           create_new_version: bool | None = None, version: str | None = None) -> None:
    """Overwrite the latest version (`version`, if given, must name it) or add a new one.

    Tags in the request are ignored, as Pinpoint has done since 2023: TagResource changes them.
    """
    number = _version_number(version)
    if create_new_version and number is not None:
        raise InvalidInput("Give either create-new-version=true or a version to overwrite, not both", field="Version")
    document = _document(template_type, request)
    with ctx.db.write() as conn:
        row = _require(conn, caller, name, template_type, write=True)
        now = ids.iso_now()
        if create_new_version:
            if store.count_versions(conn, row["id"]) >= MAX_VERSIONS:
                raise LimitExceeded(f"Version limit exceeded: a template has at most {MAX_VERSIONS} versions")
            added = row["last_assigned"] + 1
            store.add_version(conn, row["id"], added, document, now)
            store.update(conn, row["id"], latest_version=added, last_assigned=added, modified_at=now)
            return
        if number is not None and number != row["latest_version"]:
            _version_row(conn, row, number)
            raise InvalidInput(f"Version {number} is not the latest version of template {name} "
                               f"({row['latest_version']}); only the latest version can be overwritten",
                               field="Version")
        store.overwrite_version(conn, row["id"], row["latest_version"], document, now)
        store.update(conn, row["id"], modified_at=now)


def _version_row(conn, row: dict, number: int) -> dict:
    found = store.get_version(conn, row["id"], number)
    if found is None:
        raise NotFound(f"Resource not found: version {number} of {row['template_type']} template {row['name']}")
    return found


def get(ctx: Context, caller: Caller, name: str, template_type: str, version: str | None = None) -> dict:
    """The template's response (EmailTemplateResponse, SMSTemplateResponse, PushNotificationTemplateResponse,
    InAppTemplateResponse) for a version, by default the active one."""
    number = _version_number(version)
    with ctx.db.read() as conn:
        row = _require(conn, caller, name, template_type)
        found = _version_row(conn, row, number if number is not None else row["active_version"])
        arn = _arn_of(caller, row)
        return {**found["document"], "Arn": arn, "TemplateName": name, "TemplateType": template_type,
                "Version": str(found["version"]), "CreationDate": row["created_at"],
                "LastModifiedDate": found["modified_at"], "tags": tag_store.get_tags(conn, arn)}


def delete(ctx: Context, caller: Caller, name: str, template_type: str, version: str | None = None) -> None:
    """Delete one version, or with no version the whole template."""
    number = _version_number(version)
    with ctx.db.write() as conn:
        row = _require(conn, caller, name, template_type, write=True)
        if number is not None:
            _version_row(conn, row, number)
        if number is None or store.count_versions(conn, row["id"]) == 1:  # the last version takes the template
            store.delete(conn, row["id"])
            tag_store.delete_tags(conn, _arn_of(caller, row))
            return
        if number == row["active_version"]:
            raise InvalidInput(f"Version {number} is the active version of template {name}; make another version "
                               "active (UpdateTemplateActiveVersion) before deleting it", field="Version")
        latest = store.delete_version(conn, row["id"], number)
        store.update(conn, row["id"], latest_version=latest, modified_at=ids.iso_now())


def set_active_version(ctx: Context, caller: Caller, name: str, raw_type: str, raw: str | None) -> None:
    """UpdateTemplateActiveVersion: `raw` is "latest" or an existing version number."""
    template_type = check_type(raw_type)
    if not raw:
        raise InvalidInput("Version is required: \"latest\" or an existing version number", field="Version")
    with ctx.db.write() as conn:
        row = _require(conn, caller, name, template_type, write=True)
        number = row["latest_version"] if raw == "latest" else _version_number(raw)
        _version_row(conn, row, number)
        store.update(conn, row["id"], active_version=number, modified_at=ids.iso_now())


def _listed(caller: Caller, row: dict, tags: dict[str, str]) -> dict:
    """TemplateResponse: a template as ListTemplates shows it (its active version)."""
    document = row["document"]
    return {"Arn": _arn_of(caller, row), "TemplateName": row["name"], "TemplateType": row["template_type"],
            "Version": str(row["active_version"]), "CreationDate": row["created_at"],
            "LastModifiedDate": row["modified_at"], "tags": tags,
            **{key: document[key] for key in ("DefaultSubstitutions", "TemplateDescription") if key in document}}


def list_page(ctx: Context, caller: Caller, prefix: str | None, raw_type: str | None, raw_size: str | None,
              token: str | None) -> dict:
    """TemplatesResponse: one page of the templates the caller may see, by name."""
    size = page_size(raw_size)
    template_type = check_type(raw_type) if raw_type else None
    with ctx.db.read() as conn:
        rows = store.list_page(conn, caller.account_id, caller.region, visible_to=account_resource_owner(caller),
                               prefix=prefix, template_type=template_type, after=decode_token(token), limit=size + 1)
        shown = rows[:size]
        arns = [_arn_of(caller, row) for row in shown]
        tags = tag_store.get_tags_of(conn, arns)
    page = {"Item": [_listed(caller, row, tags[arn]) for row, arn in zip(shown, arns, strict=True)]}
    if len(rows) > size:
        page["NextToken"] = encode_token((shown[-1]["name"], shown[-1]["template_type"]))
    return page


def versions_page(ctx: Context, caller: Caller, name: str, raw_type: str, raw_size: str | None,
                  token: str | None) -> dict:
    """TemplateVersionsResponse: one page of a template's versions, oldest first."""
    size, template_type = page_size(raw_size), check_type(raw_type)
    position = decode_token(token)
    after = _version_number(position[1], "NextToken") if position else 0
    with ctx.db.read() as conn:
        row = _require(conn, caller, name, template_type)
        rows = store.versions_page(conn, row["id"], after=after, limit=size + 1)
    items = [{"TemplateName": name, "TemplateType": template_type, "Version": str(found["version"]),
              "CreationDate": found["created_at"], "LastModifiedDate": found["modified_at"],
              **{key: found["document"][key] for key in ("DefaultSubstitutions", "TemplateDescription")
                 if key in found["document"]}}
             for found in rows[:size]]
    page = {"Item": items, "RequestID": caller.request_id}
    if len(rows) > size:
        page["NextToken"] = encode_token((name, str(rows[size - 1]["version"])))
    return page


def require_for_tags(conn, caller: Caller, name: str, template_type: str) -> bool:
    """For TagResource and friends: NotFound if the caller cannot see the template; whether it may retag it."""
    row = _require(conn, caller, name, template_type)
    owner = account_resource_owner(caller)
    return owner is None or row["tenant_id"] == owner


def for_sending(conn, caller: Caller, name: str, template_type: str, version: str | int | None = None) -> dict:
    """A template version the caller may use in a message, ready to render (see store.templates.get)."""
    row = _require(conn, caller, name, template_type)
    number = _version_number(str(version)) if version is not None else None
    found = store.get(conn, caller.account_id, caller.region, name, template_type, number)
    if found is None:
        raise NotFound(f"Resource not found: version {number} of {template_type} template {row['name']}")
    return found


def remove_tenant_templates(conn, account_id: str, tenant_id: str) -> int:
    """Delete an offboarded tenant's templates (and their tags) from a shared account."""
    removed = store.delete_for_tenant(conn, account_id, tenant_id)
    for row in removed:
        tag_store.delete_tags(conn, template_arn(row["region"], account_id, row["name"], row["template_type"]))
    return len(removed)
