"""Pinpoint campaigns, their versions and their activities (runs), and the in-app messages an endpoint's
app pulls."""

from __future__ import annotations

from pinfold.campaigns import campaigns, inapp
from pinfold.core.numbers import whole_number


def _create_campaign(ctx, caller, p):
    return {"CampaignResponse": campaigns.create(ctx, caller, p["ApplicationId"], p["WriteCampaignRequest"])}


def _update_campaign(ctx, caller, p):
    request = p["WriteCampaignRequest"]
    return {"CampaignResponse": campaigns.update(ctx, caller, p["ApplicationId"], p["CampaignId"], request)}


def _get_campaign(ctx, caller, p):
    return {"CampaignResponse": campaigns.get(ctx, caller, p["ApplicationId"], p["CampaignId"])}


def _get_campaign_version(ctx, caller, p):
    version = whole_number(p["Version"], field="Version")  # a string in the model; versions count from 1
    return {"CampaignResponse": campaigns.get(ctx, caller, p["ApplicationId"], p["CampaignId"], version)}


def _get_campaigns(ctx, caller, p):
    return {"CampaignsResponse": campaigns.list_page(ctx, caller, p["ApplicationId"], p.get("PageSize"),
                                                     p.get("Token"))}


def _get_campaign_versions(ctx, caller, p):
    page = campaigns.versions_page(ctx, caller, p["ApplicationId"], p["CampaignId"], p.get("PageSize"),
                                   p.get("Token"))
    return {"CampaignsResponse": page}


def _get_campaign_activities(ctx, caller, p):
    page = campaigns.activities_page(ctx, caller, p["ApplicationId"], p["CampaignId"], p.get("PageSize"),
                                     p.get("Token"))
    return {"ActivitiesResponse": page}


def _delete_campaign(ctx, caller, p):
    return {"CampaignResponse": campaigns.delete(ctx, caller, p["ApplicationId"], p["CampaignId"])}


def _get_in_app_messages(ctx, caller, p):
    return {"InAppMessagesResponse": inapp.in_app_messages(ctx, caller, p["ApplicationId"], p["EndpointId"])}


# A campaign with a web URL waits up to 5 s for its HEAD check: off the event loop.
LONG_OPERATIONS = frozenset({"CreateCampaign", "UpdateCampaign"})

HANDLERS = {
    "CreateCampaign": _create_campaign,
    "UpdateCampaign": _update_campaign,
    "GetCampaign": _get_campaign,
    "GetCampaignVersion": _get_campaign_version,
    "GetCampaigns": _get_campaigns,
    "GetCampaignVersions": _get_campaign_versions,
    "GetCampaignActivities": _get_campaign_activities,
    "DeleteCampaign": _delete_campaign,
    "GetInAppMessages": _get_in_app_messages,
}
