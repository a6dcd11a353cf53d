"""GetInAppMessages: the in-app campaigns an endpoint's app may show, as the mobile SDKs read them.

Nothing is sent: the app pulls this list and decides on the device when to show a message (its
trigger event, the caps, the lowest Priority first). So the server's part is targeting. An endpoint
gets a campaign's message when the campaign (Frequency IN_APP_EVENT) is live (not paused, between its
StartTime and EndTime), the endpoint is in its segment (within the campaign's tenant, in sa-sp), and
the endpoint's cohort is a treatment and not the holdout; the message is that treatment's
InAppMessage, or its InAppTemplate's content. Only IN_APP endpoints that are active and not opted out
get messages (Pinfold's reading: the same endpoints a campaign would reach); any other endpoint the
caller can see gets an empty list.

The caps are the campaign's Limits (Session, Daily, Total; 0 means none, as the SDKs read it) and the
schedule what the device checks: EndDate, EventFilter and QuietTime.
"""

from __future__ import annotations

import time

from pinfold.audience import endpoints
from pinfold.audience import segments as segment_service
from pinfold.campaigns import runs
from pinfold.campaigns.rules import schedule, states, treatments
from pinfold.campaigns.store import campaigns as store
from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import NotFound
from pinfold.inapp.rules import content
from pinfold.messaging import templates
from pinfold.projects import projects as project_service


def in_app_messages(ctx: Context, caller: Caller, project_id: str, endpoint_id: str) -> dict:
    now = time.time()
    found = []
    with ctx.db.read() as conn:
        project = project_service.require(conn, caller, project_id)
        endpoint = endpoints.require(conn, caller, project_id, endpoint_id)
        if _reachable(endpoint):
            for campaign in store.of_frequency(conn, project_id, "IN_APP_EVENT"):
                shown = _campaign_message(conn, project, campaign, endpoint_id, now)
                if shown is not None:
                    found.append(shown)
    found.sort(key=lambda item: (item.get("Priority") is None, item.get("Priority") or 0, item["CampaignId"]))
    return {"InAppMessageCampaigns": found}


def _reachable(endpoint: dict) -> bool:
    return (endpoint.get("ChannelType") == "IN_APP" and endpoint.get("OptOut") != "ALL"
            and endpoint.get("EndpointStatus") != "INACTIVE")


def _campaign_message(conn, project: dict, campaign: dict, endpoint_id: str, now: float) -> dict | None:
    """The InAppMessageCampaign this campaign shows the endpoint, or None."""
    if campaign["state"] not in states.ACTIVE:
        return None
    definition = store.get_version(conn, campaign["id"], campaign["version"])["definition"]
    plan = definition.get("Schedule") or {}
    created = schedule.parse_time(campaign["created_at"]).timestamp()
    end = schedule.end_instant(plan)
    if definition.get("IsPaused") or now < schedule.start_instant(plan, created) or (end is not None and now >= end):
        return None
    reader = runs.run_caller(conn, campaign, project, campaign["id"])
    treatment_id = treatments.cohort(definition, treatments.bucket(campaign["id"], endpoint_id))
    if reader is None or treatment_id is None:
        return None
    try:
        _, segment = segment_service.require(conn, reader, project["id"], campaign["segment_id"])
        confined = reader.endpoint_tenant
        if not segment_service.members_among(conn, project["id"], campaign["segment_id"],
                                             definition.get("SegmentVersion") or segment["version"],
                                             confined[1] if confined else None, [endpoint_id]):
            return None
        message = _message(conn, reader, treatments.treatment(definition, treatment_id))
    except NotFound:  # the segment or the template went away: the campaign shows nothing
        return None
    limits = definition.get("Limits") or {}
    shown_schedule = {"EventFilter": plan.get("EventFilter")}
    if plan.get("EndTime"):
        shown_schedule["EndDate"] = plan["EndTime"]
    if plan.get("QuietTime"):
        shown_schedule["QuietTime"] = plan["QuietTime"]
    found = {"CampaignId": campaign["id"], "TreatmentId": treatment_id, "InAppMessage": message,
             "Schedule": shown_schedule, "SessionCap": int(limits.get("Session") or 0),
             "DailyCap": int(limits.get("Daily") or 0), "TotalCap": int(limits.get("Total") or 0)}
    if definition.get("Priority") is not None:
        found["Priority"] = int(definition["Priority"])
    return found


def _message(conn, reader: Caller, settings: dict) -> dict:
    """A treatment's in-app message: its own InAppMessage, or its InAppTemplate's content."""
    chosen = (settings.get("TemplateConfiguration") or {}).get("InAppTemplate")
    if chosen:
        return content.shown(templates.for_sending(conn, reader, chosen["Name"], "INAPP",
                                                   chosen.get("Version"))["document"])
    return content.shown((settings.get("MessageConfiguration") or {}).get("InAppMessage") or {})
