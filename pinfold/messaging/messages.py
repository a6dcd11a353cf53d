"""Pinpoint's SendMessages and SendUsersMessages on the email, SMS and push channels.

Each recipient gets its own result, as Pinpoint reports them: SUCCESSFUL (queued for delivery, with
its MessageId), OPT_OUT, THROTTLED or PERMANENT_FAILURE with a reason. The request as a whole fails
only when it cannot be understood (no content, an unknown template or project).

The recipients are planned by the plan step every channel shares (sending/plan.py), the step
campaigns will call too; email's half, its sender, content and checks, is messaging/email_planner.py,
SMS's is messaging/sms_planner.py and push's messaging/push_planner.py.

An address names its channel with ChannelType. Without one, an address with "@" is taken for email;
any other address (a phone number too) fails with a PERMANENT_FAILURE asking for its ChannelType, since
Pinpoint needs the channel of every address that is not an email address (Pinfold's reading).
"""

from __future__ import annotations

from pinfold.audience import events as event_service
from pinfold.audience.store import endpoints as endpoint_store
from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput
from pinfold.messaging import push_planner
from pinfold.messaging.email_planner import EmailPlanner
from pinfold.messaging.push_planner import PushPlanner
from pinfold.messaging.sms_planner import SmsPlanner
from pinfold.projects import projects as project_service
from pinfold.sending.plan import Plan, Recipient, failure

MAX_RECIPIENTS = 100  # SendMessages: addresses and endpoints together; SendUsersMessages: user ids


def send_messages(ctx: Context, caller: Caller, project_id: str, request: dict) -> dict:
    addresses = request.get("Addresses") or {}
    endpoint_ids = list(request.get("Endpoints") or {})
    if len(addresses) + len(endpoint_ids) > MAX_RECIPIENTS:
        raise InvalidInput(f"A message can go to at most {MAX_RECIPIENTS} recipients (Addresses and Endpoints "
                           "together)", field="MessageRequest")
    with ctx.db.write() as conn:
        project = project_service.require(conn, caller, project_id)
        plan = _Request(conn, caller, project, request)
        for address, config in addresses.items():
            plan.add_address(address, config or {})
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
        plan = _Request(conn, caller, project, request)
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


class _Request(Plan):
    """One request's plan (sending/plan.py) with Pinpoint's recipients: addresses, and endpoints read
    within the caller's reach."""

    def __init__(self, conn, caller: Caller, project: dict, request: dict) -> None:
        super().__init__({"EMAIL": EmailPlanner(conn, caller, project, request),
                          "SMS": SmsPlanner(conn, caller, project, request),
                          **{platform: PushPlanner(conn, caller, project, request, platform)
                             for platform in push_planner.PLATFORMS}})
        self.conn, self.caller, self.project = conn, caller, project

    def _substitutions(self, channel_type: str | None) -> dict:
        planner = self.planners.get(channel_type)
        return planner.substitutions if planner is not None else {}

    def add_address(self, address: str, config: dict) -> None:
        key, channel_type = ("address", address), config.get("ChannelType") or ("EMAIL" if "@" in address else None)
        if channel_type is None:
            self.results[key] = failure("The address needs a ChannelType (SMS, EMAIL, ...): only an email address "
                                        "is recognised without one")
            return
        data = {**self._substitutions(channel_type), **(config.get("Substitutions") or {})}
        recipient = Recipient(address.strip() if channel_type == "SMS" else address, data, config=config)
        super().add_address(key, channel_type, recipient)

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
                self.results[key] = failure("Endpoint not found", code=404)
                continue
            config = configs.get(endpoint_id) or {}
            data = {**doc, **self._substitutions(doc.get("ChannelType")), **(config.get("Substitutions") or {})}
            recipient = Recipient(doc.get("Address") or "", data, endpoint_id, owner_of(endpoint_id, doc), config)
            self.add_endpoint(key, doc, recipient)
