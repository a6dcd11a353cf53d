"""Push's half of planning a Pinpoint message request (sending/plan.py), one planner per push channel
type (APNS, APNS_SANDBOX, APNS_VOIP, APNS_VOIP_SANDBOX, GCM, BAIDU, ADM): the fields of the push,
rendered per recipient and built into what the provider takes (push/rules/payload.py).

Which fields win, member by member, first to last (Pinfold's reading; Pinpoint documents the
members, not their order): the address's or endpoint's TitleOverride, BodyOverride and RawContent,
then the platform's own message (APNSMessage for the four APNs kinds, GCMMessage, BaiduMessage,
ADMMessage), DefaultPushNotificationMessage, the push template's platform part then its Default,
and DefaultMessage's Body. Every text member is rendered with the recipient's data (an endpoint's
own document, the Substitutions) and the template's DefaultSubstitutions.

A project whose channel of the recipient's type is missing or disabled sends it nothing (PERMANENT_
FAILURE), as for SMS; so does a request with no push content (it may be meant for the user's other
endpoints) and a push its provider could not take (a payload too large, a RawContent that is not a
JSON object). A direct push names `_DIRECT` as its campaign, as the device SDKs expect.
TimeToLive bounds how long Pinfold keeps trying a provider that does not answer (4 hours without one).
"""

from __future__ import annotations

import time

from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput
from pinfold.messaging import templates
from pinfold.messaging.store import channels as channel_store
from pinfold.push import credentials
from pinfold.push import send as push_send
from pinfold.push.rules import payload
from pinfold.sending.plan import Recipient
from pinfold.templating.engine import compile_template

PLATFORMS = credentials.PLATFORMS
RETRY_SECONDS = 4 * 3600  # how long an unanswered push is retried when it has no TimeToLive
_OWN = {**dict.fromkeys(credentials.APNS_KINDS, "APNSMessage"), "GCM": "GCMMessage", "BAIDU": "BaiduMessage",
        "ADM": "ADMMessage"}
_TEMPLATE_PART = {**dict.fromkeys(credentials.APNS_KINDS, "APNS"), "GCM": "GCM", "BAIDU": "Baidu", "ADM": "ADM"}
_TEXT = ("Title", "Body", "Url", "ImageUrl", "ImageIconUrl", "SmallImageIconUrl", "ImageSmallIconUrl", "MediaUrl",
         "Sound", "RawContent")
_DIRECT = {"campaign_id": "_DIRECT"}


class PushPlanner:
    """One push channel type for one request (a `Planner`)."""

    def __init__(self, conn, caller: Caller, project: dict, request: dict, platform: str, *,
                 attributes: dict | None = None) -> None:
        self.conn, self.caller, self.project, self.platform = conn, caller, project, platform
        self.attributes = dict(attributes or {})
        configuration = request.get("MessageConfiguration") or {}
        self.own = configuration.get(_OWN[platform]) or {}
        self.default_push = configuration.get("DefaultPushNotificationMessage") or {}
        default = configuration.get("DefaultMessage") or {}
        self.substitutions = {**(default.get("Substitutions") or {}),
                              **(self.default_push.get("Substitutions") or {}), **(self.own.get("Substitutions") or {})}
        self._template_config = (request.get("TemplateConfiguration") or {}).get("PushTemplate")
        self._default_body = default.get("Body")
        self._fields: dict | None = None  # the request's fields, resolved at the first recipient
        self._template_defaults: dict = {}
        self.now = time.time()
        self._ready: dict[int, dict] = {}

    def refusal(self) -> str | None:
        channel = channel_store.get(self.conn, self.project["id"], self.platform)
        if channel is None or not channel.get("Enabled", True):
            return f"The {self.platform} channel is not enabled for this project"
        return None

    def check(self, recipient: Recipient) -> str | None:
        fields = {**self._request_fields()}
        config = recipient.config
        for member, given in (("Title", config.get("TitleOverride")), ("Body", config.get("BodyOverride")),
                              ("RawContent", config.get("RawContent"))):
            if given:
                fields[member] = given
        if not any(fields.get(member) for member in ("Title", "Body", "RawContent")) \
                and not payload.silent(fields):  # a recipient's failure: the request may well be for other channels
            return (f"The request has no content for {self.platform}: give a Body, a Title or RawContent in a push "
                    "message, DefaultMessage or a PushTemplate")
        try:
            rendered = {**fields, **{member: self._render(fields[member], recipient)
                                     for member in _TEXT if isinstance(fields.get(member), str)}}
            ids = {key: str(value) for key, value in self.attributes.items()} or dict(_DIRECT)
            if self.platform in credentials.APNS_KINDS:
                built = payload.apns(rendered, ids, voip=self.platform in ("APNS_VOIP", "APNS_VOIP_SANDBOX"))
            else:  # FCM's data message; Baidu and ADM carry the same keys (their simulator route keeps them)
                built = payload.fcm(rendered, ids)
        except (payload.Unsendable, InvalidInput) as error:
            return str(error) if isinstance(error, payload.Unsendable) else error.message
        preferred = fields.get("PreferredAuthenticationMethod")
        if preferred is not None and str(preferred).upper() not in credentials.METHODS.get(self.platform, (preferred,)):
            return (f"PreferredAuthenticationMethod must be one of "
                    f"{', '.join(credentials.METHODS[self.platform])} for {self.platform}")
        ttl = fields.get("TimeToLive")
        due = max(self.now, recipient.due_at or self.now)
        self._ready[id(recipient)] = {
            "platform": self.platform, "token": recipient.address, "payload": built.payload,
            "headers": built.headers, "endpoint_id": recipient.endpoint_id,
            "tenant_id": recipient.tenant_id or self.caller.tenant_id, "due_at": due,
            "expires_at": due + (max(int(ttl), 60) if ttl is not None else RETRY_SECONDS),
            "request_id": self.caller.request_id, "attributes": self.attributes or None,
            "activity_id": self.attributes.get("campaign_activity_id"),
            "auth": str(preferred).upper() if preferred is not None and self.platform in credentials.METHODS
            else None}
        return None

    def queue(self, recipients: list[Recipient]) -> list[str]:
        pushes = [self._ready.pop(id(recipient)) for recipient in recipients]
        return push_send.queue_pushes(self.conn, self.caller.account_id, self.caller.region, self.project["id"],
                                      pushes, now=self.now)

    def _request_fields(self) -> dict:
        if self._fields is None:
            template = _template(self.conn, self.caller, self._template_config)
            document = (template or {}).get("document") or {}
            self._template_defaults = (template or {}).get("default_substitutions") or {}
            fields = {"Body": self._default_body} if self._default_body else {}
            for layer in (document.get("Default"), document.get(_TEMPLATE_PART[self.platform]), self.default_push,
                          self.own):
                fields.update({key: value for key, value in (layer or {}).items()
                               if value is not None and key != "Substitutions"})
            self._fields = fields
        return self._fields

    def _render(self, source: str, recipient: Recipient) -> str:
        return compile_template(source).render(recipient.data, self._template_defaults, escape=False)


def _template(conn, caller: Caller, config: dict | None) -> dict | None:
    if not config or not config.get("Name"):
        return None
    return templates.for_sending(conn, caller, config["Name"], "PUSH", config.get("Version"))
