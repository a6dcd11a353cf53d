"""Stored campaigns and activities in Pinpoint's response shapes (CampaignResponse, ActivityResponse)."""

from __future__ import annotations

from datetime import UTC, datetime

from pinfold.core import ids
from pinfold.core.arns import campaign_arn

_SHOWN = ("Name", "Description", "Schedule", "Limits", "HoldoutPercent", "MessageConfiguration",
          "TemplateConfiguration", "TreatmentName", "TreatmentDescription", "CustomDeliveryConfiguration", "Hook",
          "Priority")


def campaign(project: dict, row: dict, version: dict, tags: dict[str, str], *, state: str,
             segment_version: int) -> dict:
    """One version of a campaign; `state` is the campaign's (every treatment shows it: a run's
    treatments start and finish together)."""
    definition = version["definition"]
    shown = {
        "ApplicationId": project["id"], "Id": row["id"],
        "Arn": campaign_arn(project["region"], project["account_id"], project["id"], row["id"]),
        "CreationDate": row["created_at"], "LastModifiedDate": version["created_at"], "Version": version["version"],
        "SegmentId": definition["SegmentId"], "SegmentVersion": definition.get("SegmentVersion", segment_version),
        "State": {"CampaignStatus": state}, "IsPaused": bool(definition.get("IsPaused")),
        **{key: definition[key] for key in _SHOWN if key in definition},
        "tags": tags,
    }
    treatments = definition.get("AdditionalTreatments") or []
    if treatments:
        shown["DefaultState"] = {"CampaignStatus": state}
        shown["AdditionalTreatments"] = [{**treatment, "Id": str(number), "State": {"CampaignStatus": state}}
                                         for number, treatment in enumerate(treatments, start=1)]
    return shown


def activity(row: dict) -> dict:
    counts = row["counts"] or {}
    shown = {
        "Id": row["id"], "CampaignId": row["campaign_id"], "ApplicationId": row["project_id"],
        "TreatmentId": row["treatment_id"], "State": row["state"], "ScheduledStart": _iso(row["scheduled_at"]),
        "SuccessfulEndpointCount": int(counts.get("SuccessfulEndpointCount") or 0),
        "TotalEndpointCount": int(counts.get("TotalEndpointCount") or 0),
        "TimezonesCompletedCount": int(counts.get("TimezonesCompletedCount") or 0),
        "TimezonesTotalCount": int(counts.get("TimezonesTotalCount") or 0),
        "ExecutionMetrics": {str(k): str(v) for k, v in (counts.get("ExecutionMetrics") or {}).items()},
    }
    if row["result"]:
        shown["Result"] = row["result"]
    if row["started_at"] is not None:
        shown["Start"] = _iso(row["started_at"])
    if row["ended_at"] is not None:
        shown["End"] = _iso(row["ended_at"])
    return shown


def _iso(epoch: float) -> str:
    return ids.iso(datetime.fromtimestamp(epoch, UTC))
