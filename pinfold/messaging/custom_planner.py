"""The custom channel's half of planning a campaign's slice (sending/plan.py): the endpoints whose
types the campaign's CustomDeliveryConfiguration names, handed to its DeliveryUri in calls of at most
50 endpoints, the payload Pinpoint gives a custom channel's function or webhook:

    {"Message": {}, "Data": <CustomMessage.Data>, "ApplicationId", "CampaignId", "TreatmentId",
     "ActivityId", "ScheduledTime", "Endpoints": {<endpoint id>: <endpoint>, ...}}

Calls are signed when they leave (custom/channel.py). In an sa-sp project a tenant's campaign is
signed with that tenant's key, since the tenants of a shared project run their own receivers;
elsewhere with the project's key.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pinfold.core import ids
from pinfold.core.access import Caller
from pinfold.custom import send as custom_send
from pinfold.sending.plan import Recipient

MAX_ENDPOINTS = 50  # endpoints per call, as Pinpoint hands them
RETRY_SECONDS = 4 * 3600  # how long a call whose receiver does not answer is tried again


class CustomPlanner:
    """One campaign treatment's custom channel (a `Planner`); one instance serves every endpoint type
    the treatment hands to it."""

    substitutions: dict = {}

    def __init__(self, conn, caller: Caller, project: dict, delivery: dict, data: str | None, *, attributes: dict,
                 scheduled_at: float | None = None) -> None:
        self.conn, self.caller, self.project, self.attributes = conn, caller, project, attributes
        self.url, self.data = delivery["DeliveryUri"], data or ""
        self.now = time.time()
        self.scheduled = ids.iso(datetime.fromtimestamp(scheduled_at or self.now, UTC))
        tenant = caller.tenant
        self.signer = tenant.tenant_id if tenant is not None and tenant.model == "sa-sp" else None

    def refusal(self) -> str | None:
        return None  # the custom channel is on in every project, as in Pinpoint

    def check(self, recipient: Recipient) -> str | None:
        return None

    def queue(self, recipients: list[Recipient]) -> list[str]:
        """One call per 50 endpoints due at the same time; each endpoint's message id is its call's."""
        by_due: dict[float, list[Recipient]] = {}
        for recipient in recipients:
            by_due.setdefault(max(self.now, recipient.due_at or self.now), []).append(recipient)
        calls, members = [], []
        for due, group in by_due.items():
            for first in range(0, len(group), MAX_ENDPOINTS):
                chunk = group[first:first + MAX_ENDPOINTS]
                calls.append(self._call(chunk, due))
                members.append(chunk)
        call_ids = custom_send.queue_calls(self.conn, self.caller.account_id, self.caller.region, self.project["id"],
                                           calls, now=self.now) if calls else []
        made = {id(recipient): call_id for chunk, call_id in zip(members, call_ids, strict=True) for recipient in chunk}
        return [made[id(recipient)] for recipient in recipients]

    def _call(self, chunk: list[Recipient], due: float) -> dict:
        attributes = self.attributes
        payload = {"Message": {}, "Data": self.data, "ApplicationId": self.project["id"],
                   "CampaignId": attributes.get("campaign_id"), "TreatmentId": attributes.get("treatment_id"),
                   "ActivityId": attributes.get("campaign_activity_id"), "ScheduledTime": self.scheduled,
                   "Endpoints": {recipient.endpoint_id: _shown(recipient.data) for recipient in chunk}}
        tenants = {recipient.tenant_id for recipient in chunk}
        return {"url": self.url, "payload": payload, "endpoint_ids": [r.endpoint_id for r in chunk],
                "signer": self.signer, "expires_at": due + RETRY_SECONDS, "due_at": due,
                "tenant_id": self.caller.tenant_id or (tenants.pop() if len(tenants) == 1 else None),
                "activity_id": attributes.get("campaign_activity_id")}


def _shown(endpoint: dict) -> dict:
    """An endpoint as the receiver gets it: as stored, without the ids the payload gives already."""
    return {key: value for key, value in endpoint.items() if key not in ("Id", "ApplicationId")}
