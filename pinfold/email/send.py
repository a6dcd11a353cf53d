"""SES v2 SendEmail and SendBulkEmail: check, count against the quota, and queue for delivery.

A send is accepted (and its MessageId returned) once it is queued; delivery, bounces and the event
records follow from the sending workers. Sandbox, identity, configuration set, tenant and quota
failures answer as SES does, and nothing is queued or counted for a refused request.
"""

from __future__ import annotations

import base64
from email.parser import BytesHeaderParser

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput, MessageRejected, NotFound, PinfoldError
from pinfold.email import accept as sending
from pinfold.email import contact_lists, mime
from pinfold.email.store import templates as ses_templates
from pinfold.email.templates import template_data

MAX_BULK_ENTRIES = 50
# How a refused bulk entry is reported (BulkEmailStatus), by the error that refused it.
_BULK_STATUS = {MessageRejected: "MESSAGE_REJECTED", NotFound: "TEMPLATE_NOT_FOUND",
                InvalidInput: "INVALID_PARAMETER"}


def send_email(ctx: Context, caller: Caller, request: dict) -> dict:
    content = request.get("Content") or {}
    destination = request.get("Destination") or {}
    with ctx.db.write() as conn:
        raw = content.get("Raw")
        raw_bytes = _raw_bytes(raw["Data"]) if raw else None
        raw_headers = BytesHeaderParser().parsebytes(raw_bytes) if raw_bytes is not None else None
        from_header = request.get("FromEmailAddress") or (raw_headers or {}).get("From")
        if not from_header:
            raise InvalidInput("FromEmailAddress is required", field="FromEmailAddress")
        sender = _sender(conn, caller, request, from_header)
        to, cc, bcc = (list(destination.get(key) or []) for key in ("ToAddresses", "CcAddresses", "BccAddresses"))
        if raw_headers is not None and not (to or cc or bcc):
            to = [a for a in _header_addresses(raw_headers, "To")]
            cc = [a for a in _header_addresses(raw_headers, "Cc")]
            bcc = [a for a in _header_addresses(raw_headers, "Bcc")]
        everyone = list(dict.fromkeys([*to, *cc, *bcc]))
        if not everyone:
            raise InvalidInput("The message has no recipients", field="Destination")
        problem = sending.recipient_problem(conn, sender, caller, everyone)
        if problem:
            raise MessageRejected(problem)
        if raw_bytes is not None:
            definition = _raw_definition(sender, raw_bytes, raw_headers, request)
            data = {}
        elif content.get("Template"):
            definition, data = _template_definition(conn, sender, content["Template"], request)
        elif content.get("Simple"):
            definition, data = _simple_definition(sender, content["Simple"], request), {}
        else:
            raise InvalidInput("Content needs Simple, Raw or Template", field="Content")
        _manage_list(conn, caller, definition, request)
        sending.take_quota(conn, sender, len(everyone))
        [message_id] = sending.enqueue(conn, sender, definition, [{"to": to, "cc": cc, "bcc": bcc, "data": data}])
    return {"MessageId": message_id}


def send_bulk_email(ctx: Context, caller: Caller, request: dict) -> dict:
    entries = request.get("BulkEmailEntries") or []
    if not entries or len(entries) > MAX_BULK_ENTRIES:
        raise InvalidInput(f"BulkEmailEntries must hold 1 to {MAX_BULK_ENTRIES} entries", field="BulkEmailEntries")
    template = ((request.get("DefaultContent") or {}).get("Template")) or {}
    with ctx.db.write() as conn:
        from_header = request.get("FromEmailAddress")
        if not from_header:
            raise InvalidInput("FromEmailAddress is required", field="FromEmailAddress")
        sender = _sender(conn, caller, request, from_header)
        definition, default_data = _template_definition(conn, sender, template, request)
        _manage_list(conn, caller, definition, request)
        results: list[dict | None] = []
        accepted: list[tuple[int, dict]] = []
        for index, entry in enumerate(entries):
            try:
                accepted.append((index, _bulk_recipient(conn, sender, caller, entry, default_data)))
                results.append(None)
            except PinfoldError as error:
                results.append({"Status": _bulk_status(error), "Error": error.message})
        count = sum(len(recipient["to"]) + len(recipient["cc"]) + len(recipient["bcc"]) for _, recipient in accepted)
        sending.take_quota(conn, sender, count)
        message_ids = sending.enqueue(conn, sender, definition, [recipient for _, recipient in accepted])
    for (index, _), message_id in zip(accepted, message_ids, strict=True):
        results[index] = {"Status": "SUCCESS", "MessageId": message_id}
    return {"BulkEmailEntryResults": results}


def _sender(conn, caller: Caller, request: dict, from_header: str) -> sending.Sender:
    return sending.resolve_sender(conn, caller, account_id=caller.account_id, region=caller.region,
                                  project_id=caller.pinned_project() or "", from_header=from_header,
                                  configuration_set=request.get("ConfigurationSetName"),
                                  tenant_name=request.get("TenantName"))


def _manage_list(conn, caller: Caller, definition: dict, request: dict) -> None:
    """Name the send's contact list and topic in its definition: the worker skips opted-out contacts."""
    managed = contact_lists.list_management(conn, caller, request.get("ListManagementOptions"))
    if managed is not None:
        definition["list_management"] = managed


def _bulk_recipient(conn, sender: sending.Sender, caller: Caller, entry: dict, default_data: dict) -> dict:
    destination = entry.get("Destination") or {}
    to, cc, bcc = (list(destination.get(key) or []) for key in ("ToAddresses", "CcAddresses", "BccAddresses"))
    everyone = list(dict.fromkeys([*to, *cc, *bcc]))
    if not everyone:
        raise InvalidInput("The entry has no recipients")
    problem = sending.recipient_problem(conn, sender, caller, everyone)
    if problem:
        raise MessageRejected(problem)
    replacement = ((entry.get("ReplacementEmailContent") or {}).get("ReplacementTemplate") or {})
    data = default_data
    if replacement.get("ReplacementTemplateData"):
        data = {**default_data, **template_data(replacement["ReplacementTemplateData"])}
    return {"to": to, "cc": cc, "bcc": bcc, "data": data}


def _bulk_status(error: PinfoldError) -> str:
    for kind, status in _BULK_STATUS.items():
        if isinstance(error, kind):
            return status
    return "FAILED"


def _simple_definition(sender: sending.Sender, simple: dict, request: dict) -> dict:
    body = simple.get("Body") or {}
    return sending.definition(
        sender, subject=(simple.get("Subject") or {}).get("Data", ""), html=(body.get("Html") or {}).get("Data"),
        text=(body.get("Text") or {}).get("Data"), reply_to=request.get("ReplyToAddresses"),
        headers=[[h["Name"], h["Value"]] for h in simple.get("Headers") or []],
        attachments=mime.stored_attachments(simple.get("Attachments")), tags=_tags(request),
        list_unsubscribe=bool(request.get("ListManagementOptions")))


def _template_definition(conn, sender: sending.Sender, template: dict, request: dict) -> tuple[dict, dict]:
    inline = template.get("TemplateContent")
    if inline:
        parts, name = inline, None
    else:
        name = template.get("TemplateName") or (template.get("TemplateArn") or "").rpartition("/")[2]
        if not name:
            raise InvalidInput("Template needs TemplateName, TemplateArn or TemplateContent", field="Template")
        found = ses_templates.get(conn, sender.account_id, sender.region, name)
        if found is None:
            raise NotFound(f"Template {name} does not exist.")
        sending.check_template(conn, sender, found["arn"])
        parts = {"Subject": found["subject"], "Html": found["html"], "Text": found["text"]}
    definition = sending.definition(
        sender, subject=parts.get("Subject") or "", html=parts.get("Html"), text=parts.get("Text"),
        template_name=name, reply_to=request.get("ReplyToAddresses"),
        headers=[[h["Name"], h["Value"]] for h in template.get("Headers") or []],
        attachments=mime.stored_attachments(template.get("Attachments")), tags=_tags(request),
        list_unsubscribe=bool(request.get("ListManagementOptions")))
    return definition, template_data(template.get("TemplateData") or "{}")


def _raw_definition(sender: sending.Sender, data: bytes, headers, request: dict) -> dict:
    definition = sending.definition(sender, raw=base64.b64encode(data).decode(), tags=_tags(request))
    definition["subject"] = headers.get("Subject") or ""
    definition["summary_headers"] = [[name, str(value)] for name, value in headers.items()
                                     if name.lower() in ("from", "to", "subject", "mime-version", "content-type")]
    return definition


def _tags(request: dict) -> dict:
    tags = request.get("EmailTags") or request.get("DefaultEmailTags") or []
    return {tag["Name"]: tag["Value"] for tag in tags}


def _raw_bytes(data) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    try:
        return base64.b64decode(data, validate=True)
    except ValueError:
        raise InvalidInput("Raw Data must be base64-encoded", field="Content") from None


def _header_addresses(headers, name: str) -> list[str]:
    from email.utils import getaddresses

    return [address for _display, address in getaddresses(headers.get_all(name) or []) if address]

