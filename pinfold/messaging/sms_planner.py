"""SMS's half of planning a Pinpoint message request (sending/plan.py): the body from the request's
SMSMessage, an SMS template or the DefaultMessage, the origination, and the account's checks, shared
with SendTextMessage (sms/send.py, sms/checks.py): one account's numbers, opt-out lists, sandbox and
monthly spend serve both APIs.

The body is rendered when the request is planned, per recipient: an endpoint's own document
(Attributes, User.UserAttributes, ...) with the request's and the address's Substitutions over it,
and the template's DefaultSubstitutions for what is missing. Which body wins, first to last (Pinfold's
reading; Pinpoint documents the members, not their order): the address's or endpoint's BodyOverride,
SMSMessage.Body, the SMS template's Body, DefaultMessage.Body.

The origination, first to last: SMSMessage.OriginationNumber (a number, pool, sender id or their ARN,
as SendTextMessage's OriginationIdentity; one that cannot carry the text fails the recipient, with no
fallback, as Pinpoint documents), SMSMessage.SenderId, then the project's SMS channel (its ShortCode,
then its SenderId), then one chosen from the account's identities as SendTextMessage chooses. A
sender id that is not one of the account's sender ids is shown as given where the destination's
country takes unregistered sender ids, and passed over where it takes none (the United States,
Canada), as Pinpoint did.

Per recipient, as Pinpoint v1 answers rather than raising as End User Messaging does: a number on the
identity's opt-out list gets OPT_OUT (StatusCode 400, "Destination phone number opted out"); a number
that is not one, no usable origination, the sandbox, a body too long, or the month's spend limit gets
PERMANENT_FAILURE. A project whose SMS channel is missing or disabled sends no texts (Pinpoint asks for
the channel to be enabled and documents no answer; Pinfold fails each SMS recipient).

`attributes` (a campaign's campaign_id, campaign_activity_id, treatment_id) ride in every `_SMS.*`
record of the request's texts; a recipient's `due_at` holds its text back until then, and its
TimeToLive runs from then.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput, PinfoldError
from pinfold.messaging import templates
from pinfold.messaging.store import channels as channel_store
from pinfold.sending.plan import Recipient, failure
from pinfold.sms import checks, send
from pinfold.sms.rules import encoding, prices, routing
from pinfold.templating.engine import compile_template

OPTED_OUT = failure("Destination phone number opted out", "OPT_OUT", 400)
_MESSAGE_TYPES = ("TRANSACTIONAL", "PROMOTIONAL")


@dataclass(frozen=True)
class _Ready:
    """A recipient's text as checked, waiting for the plan to commit."""

    route: send.Route
    destination: routing.Destination
    body: str
    message_type: str
    context: dict


class SmsPlanner:
    """The SMS channel for one request (a `Planner`)."""

    def __init__(self, conn, caller: Caller, project: dict, request: dict, *,
                 attributes: dict | None = None) -> None:
        self.conn, self.caller, self.project = conn, caller, project
        self.attributes = dict(attributes or {})
        configuration = request.get("MessageConfiguration") or {}
        self.sms = configuration.get("SMSMessage") or {}
        default = configuration.get("DefaultMessage") or {}
        self.substitutions = {**(default.get("Substitutions") or {}), **(self.sms.get("Substitutions") or {})}
        self.template = _template(conn, caller, (request.get("TemplateConfiguration") or {}).get("SMSTemplate"))
        self.body = self.sms.get("Body") or (self.template or {}).get("document", {}).get("Body") or default.get(
            "Body")
        self.context = {**(request.get("Context") or {})}
        self.channel = channel_store.get(conn, project["id"], "SMS")
        self.now = time.time()
        self.settings = checks.account_settings(conn, caller.account_id, caller.region)
        self._budget: float | None = None  # USD left this month, read at the first text
        self._ready: dict[int, _Ready] = {}
        self._routes: dict[tuple, send.Route] = {}  # a route found depends on the country, not the number
        # The request's own SMS addresses, whose opt-outs are read in one query per list when first needed.
        self._addresses = frozenset(address.strip() for address, config in (request.get("Addresses") or {}).items()
                                    if (config or {}).get("ChannelType") == "SMS")
        self._opted_out: dict[str, set[str]] = {}  # by opt-out list: which of those addresses opted out

    def refusal(self) -> str | None:
        if self.channel is None or not self.channel.get("Enabled", True):
            return "The SMS channel is not enabled for this project"
        message_type = self.sms.get("MessageType")
        if message_type is not None and message_type not in _MESSAGE_TYPES:
            raise InvalidInput("SMSMessage.MessageType must be TRANSACTIONAL or PROMOTIONAL",
                               field="MessageConfiguration.SMSMessage.MessageType")
        return None

    def check(self, recipient: Recipient) -> str | dict | None:
        source = recipient.config.get("BodyOverride") or self.body
        if not source:
            raise InvalidInput("The request needs a Body for SMS: in SMSMessage, DefaultMessage, an SMSTemplate or "
                               "each address's BodyOverride", field="MessageConfiguration")
        try:
            destination = send.destination_of(recipient.address)
            body = self._render(source, recipient)
        except InvalidInput as error:
            return error.message
        encoded = encoding.encode(body)
        if not body.strip():
            return "The message body is empty once rendered"
        if encoded.too_long:
            return (f"The message takes {encoded.units} {encoded.encoding} characters; at most "
                    f"{encoding.MAX_UNITS[encoded.encoding]} can be sent")
        where = (destination.country, destination.simulator)
        route = self._routes.get(where) or self._route(destination)
        if isinstance(route, str):
            return route
        self._routes[where] = route
        if self._is_opted_out(route.opt_out_list, destination.number):
            return OPTED_OUT
        problem = checks.sandbox_problem(self.conn, self.caller.account_id, self.caller.region, self.settings,
                                         destination)
        if problem:
            return problem
        price = prices.price_of(destination.country, len(encoded.parts))
        if self._budget is None:
            self._budget = checks.spend_left(self.conn, self.caller.account_id, self.caller.region, now=self.now)
        if price > self._budget + 1e-9:
            return "The account's monthly text message spend limit is reached"
        self._budget -= price
        self._ready[id(recipient)] = _Ready(route, destination, body,
                                            self.sms.get("MessageType") or checks.message_type_of(route.identity),
                                            {**self.context, **(recipient.config.get("Context") or {})})
        return None

    def queue(self, recipients: list[Recipient]) -> list[str]:
        rows = []
        for recipient in recipients:
            ready = self._ready.pop(id(recipient))
            due = max(self.now, recipient.due_at or self.now)
            extra = {"message_type": ready.message_type, "expires_at": due + send.DEFAULT_TIME_TO_LIVE,
                     "context": ready.context, "keyword": self.sms.get("Keyword"),
                     "request_id": self.caller.request_id, "endpoint_id": recipient.endpoint_id}
            extra.update({key: self.sms[member] for member, key in (("EntityId", "entity_id"),
                                                                     ("TemplateId", "template_id"))
                          if self.sms.get(member)})
            if self.attributes:
                extra["attributes"] = self.attributes
            row = send.text_row(self.caller.account_id, self.caller.region, ready.route, ready.destination,
                                ready.body, now=self.now, extra=extra, project_id=self.project["id"],
                                tenant_id=recipient.tenant_id or self.caller.tenant_id)
            rows.append({**row, "due_at": due})
        send.queue_rows(self.conn, self.caller.account_id, self.caller.region, rows, now=self.now)
        return [row["id"] for row in rows]

    def _is_opted_out(self, list_name: str, number: str) -> bool:
        known = self._opted_out.get(list_name)
        if known is None:
            known = self._opted_out[list_name] = checks.opted_out_among(
                self.conn, self.caller.account_id, self.caller.region, list_name, sorted(self._addresses))
        if number in self._addresses:
            return number in known
        return checks.opted_out(self.conn, self.caller.account_id, self.caller.region, list_name, number)

    def _render(self, source: str, recipient: Recipient) -> str:
        defaults = (self.template or {}).get("default_substitutions") or {}
        return compile_template(source).render(recipient.data, defaults, escape=False)

    def _route(self, destination: routing.Destination) -> send.Route | str:
        """The route the text leaves by, or why there is none."""
        message_type = self.sms.get("MessageType")
        given = self.sms.get("OriginationNumber")
        if given:
            return self._named(given, destination, message_type)
        channel = self.channel or {}
        for choose, value in ((self._sender_id, self.sms.get("SenderId")), (self._named, channel.get("ShortCode")),
                              (self._sender_id, channel.get("SenderId"))):
            route = choose(value, destination, message_type) if value else None
            if isinstance(route, send.Route):
                return route
        try:
            return send.choose_route(self.conn, self.caller, None, destination, message_type=message_type)
        except PinfoldError as error:
            return error.message

    def _named(self, given: str, destination: routing.Destination, message_type: str | None) -> send.Route | str:
        try:
            return send.choose_route(self.conn, self.caller, given, destination, message_type=message_type)
        except PinfoldError as error:
            return error.message

    def _sender_id(self, sender_id: str, destination: routing.Destination,
                   message_type: str | None) -> send.Route | None:
        """The account's sender id of that name for the destination's country, else the name shown as
        given where the country takes unregistered sender ids; None where it takes none."""
        route = self._named(sender_id, destination, message_type)
        if isinstance(route, send.Route):
            return route
        shown = routing.Identity(routing.DEFAULT_SENDER_ID, sender_id, sender_id,
                                 {"IsoCountryCode": destination.country})
        if routing.problem(shown, destination) is not None:
            return None
        return send.Route(shown, send.DEFAULT_OPT_OUT_LIST)


def _template(conn, caller: Caller, config: dict | None) -> dict | None:
    if not config or not config.get("Name"):
        return None
    return templates.for_sending(conn, caller, config["Name"], "SMS", config.get("Version"))
