"""Email's half of planning a Pinpoint message request (sending/plan.py): the sender from the
project's email channel, the content from the request's EmailMessage or an email template, and the
checks and queue of SES sending (email/accept.py).

Content is rendered per recipient: an endpoint's own document (Attributes, User.UserAttributes, ...)
with the request's and the address's Substitutions over it, and the template's DefaultSubstitutions
for what is missing. Sending uses the project's email channel: its FromAddress (unless the message
gives one) and its configuration set. Opens and clicks are tracked, and mail to endpoints carries a
one-click unsubscribe that opts the endpoint out.

`attributes` (a campaign's campaign_id, campaign_activity_id, treatment_id) ride in every event record
of the request's messages; a recipient's `due_at` holds its message back until then.
"""

from __future__ import annotations

import base64

from pinfold.core.access import Caller, account_resource_owner
from pinfold.core.errors import InvalidInput, NotFound, PinfoldError
from pinfold.core.numbers import whole_number
from pinfold.email import accept as sending
from pinfold.messaging.store import channels as channel_store
from pinfold.messaging.store import templates as template_store
from pinfold.sending.plan import Recipient


class EmailPlanner:
    """The email channel for one request (a `Planner`)."""

    def __init__(self, conn, caller: Caller, project: dict, request: dict, *,
                 attributes: dict | None = None) -> None:
        self.conn, self.caller, self.project = conn, caller, project
        self.attributes = dict(attributes or {})
        configuration = request.get("MessageConfiguration") or {}
        self.email = configuration.get("EmailMessage") or {}
        default = configuration.get("DefaultMessage") or {}
        self.substitutions = {**(default.get("Substitutions") or {}), **(self.email.get("Substitutions") or {})}
        template_config = (request.get("TemplateConfiguration") or {}).get("EmailTemplate")
        self.template = _template(conn, caller, project, template_config)
        self.content_given = bool(self.email.get("SimpleEmail") or self.email.get("RawEmail") or self.template)
        self.sender, self._refusal = self._sender()

    def _sender(self) -> tuple[sending.Sender | None, str | None]:
        channel = channel_store.get(self.conn, self.project["id"], "EMAIL")
        if channel is None or not channel.get("Enabled", True):
            return None, "The email channel is not enabled for this project"
        from_header = self.email.get("FromAddress") or channel.get("FromAddress")
        if not from_header:
            return None, "No FromAddress: set one on the email channel or in the message"
        try:
            sender = sending.resolve_sender(self.conn, self.caller, account_id=self.project["account_id"],
                                            region=self.project["region"], project_id=self.project["id"],
                                            from_header=from_header,
                                            configuration_set=channel.get("ConfigurationSet"), tenant_name=None)
        except PinfoldError as error:
            return None, error.message
        return sender, None

    def refusal(self) -> str | None:
        if self.sender is None:
            return self._refusal
        if not self.content_given:
            raise InvalidInput("The request needs an EmailMessage with SimpleEmail or RawEmail, or an "
                               "EmailTemplate", field="MessageConfiguration")
        return None

    def check(self, recipient: Recipient) -> str | None:
        try:
            return sending.recipient_problem(self.conn, self.sender, self.caller, [recipient.address])
        except InvalidInput as error:
            return error.message

    def queue(self, recipients: list[Recipient]) -> list[str]:
        sending.take_quota(self.conn, self.sender, len(recipients))
        unsubscribe = any(recipient.endpoint_id is not None for recipient in recipients)
        return sending.enqueue(self.conn, self.sender, self._definition(unsubscribe),
                               [_envelope(recipient) for recipient in recipients],
                               due=[recipient.due_at for recipient in recipients])

    def _definition(self, unsubscribe: bool) -> dict:
        raw = (self.email.get("RawEmail") or {}).get("Data")
        if raw is not None and not self.template:
            data = raw if isinstance(raw, bytes | bytearray) else base64.b64decode(raw)
            return sending.definition(self.sender, raw=base64.b64encode(data).decode(), attributes=self.attributes)
        if self.template:
            return sending.definition(
                self.sender, subject=self.template["subject"] or "", html=self.template["html"],
                text=self.template["text"], defaults=self.template["default_substitutions"],
                template_name=self.template["name"], reply_to=self.email.get("ReplyToAddresses"),
                list_unsubscribe=unsubscribe, track_always=True, attributes=self.attributes)
        simple = self.email["SimpleEmail"]
        return sending.definition(
            self.sender, subject=(simple.get("Subject") or {}).get("Data") or "",
            html=(simple.get("HtmlPart") or {}).get("Data"), text=(simple.get("TextPart") or {}).get("Data"),
            reply_to=self.email.get("ReplyToAddresses"),
            headers=[[h["Name"], h["Value"]] for h in simple.get("Headers") or []],
            list_unsubscribe=unsubscribe, track_always=True, attributes=self.attributes)


def _envelope(recipient: Recipient) -> dict:
    envelope = {"to": [recipient.address], "data": recipient.data}
    if recipient.endpoint_id is not None:
        envelope.update(endpoint_id=recipient.endpoint_id, tenant_id=recipient.tenant_id)
    return envelope


def _template(conn, caller: Caller, project: dict, config: dict | None) -> dict | None:
    if not config or not config.get("Name"):
        return None
    version = config.get("Version")
    number = whole_number(version, field="TemplateConfiguration.EmailTemplate.Version") if version else None
    found = template_store.get(conn, project["account_id"], project["region"], config["Name"], "EMAIL", number)
    owner = account_resource_owner(caller)
    if found is None or (owner is not None and found["tenant_id"] not in (None, owner)):
        raise NotFound(f"Template not found: {config['Name']}")
    return found
