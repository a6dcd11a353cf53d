"""A campaign treatment's message as the channels' planners take it (messaging's EmailPlanner,
SmsPlanner and one PushPlanner per push platform), and the run's view of the sending queues.

A campaign's EmailMessage is Pinpoint's CampaignEmailMessage (Title, HtmlBody, Body, FromAddress,
Headers): it becomes the SimpleEmail a message request carries. Its SMSMessage has the members of a
message request's already. Its push messages are Pinpoint's generic Message: APNSMessage,
GCMMessage, BaiduMessage and ADMMessage become the request's members of those names (the planner
reads the members they share), and the campaign's DefaultMessage, which is for every push platform,
becomes the request's DefaultPushNotificationMessage. Templates pass as they are.
"""

from __future__ import annotations

from pinfold.audience.rules.imports import CHANNEL_TYPES
from pinfold.campaigns.rules import write as rules
from pinfold.core.access import Caller
from pinfold.core.errors import LimitExceeded, Throttled
from pinfold.custom.store import calls as custom_calls
from pinfold.email.store import messages as email_messages
from pinfold.messaging.custom_planner import CustomPlanner
from pinfold.messaging.email_planner import EmailPlanner
from pinfold.messaging.push_planner import PushPlanner
from pinfold.messaging.sms_planner import SmsPlanner
from pinfold.push.store import messages as push_messages
from pinfold.sending import queue
from pinfold.sending.plan import Recipient
from pinfold.sms.store import messages as sms_messages

_SMS_MEMBERS = ("Body", "MessageType", "OriginationNumber", "SenderId", "EntityId", "TemplateId")


def queues(settings: dict) -> dict[str, str]:
    """Which queue carries each endpoint channel type a treatment reaches (its effective settings,
    rules/treatments.treatment): EMAIL, SMS, PUSH, or CUSTOM. The custom channel takes the types its
    CustomDeliveryConfiguration names (every type when it names none) that no other message of the
    treatment is for: an email endpoint goes by email when the treatment has an email message."""
    config, templates = settings.get("MessageConfiguration") or {}, settings.get("TemplateConfiguration") or {}
    found = {}
    if config.get("EmailMessage") or templates.get("EmailTemplate"):
        found["EMAIL"] = "EMAIL"
    if config.get("SMSMessage") or templates.get("SMSTemplate"):
        found["SMS"] = "SMS"
    found.update(dict.fromkeys(rules.push_platforms(config, templates), "PUSH"))
    if config.get("CustomMessage") and settings.get("CustomDeliveryConfiguration"):
        named = settings["CustomDeliveryConfiguration"].get("EndpointTypes") or CHANNEL_TYPES
        found.update({kind: "CUSTOM" for kind in named if kind not in found})
    return found


def channel_types(settings: dict) -> frozenset[str]:
    """The endpoint channel types a treatment has a message for."""
    return frozenset(queues(settings))


def delivery_type(settings: dict, channel_type: str) -> str:
    """What a `_campaign.send` record names as the delivery type: CUSTOM for an endpoint handed to the
    custom channel, the endpoint's own channel type otherwise."""
    return "CUSTOM" if queues(settings).get(channel_type) == "CUSTOM" else channel_type


def message_request(settings: dict) -> dict:
    """The MessageRequest-shaped configuration the planners read."""
    config = settings.get("MessageConfiguration") or {}
    message: dict = {}
    email = config.get("EmailMessage")
    if email:
        direct = {"FromAddress": email["FromAddress"]} if email.get("FromAddress") else {}
        if email.get("Title") or email.get("HtmlBody") or email.get("Body"):
            simple = {"Subject": {"Data": email.get("Title") or ""}}
            if email.get("HtmlBody"):
                simple["HtmlPart"] = {"Data": email["HtmlBody"]}
            if email.get("Body"):
                simple["TextPart"] = {"Data": email["Body"]}
            if email.get("Headers"):
                simple["Headers"] = email["Headers"]
            direct["SimpleEmail"] = simple
        message["EmailMessage"] = direct
    sms = config.get("SMSMessage")
    if sms:
        message["SMSMessage"] = {key: sms[key] for key in _SMS_MEMBERS if sms.get(key) is not None}
    for member in rules.PUSH_MESSAGES:
        if config.get(member):
            target = "DefaultPushNotificationMessage" if member == "DefaultMessage" else member
            message[target] = {key: value for key, value in config[member].items() if value is not None}
    templates = settings.get("TemplateConfiguration") or {}
    return {"MessageConfiguration": message,
            "TemplateConfiguration": {key: value for key, value in templates.items()
                                      if key in ("EmailTemplate", "SMSTemplate", "PushTemplate") and value}}


def planners(conn, caller: Caller, project: dict, settings: dict, attributes: dict, *,
             scheduled_at: float | None = None) -> dict[str, Guarded]:
    """The treatment's planners by ChannelType; raises (NotFound: a template is gone) when one cannot be made.
    `scheduled_at` is the activity's scheduled start, which the custom channel's payload carries."""
    request = message_request(settings)
    made: dict[str, Guarded] = {}
    custom = None
    for channel, carrier in sorted(queues(settings).items()):
        if carrier == "CUSTOM":
            if custom is None:
                config = settings["MessageConfiguration"]["CustomMessage"]
                custom = Guarded(CustomPlanner(conn, caller, project, settings["CustomDeliveryConfiguration"],
                                               config.get("Data"), attributes=attributes, scheduled_at=scheduled_at))
            made[channel] = custom
        elif carrier == "PUSH":
            made[channel] = Guarded(PushPlanner(conn, caller, project, request, channel, attributes=attributes))
        else:
            kind = EmailPlanner if channel == "EMAIL" else SmsPlanner
            made[channel] = Guarded(kind(conn, caller, project, request, attributes=attributes))
    return made


class Guarded:
    """A planner that remembers why its queue refused: the account's send rate (the slice is then rolled
    back and tried again) or its spent daily quota (the slice's endpoints are THROTTLED)."""

    def __init__(self, planner) -> None:
        self.planner = planner
        self.substitutions = planner.substitutions
        self.rate_limited = self.quota_spent = False

    def refusal(self) -> str | None:
        return self.planner.refusal()

    def check(self, recipient: Recipient):
        return self.planner.check(recipient)

    def queue(self, recipients: list[Recipient]) -> list[str]:
        try:
            return self.planner.queue(recipients)
        except Throttled:
            self.rate_limited = True
            raise
        except LimitExceeded:
            self.quota_spent = True
            raise


def backlog(conn, settings: dict, now: float, *, up_to: int) -> int:
    """Campaign messages due by `now` in the busiest of the sending queues a treatment uses, counted up
    to `up_to`. Only the campaign lane counts (transactional sends have their own worker), and only what
    is due: a local-time run's messages held for hours do not stop other slices."""
    stores = {"EMAIL": email_messages, "SMS": sms_messages, "PUSH": push_messages, "CUSTOM": custom_calls}
    return max([0] + [stores[carrier].due_now(conn, queue.CAMPAIGN, now, up_to=up_to)
                      for carrier in set(queues(settings).values())])
