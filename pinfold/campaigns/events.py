"""The `_campaign.send` record: one per endpoint a campaign activity targets, saying what became of it.

Pinpoint's attributes (treatment_id, campaign_activity_id, campaign_id, delivery_type,
campaign_send_status), the endpoint id as client.client_id and the endpoint itself as compact JSON
text in client_context.custom.endpoint, as Pinpoint writes it; the `pinfold` member carries the
tenant as every record does.
"""

from __future__ import annotations

import orjson

from pinfold.core import ids
from pinfold.events.records import Origin, envelope

EVENT_TYPE = "_campaign.send"


def send_row(origin: Origin, *, activity: dict, delivery_type: str, status: str, endpoint: dict,
             at_ms: int) -> dict:
    """The outbox row of one endpoint's `_campaign.send` record."""
    event_id = ids.new_event_id()
    endpoint_doc = {key: value for key, value in endpoint.items() if key != "ApplicationId"}
    record = envelope(
        origin, event_id=event_id, event_type=EVENT_TYPE, event_timestamp=at_ms, arrival_timestamp=at_ms,
        client_id=endpoint["Id"],
        attributes={"treatment_id": activity["treatment_id"], "campaign_activity_id": activity["id"],
                    "campaign_id": activity["campaign_id"], "delivery_type": delivery_type,
                    "campaign_send_status": status},
        client_context={"custom": {"endpoint": orjson.dumps(endpoint_doc, option=orjson.OPT_SORT_KEYS).decode()}})
    return {"event_id": event_id, "account_id": origin.account_id, "region": origin.region,
            "project_id": origin.project_id, "tenant_id": origin.tenant_id, "event_type": EVENT_TYPE,
            "arrival_ms": at_ms, "record": record}
