"""Pinpoint message templates: email templates, their versions, and listing templates of any type."""

from __future__ import annotations

from pinfold.messaging import templates as template_service


def _accepted(caller, message: str = "Accepted") -> dict:
    return {"MessageBody": {"Message": message, "RequestID": caller.request_id}}


def _create_email_template(ctx, caller, p):
    arn = template_service.create(ctx, caller, p["TemplateName"], "EMAIL", p["EmailTemplateRequest"])
    return {"CreateTemplateMessageBody": {"Arn": arn, "Message": "Created", "RequestID": caller.request_id}}


def _update_email_template(ctx, caller, p):
    template_service.update(ctx, caller, p["TemplateName"], "EMAIL", p["EmailTemplateRequest"],
                            create_new_version=p.get("CreateNewVersion"), version=p.get("Version"))
    return _accepted(caller)


def _get_email_template(ctx, caller, p):
    return {"EmailTemplateResponse": template_service.get(ctx, caller, p["TemplateName"], "EMAIL", p.get("Version"))}


def _delete_email_template(ctx, caller, p):
    template_service.delete(ctx, caller, p["TemplateName"], "EMAIL", p.get("Version"))
    return _accepted(caller)


def _list_templates(ctx, caller, p):
    return {"TemplatesResponse": template_service.list_page(
        ctx, caller, p.get("Prefix"), p.get("TemplateType"), p.get("PageSize"), p.get("NextToken"))}


def _list_template_versions(ctx, caller, p):
    return {"TemplateVersionsResponse": template_service.versions_page(
        ctx, caller, p["TemplateName"], p["TemplateType"], p.get("PageSize"), p.get("NextToken"))}


def _update_template_active_version(ctx, caller, p):
    version = p["TemplateActiveVersionRequest"].get("Version")
    template_service.set_active_version(ctx, caller, p["TemplateName"], p["TemplateType"], version)
    return _accepted(caller)


HANDLERS = {
    "CreateEmailTemplate": _create_email_template,
    "UpdateEmailTemplate": _update_email_template,
    "GetEmailTemplate": _get_email_template,
    "DeleteEmailTemplate": _delete_email_template,
    "ListTemplates": _list_templates,
    "ListTemplateVersions": _list_template_versions,
    "UpdateTemplateActiveVersion": _update_template_active_version,
}
