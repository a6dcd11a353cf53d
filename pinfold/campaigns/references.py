"""What a campaign definition names must exist and be the caller's, and the campaign quotas: the
checks `rules/write.py` cannot make without the database. Each runs inside the write transaction
that stores the version, so what it checked is what gets stored."""

from __future__ import annotations

from pinfold.audience import segments as segment_service
from pinfold.campaigns.rules import write as rules
from pinfold.campaigns.store import campaigns as store
from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput, LimitExceeded, NotFound
from pinfold.db.database import lock_keys
from pinfold.messaging import templates as template_service
from pinfold.messaging.store import channels as channel_store
from pinfold.push.credentials import PLATFORMS as PUSH_PLATFORMS

MAX_ACTIVE_CAMPAIGNS = 200  # per account and region: SCHEDULED, EXECUTING and PENDING_NEXT_RUN
MAX_EVENT_CAMPAIGNS = 25  # per project, for each of EVENT and IN_APP_EVENT
_CHANNEL_NAMES = {"EMAIL": ("email", "UpdateEmailChannel"), "SMS": ("SMS", "UpdateSmsChannel")}


def check_references(conn, caller: Caller, project: dict, definition: dict) -> dict:
    """Raise InvalidInput naming the field unless the segment (and version), the templates and the
    channels the definition uses are there for this caller; returns the segment row."""
    segment = _segment(conn, caller, project["id"], definition)
    if definition["Schedule"]["Frequency"] == "EVENT" and segment["segment_type"] == "IMPORT":
        raise InvalidInput("Event-triggered campaigns need a dynamic segment; an imported segment cannot be used",
                           field="SegmentId")
    for field, template_type, name, version in rules.templates_of(definition):
        try:
            template_service.for_sending(conn, caller, name, template_type, version)
        except NotFound:
            shown = f"version {version} of " if version else ""
            raise InvalidInput(f"{field}: {shown}{template_type} template {name!r} does not exist",
                               field=field) from None
    used = rules.channels_of(definition)
    for channel in sorted(used & set(_CHANNEL_NAMES)):
        if not _enabled(conn, project["id"], channel):
            word, operation = _CHANNEL_NAMES[channel]
            raise InvalidInput(f"The {word} channel is not enabled for this project; enable it ({operation}) before "
                               f"creating a campaign that sends {word}", field="MessageConfiguration")
    push = sorted(used & set(PUSH_PLATFORMS))
    if push and not any(_enabled(conn, project["id"], platform) for platform in push):
        raise InvalidInput(f"No push channel this campaign sends to ({', '.join(push)}) is enabled for this project; "
                           "set one up (UpdateApnsChannel, UpdateGcmChannel, ...) before creating a push campaign",
                           field="MessageConfiguration")
    return segment


def _enabled(conn, project_id: str, channel: str) -> bool:
    settings = channel_store.get(conn, project_id, channel)
    return settings is not None and settings.get("Enabled", True)


def _segment(conn, caller: Caller, project_id: str, definition: dict) -> dict:
    segment_id = definition["SegmentId"]
    try:
        _project, segment = segment_service.require(conn, caller, project_id, segment_id)
    except NotFound:
        raise InvalidInput(f"SegmentId: segment {segment_id[:64]!r} does not exist", field="SegmentId") from None
    version = definition.get("SegmentVersion")
    if version is not None and version > segment["version"]:
        raise InvalidInput(f"SegmentVersion: segment {segment_id} has no version {version} (its latest is "
                           f"{segment['version']})", field="SegmentVersion")
    return segment


def check_quotas(conn, project: dict, *, becomes_active: bool, new_event_campaign: str | None) -> None:
    """The account's active-campaign quota and the project's quota of event campaigns of the frequency
    `new_event_campaign` (EVENT or IN_APP_EVENT: the campaign becomes one). Creations in one account take
    turns (PostgreSQL advisory lock), so two cannot both take the last place."""
    lock_keys(conn, "campaign-quotas", [f"{project['account_id']}/{project['region']}"])
    if becomes_active and store.count_active(conn, project["account_id"], project["region"]) >= MAX_ACTIVE_CAMPAIGNS:
        raise LimitExceeded(f"Active campaign limit exceeded: account {project['account_id']} already has "
                            f"{MAX_ACTIVE_CAMPAIGNS} scheduled, executing or pending campaigns in {project['region']}")
    if new_event_campaign and store.count_event_campaigns(conn, project["id"],
                                                          new_event_campaign) >= MAX_EVENT_CAMPAIGNS:
        kind = "in-app" if new_event_campaign == "IN_APP_EVENT" else "event-triggered"
        raise LimitExceeded(f"{kind.capitalize()} campaign limit exceeded: a project has at most "
                            f"{MAX_EVENT_CAMPAIGNS} {kind} campaigns", field="Schedule.Frequency")
