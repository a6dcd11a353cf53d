"""Pinpoint's SendMessages and SendUsersMessages (the email channel; other channels follow later).

Each recipient gets its own result, as Pinpoint reports them: SUCCESSFUL (queued for delivery, with
its MessageId), OPT_OUT, THROTTLED or PERMANENT_FAILURE with a reason. The request as a whole fails
only when it cannot be understood (no content, an unknown template or project).

Content comes from the request's EmailMessage or the project's email template, rendered per
recipient: an endpoint's own document (Attributes, User.UserAttributes, ...) with the request's and
the address's Substitutions over it, and the template's DefaultSubstitutions for what is missing.
Sending uses the project's email channel: its FromAddress (unless the message gives one) and its
configuration set. Opens and clicks are tracked, and mail to endpoints carries a one-click
unsubscribe that opts the endpoint out.
"""

from __future__ import annotations

import base64

from pinfold.audience import events as event_service
from pinfold.audience.store import endpoints as endpoint_store
from pinfold.context import Context
from pinfold.core.access import Caller, account_resource_owner
from pinfold.core.errors import InvalidInput, NotFound, PinfoldError, Throttled
from pinfold.core.numbers import whole_number
from pinfold.email import accept as sending
from pinfold.messaging.store import channels as channel_store
from pinfold.messaging.store import templates as template_store
from pinfold.projects import projects as project_service

MAX_RECIPIENTS = 100  # SendMessages: addresses and endpoints together; SendUsersMessages: user ids
_QUEUED = {"DeliveryStatus": "SUCCESSFUL", "StatusCode": 200, "StatusMessage": "Queued for delivery"}


def _failure(message: str, status: str = "PERMANENT_FAILURE", code: int = 400) -> dict:
    return {"DeliveryStatus": status, "StatusCode": code, "StatusMessage": message}


def send_messages(ctx: Context, caller: Caller, project_id: str, request: dict) -> dict:
    addresses = request.get("Addresses") or {}
    endpoint_ids = list(request.get("Endpoints") or {})
    if len(addresses) + len(endpoint_ids) > MAX_RECIPIENTS:
        raise InvalidInput(f"A message can go to at most {MAX_RECIPIENTS} recipients (Addresses and Endpoints "
                           "together)", field="MessageRequest")
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        plan = _Plan(ctx, conn, caller, project, request)
        for address, config in addresses.items():
            plan.add_address(address, config)
        plan.add_endpoints(endpoint_ids, request.get("Endpoints") or {})
        plan.commit()
    response = {"ApplicationId": project_id, "RequestId": caller.request_id}
    if addresses:
        response["Result"] = {address: plan.results[("address", address)] for address in addresses}
    if endpoint_ids:
        response["EndpointResult"] = {eid: plan.results[("endpoint", eid)] for eid in endpoint_ids}
    return {"MessageResponse": response}


def send_users_messages(ctx: Context, caller: Caller, project_id: str, request: dict) -> dict:
    users = request.get("Users") or {}
    if len(users) > MAX_RECIPIENTS:
        raise InvalidInput(f"A message can go to at most {MAX_RECIPIENTS} users", field="Users")
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        plan = _Plan(ctx, conn, caller, project, request)
        confined = caller.endpoint_tenant
        per_user: dict[str, list[str]] = {}
        for user_id, config in users.items():
            docs = endpoint_store.by_user(conn, project_id, user_id, confined[1] if confined else None)
            per_user[user_id] = [doc["Id"] for doc in docs]
            plan.add_endpoints(per_user[user_id], {doc["Id"]: config or {} for doc in docs},
                               docs={doc["Id"]: doc for doc in docs})
        plan.commit()
    result = {user_id: {eid: plan.results[("endpoint", eid)] for eid in ids} for user_id, ids in per_user.items()}
    return {"SendUsersMessageResponse": {"ApplicationId": project_id, "RequestId": caller.request_id,
                                         "Result": result}}


class _Plan:
    """The recipients of one request, checked one by one, then queued and counted together."""

    def __init__(self, ctx: Context, conn, caller: Caller, project: dict, request: dict) -> None:
        self.ctx, self.conn, self.caller, self.project = ctx, conn, caller, project
        self.results: dict[tuple[str, str], dict] = {}
        self.queued: list[tuple[tuple[str, str], dict]] = []
        self._addresses: set[str] = set()
        configuration = request.get("MessageConfiguration") or {}
        self.email = configuration.get("EmailMessage") or {}
        self.default = configuration.get("DefaultMessage") or {}
        self.substitutions = {**(self.default.get("Substitutions") or {}), **(self.email.get("Substitutions") or {})}
        template_config = (request.get("TemplateConfiguration") or {}).get("EmailTemplate")
        self.template = _template(conn, caller, project, template_config)
        self.content_given = bool(self.email.get("SimpleEmail") or self.email.get("RawEmail") or self.template)
        self.sender, self.refusal = self._sender()

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

    def add_address(self, address: str, config: dict) -> None:
        key = ("address", address)
        channel_type = (config or {}).get("ChannelType") or ("EMAIL" if "@" in address else None)
        if channel_type != "EMAIL":
            self.results[key] = _failure(f"The {channel_type or 'unknown'} channel is not supported yet")
            return
        data = {**self.substitutions, **((config or {}).get("Substitutions") or {})}
        self._check_and_queue(key, address, {"to": [address], "data": data}, config or {})

    def add_endpoints(self, endpoint_ids: list[str], configs: dict, docs: dict | None = None) -> None:
        if not endpoint_ids:
            return
        project_id = self.project["id"]
        if docs is None:
            confined = self.caller.endpoint_tenant
            rows = endpoint_store.get_many(self.conn, project_id, endpoint_ids)
            docs = {eid: row["document"] for eid, row in rows.items()
                    if confined is None or row["tenant_value"] == confined[1]}
        owner_of = event_service.owners(self.conn, self.caller, self.project, endpoint_ids)
        for endpoint_id in endpoint_ids:
            key, doc = ("endpoint", endpoint_id), docs.get(endpoint_id)
            if doc is None:
                self.results[key] = _failure("Endpoint not found", code=404)
                continue
            if doc.get("ChannelType") != "EMAIL" or not doc.get("Address"):
                self.results[key] = {**_failure("The endpoint is not an email endpoint"),
                                     "Address": doc.get("Address")}
                continue
            if doc.get("OptOut") == "ALL":
                self.results[key] = {**_failure("The endpoint has opted out", "OPT_OUT", 200),
                                     "Address": doc["Address"]}
                continue
            if doc.get("EndpointStatus") == "INACTIVE":
                self.results[key] = {**_failure("The endpoint is inactive"), "Address": doc["Address"]}
                continue
            config = configs.get(endpoint_id) or {}
            data = {**doc, **self.substitutions, **(config.get("Substitutions") or {})}
            recipient = {"to": [doc["Address"]], "data": data, "endpoint_id": endpoint_id,
                         "tenant_id": owner_of(endpoint_id, doc)}
            self._check_and_queue(key, doc["Address"], recipient, config)

    def _check_and_queue(self, key: tuple[str, str], address: str, recipient: dict, config: dict) -> None:
        if self.sender is None:
            self.results[key] = _failure(self.refusal)
            return
        if not self.content_given:
            raise InvalidInput("The request needs an EmailMessage with SimpleEmail or RawEmail, or an "
                               "EmailTemplate", field="MessageConfiguration")
        if address.lower() in self._addresses:  # one message per address and request, as Pinpoint does
            self.results[key] = {**_failure("The address is already a recipient of this request", "DUPLICATE"),
                                 **({"Address": address} if key[0] == "endpoint" else {})}
            return
        try:
            problem = sending.recipient_problem(self.conn, self.sender, self.caller, [address])
        except InvalidInput as error:
            problem = error.message
        if problem:
            self.results[key] = _failure(problem)
            return
        self.queued.append((key, recipient))
        self._addresses.add(address.lower())

    def commit(self) -> None:
        if not self.queued:
            return
        try:
            sending.take_quota(self.conn, self.sender, len(self.queued))
        except Throttled as error:
            for key, _ in self.queued:
                self.results[key] = _failure(error.message, "THROTTLED", 429)
            return
        except PinfoldError as error:  # the daily quota, paused sending
            for key, _ in self.queued:
                self.results[key] = _failure(error.message)
            return
        ids = sending.enqueue(self.conn, self.sender, self._definition(), [recipient for _, recipient in self.queued])
        for (key, recipient), message_id in zip(self.queued, ids, strict=True):
            result = {**_QUEUED, "MessageId": message_id}
            self.results[key] = result if key[0] == "address" else {**result, "Address": recipient["to"][0]}

    def _definition(self) -> dict:
        unsubscribe = any(key[0] == "endpoint" for key, _ in self.queued)
        raw = (self.email.get("RawEmail") or {}).get("Data")
        if raw is not None and not self.template:
            data = raw if isinstance(raw, bytes | bytearray) else base64.b64decode(raw)
            return sending.definition(self.sender, raw=base64.b64encode(data).decode())
        if self.template:
            return sending.definition(
                self.sender, subject=self.template["subject"] or "", html=self.template["html"],
                text=self.template["text"], defaults=self.template["default_substitutions"],
                template_name=self.template["name"], reply_to=self.email.get("ReplyToAddresses"),
                list_unsubscribe=unsubscribe, track_always=True)
        simple = self.email["SimpleEmail"]
        return sending.definition(
            self.sender, subject=(simple.get("Subject") or {}).get("Data") or "",
            html=(simple.get("HtmlPart") or {}).get("Data"), text=(simple.get("TextPart") or {}).get("Data"),
            reply_to=self.email.get("ReplyToAddresses"),
            headers=[[h["Name"], h["Value"]] for h in simple.get("Headers") or []],
            list_unsubscribe=unsubscribe, track_always=True)


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

