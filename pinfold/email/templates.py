"""SES v2 email templates: Create, Get, List, Update, Delete and TestRenderEmailTemplate.

Callers that reach their whole account administer its templates; callers confined to one project
may only read (and test-render) the templates associated with their SES tenant.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

import orjson

from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller
from pinfold.core.errors import Conflict, InvalidInput, LimitExceeded
from pinfold.core.paging import after_key, limit_of, page_of
from pinfold.db.database import lock_keys
from pinfold.email.access import check_can_administer, visible_arns, visible_row
from pinfold.email.configuration_sets import check_name
from pinfold.email.store import templates as store
from pinfold.email.store import tenants as ses_tenants
from pinfold.email.tenants import tag_list, tags_of
from pinfold.projects import store as tag_store
from pinfold.templating.engine import render

MAX_TEMPLATES = 10_000  # per account and region
MAX_TEMPLATE_BYTES = 500 * 1024  # subject, text and HTML together
MAX_PAGE_SIZE = 100  # ListEmailTemplates' documented ceiling
DEFAULT_PAGE_SIZE = 10
WHAT = "email templates"


def _content(content: dict) -> dict:
    """The stored columns for a TemplateContent, after SES's size limit."""
    parts = {"subject": content.get("Subject"), "html": content.get("Html"), "text": content.get("Text")}
    if not any(parts.values()):
        raise InvalidInput("TemplateContent needs a Subject, Text or Html part", field="TemplateContent")
    size = sum(len(part.encode()) for part in parts.values() if part)
    if size > MAX_TEMPLATE_BYTES:
        raise InvalidInput(f"The template is {size} bytes; templates are limited to {MAX_TEMPLATE_BYTES} bytes "
                           "(500 KB)", field="TemplateContent")
    return parts


def _require(conn, caller: Caller, name: str) -> dict:
    return visible_row(conn, caller, store, name, f"Template {name} does not exist.")


def create(ctx: Context, caller: Caller, name: str, content: dict, tags: list[dict] | None = None) -> None:
    check_can_administer(caller, WHAT)
    check_name(name, "TemplateName", "template")
    parts, tag_values = _content(content), tags_of({"Tags": tags})
    now = ids.iso_now()
    with ctx.db.write() as conn:
        lock_keys(conn, "email-templates", [f"{caller.account_id}/{caller.region}"])
        if store.row(conn, caller.account_id, caller.region, name) is not None:
            raise Conflict(f"Template {name} already exists.")
        if store.count(conn, caller.account_id, caller.region) >= MAX_TEMPLATES:
            raise LimitExceeded(f"Maximum number of email templates ({MAX_TEMPLATES}) reached for this account "
                                "in this region")
        store.insert(conn, {"account_id": caller.account_id, "region": caller.region, "name": name,
                            "created_at": now, "updated_at": now, **parts})
        tag_store.put_tags(conn, store.arn(caller.account_id, caller.region, name), tag_values)


def get(ctx: Context, caller: Caller, name: str) -> dict:
    with ctx.db.read() as conn:
        row = _require(conn, caller, name)
        tags = tag_store.get_tags(conn, store.arn(caller.account_id, caller.region, name))
    content = {member: row[column] for member, column in (("Subject", "subject"), ("Html", "html"), ("Text", "text"))
               if row[column] is not None}
    return {"TemplateName": name, "TemplateContent": content, "Tags": tag_list(tags)}


def list_page(ctx: Context, caller: Caller, size: int | None, token: str | None) -> dict:
    limit = limit_of(size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    after = after_key(token, "email-templates")
    with ctx.db.read() as conn:
        visible = visible_arns(conn, caller)
        only = None
        if visible is not None:
            prefix = store.arn(caller.account_id, caller.region, "")
            only = {arn[len(prefix):] for arn in visible if arn.startswith(prefix)}
        rows = store.page(conn, caller.account_id, caller.region, after=after, limit=limit + 1, only=only)
    rows, token = page_of(rows, limit, "email-templates", lambda row: row["name"])
    result: dict = {"TemplatesMetadata": [{"TemplateName": row["name"], "CreatedTimestamp": row["created_at"]}
                                          for row in rows]}
    return {**result, "NextToken": token} if token else result


def update(ctx: Context, caller: Caller, name: str, content: dict) -> None:
    parts = _content(content)
    with ctx.db.write() as conn:
        _require(conn, caller, name)
        check_can_administer(caller, WHAT)
        store.update(conn, caller.account_id, caller.region, name, updated_at=ids.iso_now(), **parts)


def delete(ctx: Context, caller: Caller, name: str) -> None:
    with ctx.db.write() as conn:
        _require(conn, caller, name)
        check_can_administer(caller, WHAT)
        arn = store.arn(caller.account_id, caller.region, name)
        ses_tenants.refuse_if_associated(conn, caller.account_id, caller.region, arn, f"Template {name}")
        store.delete(conn, caller.account_id, caller.region, name)
        tag_store.delete_tags(conn, arn)


def template_data(raw: str) -> dict:
    """SES TemplateData: a JSON object, or InvalidInput."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("TemplateData must be a JSON object", field="TemplateData") from None
    if not isinstance(data, dict):
        raise InvalidInput("TemplateData must be a JSON object", field="TemplateData")
    return data


def preview(ctx: Context, caller: Caller, name: str, raw_data: str) -> str:
    """The MIME message a send of this template with this data would carry (a preview, not the bulk path)."""
    data = template_data(raw_data)
    with ctx.db.read() as conn:
        row = _require(conn, caller, name)
    message = EmailMessage(policy=SMTP)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="pinfold.invalid")
    # A header cannot hold line breaks; data that renders some into the subject gets spaces instead.
    message["Subject"] = re.sub(r"[\r\n]+", " ", render(row["subject"] or "", data, escape=False))
    parts = [(subtype, render(row[column], data, escape=subtype == "html"))
             for subtype, column in (("plain", "text"), ("html", "html")) if row[column] is not None]
    for index, (subtype, body) in enumerate(parts):
        add = message.set_content if index == 0 else message.add_alternative
        add(body, subtype=subtype, cte="quoted-printable")
    for part in message.iter_parts():
        del part["MIME-Version"]  # the email package repeats it in parts; it belongs in the top header only
    return message.as_string()
