"""Pinpoint message templates: email, SMS, push and in-app templates, their versions, and listing templates
of any type."""

from __future__ import annotations

from pinfold.messaging import templates as template_service


def _accepted(caller, message: str = "Accepted") -> dict:
    return {"MessageBody": {"Message": message, "RequestID": caller.request_id}}


def _template_handlers(template_type: str, operation: str, member: str,
                       created: str = "CreateTemplateMessageBody") -> dict:
    """Create<operation>Template, Update..., Get... and Delete...: `member` prefixes the request and
    response shapes (EmailTemplateRequest, SMSTemplateResponse); `created` is the creation's answer."""

    def create(ctx, caller, p):
        arn = template_service.create(ctx, caller, p["TemplateName"], template_type, p[f"{member}TemplateRequest"])
        return {created: {"Arn": arn, "Message": "Created", "RequestID": caller.request_id}}

    def update(ctx, caller, p):
        template_service.update(ctx, caller, p["TemplateName"], template_type, p[f"{member}TemplateRequest"],
                                create_new_version=p.get("CreateNewVersion"), version=p.get("Version"))
        return _accepted(caller)

    def get(ctx, caller, p):
        found = template_service.get(ctx, caller, p["TemplateName"], template_type, p.get("Version"))
        return {f"{member}TemplateResponse": found}

    def delete(ctx, caller, p):
        template_service.delete(ctx, caller, p["TemplateName"], template_type, p.get("Version"))
        return _accepted(caller)

    return {f"Create{operation}Template": create, f"Update{operation}Template": update,
            f"Get{operation}Template": get, f"Delete{operation}Template": delete}


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
    **_template_handlers("EMAIL", "Email", "Email"),
    **_template_handlers("SMS", "Sms", "SMS"),
    **_template_handlers("PUSH", "Push", "PushNotification"),
    **_template_handlers("INAPP", "InApp", "InApp", created="TemplateCreateMessageBody"),
    "ListTemplates": _list_templates,
    "ListTemplateVersions": _list_template_versions,
    "UpdateTemplateActiveVersion": _update_template_active_version,
}
