"""What a WriteCampaignRequest must look like before it is stored (pure: no I/O).

`check_definition` takes the members a request gives over the previous version's (or over nothing,
at creation) and returns the definition to store, with AWS member names. What a definition names
(segments, templates, channels) and the quotas are checked against the database in
`campaigns/references.py`; the HEAD check of web URLs is `campaigns/checks.py`.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import orjson

from pinfold.audience.rules.imports import CHANNEL_TYPES
from pinfold.campaigns.rules import event_filter as event_filters
from pinfold.campaigns.rules import schedule as schedule_rules
from pinfold.core.errors import InvalidInput
from pinfold.inapp.rules import content
from pinfold.projects.rules import check_settings
from pinfold.push import credentials as push_credentials
from pinfold.push.rules import payload as push_payload

# The members of a WriteCampaignRequest kept in a version's definition (`tags` live in the tags table).
MEMBERS = ("Name", "Description", "SegmentId", "SegmentVersion", "Schedule", "Limits", "HoldoutPercent",
           "MessageConfiguration", "TemplateConfiguration", "AdditionalTreatments", "TreatmentName",
           "TreatmentDescription", "CustomDeliveryConfiguration", "Hook", "IsPaused", "Priority")
FREQUENCIES = ("ONCE", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "EVENT", "IN_APP_EVENT")
TRIGGERED = ("EVENT", "IN_APP_EVENT")  # frequencies whose EventFilter names the trigger
TIMEZONES = frozenset({
    "UTC", "UTC+01", "UTC+02", "UTC+03", "UTC+03:30", "UTC+04", "UTC+04:30", "UTC+05", "UTC+05:30", "UTC+05:45",
    "UTC+06", "UTC+06:30", "UTC+07", "UTC+08", "UTC+09", "UTC+09:30", "UTC+10", "UTC+10:30", "UTC+11", "UTC+12",
    "UTC+13", "UTC-02", "UTC-03", "UTC-04", "UTC-05", "UTC-06", "UTC-07", "UTC-08", "UTC-09", "UTC-10", "UTC-11"})
IMMEDIATE = schedule_rules.IMMEDIATE
# A StartTime this far in the past still counts as now: the client's clock and the request's trip.
START_GRACE_SECONDS = 60
MAX_ADDITIONAL_TREATMENTS = 4
MAX_NAME = 256  # Name, TreatmentName (AWS documents no limit; Pinfold bounds what it stores)
MAX_DESCRIPTION = 4096
MAX_DEFINITION_BYTES = 1_000_000  # one version, as JSON
MAX_EMAIL_CHARS = 600_000  # Body and HtmlBody together, as for email templates
MAX_SMS_CHARS = 1600
MAX_CUSTOM_DATA = 5 * 1024  # CampaignCustomMessage.Data: "a raw JSON string of at most 5 KB"
MAX_HEADERS, MAX_HEADER_NAME, MAX_HEADER_VALUE = 15, 126, 870
MAX_URL = 2048
MAX_FILTER_ENTRIES = 50  # attributes or metrics in an EventFilter, values in one dimension
MAX_PUSH_BODY = 200  # a campaign Message's Body, as Pinpoint documents it
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# A campaign's push messages (Pinpoint's generic Message) and the endpoint channel types each reaches:
# DefaultMessage (and a PushTemplate) every push platform, the others their own.
PUSH_MESSAGES = {"DefaultMessage": push_credentials.PLATFORMS, "APNSMessage": push_credentials.APNS_KINDS,
                 "GCMMessage": (push_credentials.GCM,), "BaiduMessage": (push_credentials.BAIDU,),
                 "ADMMessage": (push_credentials.ADM,)}
LAMBDA_UNAVAILABLE = "AWS Lambda functions are not available in Pinfold"


def parse_time(text: str, field: str) -> float:
    """An ISO-8601 date and time as epoch seconds (schedule.parse_time's reading), or InvalidInput."""
    try:
        return schedule_rules.parse_time(text).timestamp()
    except (ValueError, OverflowError):
        raise InvalidInput(f"{field} must be IMMEDIATE or an ISO-8601 date and time, not {text[:64]!r}",
                           field=field) from None


def check_schedule(schedule: dict | None, *, now: float, field: str = "Schedule",
                   previous_start: str | None = None) -> dict:
    """A Schedule as Pinpoint accepts it. The past-start rule applies only to a StartTime that is new
    (an edit that keeps an old StartTime is not refused for it)."""
    if not schedule or not schedule.get("StartTime"):
        raise InvalidInput(f"{field}.StartTime is required: IMMEDIATE or an ISO-8601 date and time",
                           field=f"{field}.StartTime")
    start_text = schedule["StartTime"]
    frequency = schedule.get("Frequency") or "ONCE"
    if frequency not in FREQUENCIES:
        raise InvalidInput(f"{field}.Frequency {frequency!r} is not supported; use one of {', '.join(FREQUENCIES)}",
                           field=f"{field}.Frequency")
    start = now if start_text == IMMEDIATE else parse_time(start_text, f"{field}.StartTime")
    if start_text != previous_start and start < now - START_GRACE_SECONDS:
        raise InvalidInput("StartTime must be at least current time.", field=f"{field}.StartTime")
    if schedule.get("EndTime"):
        if parse_time(schedule["EndTime"], f"{field}.EndTime") <= start:
            raise InvalidInput(f"{field}.EndTime must be after StartTime", field=f"{field}.EndTime")
    timezone = schedule.get("Timezone")
    if timezone is not None and timezone not in TIMEZONES:
        raise InvalidInput(f"{field}.Timezone {timezone[:16]!r} is not one of Pinpoint's campaign offsets "
                           "(UTC, UTC+01 ... UTC+13, UTC-02 ... UTC-11)", field=f"{field}.Timezone")
    if schedule.get("IsLocalTime") and timezone is None:
        raise InvalidInput(f"{field}.Timezone is required when IsLocalTime is true", field=f"{field}.Timezone")
    for member in ("Start", "End"):
        value = (schedule.get("QuietTime") or {}).get(member)
        if value is not None and not _HH_MM.match(value):
            raise InvalidInput(f"{field}.QuietTime.{member} must be HH:MM (24-hour)",
                               field=f"{field}.QuietTime.{member}")
    _check_event_filter(schedule.get("EventFilter"), frequency, field)
    return {**schedule, "Frequency": frequency}


def _check_event_filter(event_filter: dict | None, frequency: str, field: str) -> None:
    if frequency in TRIGGERED and not event_filter:
        raise InvalidInput(f"{field}.EventFilter is required when Frequency is {frequency}: it names the event that "
                           "triggers the message", field=f"{field}.EventFilter")
    if frequency not in TRIGGERED and event_filter:
        raise InvalidInput(f"{field}.EventFilter applies only when Frequency is EVENT or IN_APP_EVENT",
                           field=f"{field}.EventFilter")
    if not event_filter:
        return
    event_filters.compile_filter(event_filter, f"{field}.EventFilter")
    dimensions = event_filter.get("Dimensions") or {}
    for member in ("Attributes", "Metrics"):
        if len(dimensions.get(member) or {}) > MAX_FILTER_ENTRIES:
            raise InvalidInput(f"{field}.EventFilter.Dimensions.{member} has more than {MAX_FILTER_ENTRIES} entries",
                               field=f"{field}.EventFilter.Dimensions.{member}")
    value_lists = [(dimensions.get("EventType") or {}).get("Values") or []]
    value_lists += [(a or {}).get("Values") or [] for a in (dimensions.get("Attributes") or {}).values()]
    if any(len(values) > MAX_FILTER_ENTRIES for values in value_lists):
        raise InvalidInput(f"A dimension of {field}.EventFilter has more than {MAX_FILTER_ENTRIES} values",
                           field=f"{field}.EventFilter.Dimensions")


def check_limits(limits: dict | None) -> dict:
    """CampaignLimits within Pinpoint's bounds (the same rule as the project's default Limits)."""
    check_settings({"Limits": limits or {}})
    return {k: v for k, v in (limits or {}).items() if v is not None}


def _check_text(request: dict, member: str, most: int) -> None:
    value = request.get(member)
    if value is not None and len(value) > most:
        raise InvalidInput(f"{member} must be at most {most} characters", field=member)


def check_treatments(definition: dict, *, now: float, previous: dict | None) -> list[dict]:
    """AdditionalTreatments: at most four, each SizePercent at least 1, and the holdout plus every
    treatment's share within 100 (the default treatment takes what remains, which may be nothing)."""
    treatments = definition.get("AdditionalTreatments") or []
    if len(treatments) > MAX_ADDITIONAL_TREATMENTS:
        raise InvalidInput(f"A campaign has at most {MAX_ADDITIONAL_TREATMENTS} AdditionalTreatments",
                           field="AdditionalTreatments")
    holdout = definition.get("HoldoutPercent") or 0
    if not 0 <= holdout <= 100:
        raise InvalidInput("HoldoutPercent must be between 0 and 100", field="HoldoutPercent")
    old = (previous or {}).get("AdditionalTreatments") or []
    checked = []
    for index, treatment in enumerate(treatments):
        field = f"AdditionalTreatments[{index}]"
        size = treatment.get("SizePercent")
        if size is None or not 1 <= size <= 100:
            raise InvalidInput(f"{field}.SizePercent must be between 1 and 100", field=f"{field}.SizePercent")
        _check_text(treatment, "TreatmentName", MAX_NAME)
        _check_text(treatment, "TreatmentDescription", MAX_DESCRIPTION)
        if treatment.get("Schedule"):
            previous_start = ((old[index] if index < len(old) else {}).get("Schedule") or {}).get("StartTime")
            schedule = check_schedule(treatment["Schedule"], now=now, field=f"{field}.Schedule",
                                      previous_start=previous_start)
            if schedule["Frequency"] != definition["Schedule"]["Frequency"]:
                raise InvalidInput(f"{field}.Schedule.Frequency must be the campaign's own Frequency",
                                   field=f"{field}.Schedule.Frequency")
            treatment = {**treatment, "Schedule": schedule}
        checked.append({k: v for k, v in treatment.items() if v is not None})
    if holdout + sum(t["SizePercent"] for t in checked) > 100:
        raise InvalidInput("HoldoutPercent and the AdditionalTreatments' SizePercent values add up to more than 100",
                           field="AdditionalTreatments")
    return checked


def check_message(configuration: dict | None, templates: dict | None, custom: dict | None, field: str) -> set[str]:
    """The channels one treatment's content configures (EMAIL, SMS, CUSTOM, and the push platforms by
    their endpoint channel types: APNS, GCM, ...); refuses what cannot run."""
    configuration, templates = configuration or {}, templates or {}
    prefix = f"{field}MessageConfiguration"
    if templates.get("VoiceTemplate"):
        raise InvalidInput("VoiceTemplate isn't supported for campaigns",
                           field=f"{field}TemplateConfiguration.VoiceTemplate")
    for member in ("EmailTemplate", "SMSTemplate", "PushTemplate", "InAppTemplate"):
        if templates.get(member) is not None and not templates[member].get("Name"):
            raise InvalidInput(f"{field}TemplateConfiguration.{member}.Name is required",
                               field=f"{field}TemplateConfiguration.{member}.Name")
    channels = set()
    if configuration.get("EmailMessage") or templates.get("EmailTemplate"):
        _check_email(configuration.get("EmailMessage"), bool(templates.get("EmailTemplate")), f"{prefix}.EmailMessage")
        channels.add("EMAIL")
    if configuration.get("SMSMessage") or templates.get("SMSTemplate"):
        sms = configuration.get("SMSMessage") or {}
        if not sms.get("Body") and not templates.get("SMSTemplate"):
            raise InvalidInput(f"{prefix}.SMSMessage.Body is required unless an SMSTemplate is given",
                               field=f"{prefix}.SMSMessage.Body")
        if len(sms.get("Body") or "") > MAX_SMS_CHARS:
            raise InvalidInput(f"{prefix}.SMSMessage.Body must be at most {MAX_SMS_CHARS} characters",
                               field=f"{prefix}.SMSMessage.Body")
        channels.add("SMS")
    if configuration.get("CustomMessage"):
        if not custom:
            raise InvalidInput("MessageConfiguration.CustomMessage needs a CustomDeliveryConfiguration",
                               field=f"{field}CustomDeliveryConfiguration")
        if len((configuration["CustomMessage"].get("Data") or "").encode()) > MAX_CUSTOM_DATA:
            raise InvalidInput(f"{prefix}.CustomMessage.Data must be at most 5 KB",
                               field=f"{prefix}.CustomMessage.Data")
        channels.add("CUSTOM")
    channels |= _check_push(configuration, bool(templates.get("PushTemplate")), prefix)
    if configuration.get("InAppMessage") or templates.get("InAppTemplate"):
        if configuration.get("InAppMessage") and not templates.get("InAppTemplate"):
            content.check_message(configuration["InAppMessage"], f"{prefix}.InAppMessage")
        channels.add("IN_APP")
    if not channels:
        raise InvalidInput(f"{prefix} must configure a channel: an EmailMessage or EmailTemplate, an SMSMessage or "
                           "SMSTemplate, a push message (DefaultMessage, APNSMessage, GCMMessage, BaiduMessage, "
                           "ADMMessage) or PushTemplate, an InAppMessage or InAppTemplate, or a CustomMessage",
                           field=prefix)
    return channels


def push_platforms(configuration: dict | None, templates: dict | None) -> set[str]:
    """The endpoint channel types a treatment's push messages and PushTemplate reach."""
    configuration, templates = configuration or {}, templates or {}
    found = set(push_credentials.PLATFORMS) if templates.get("PushTemplate") else set()
    for member, platforms in PUSH_MESSAGES.items():
        if configuration.get(member):
            found.update(platforms)
    return found


def _check_push(configuration: dict, templated: bool, prefix: str) -> set[str]:
    """A campaign's push Messages: each member well formed, and some content for every platform reached
    (a template's, the default message's, or the platform's own)."""
    default = configuration.get("DefaultMessage") or {}
    for member in PUSH_MESSAGES:
        message = configuration.get(member)
        if not message:
            continue
        field = f"{prefix}.{member}"
        if len(message.get("Body") or "") > MAX_PUSH_BODY:
            raise InvalidInput(f"{field}.Body must be at most {MAX_PUSH_BODY} characters", field=f"{field}.Body")
        if message.get("Action") is not None and message["Action"] not in push_payload.ACTIONS:
            raise InvalidInput(f"{field}.Action must be one of {', '.join(push_payload.ACTIONS)}",
                               field=f"{field}.Action")
        ttl = message.get("TimeToLive")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0):
            raise InvalidInput(f"{field}.TimeToLive must be a whole number of seconds, at least 0",
                               field=f"{field}.TimeToLive")
        for json_member in ("RawContent", "JsonBody"):
            if message.get(json_member) and not _json_object(message[json_member]):
                raise InvalidInput(f"{field}.{json_member} must be a JSON object", field=f"{field}.{json_member}")
        if not templated and not _has_push_content(message) and not _has_push_content(default):
            raise InvalidInput(f"{field} needs a Body, a Title, RawContent or SilentPush (or a DefaultMessage or "
                               "PushTemplate that has one)", field=field)
    return push_platforms(configuration, {"PushTemplate": templated})


def _has_push_content(message: dict) -> bool:
    return bool(message.get("Body") or message.get("Title") or message.get("RawContent")
                or message.get("SilentPush"))


def _json_object(text) -> bool:
    try:
        return isinstance(text, str) and isinstance(orjson.loads(text), dict)
    except orjson.JSONDecodeError:
        return False


def _check_email(email: dict | None, templated: bool, field: str) -> None:
    email = email or {}
    if not templated and not (email.get("Title") and (email.get("HtmlBody") or email.get("Body"))):
        raise InvalidInput(f"{field} needs a Title and an HtmlBody or Body, unless an EmailTemplate is given",
                           field=field)
    if len(email.get("HtmlBody") or "") + len(email.get("Body") or "") > MAX_EMAIL_CHARS:
        raise InvalidInput(f"{field} Body and HtmlBody must be at most {MAX_EMAIL_CHARS} characters together",
                           field=field)
    headers = email.get("Headers") or []
    if len(headers) > MAX_HEADERS:
        raise InvalidInput(f"{field}.Headers: at most {MAX_HEADERS} headers", field=f"{field}.Headers")
    for index, header in enumerate(headers):
        name, value = header.get("Name") or "", header.get("Value") or ""
        one_line = not any(c in name + value for c in "\r\n")
        if not name or len(name) > MAX_HEADER_NAME or len(value) > MAX_HEADER_VALUE or not one_line:
            raise InvalidInput(f"{field}.Headers[{index}] needs a Name of 1 to {MAX_HEADER_NAME} characters and a "
                               f"Value of at most {MAX_HEADER_VALUE}, on one line", field=f"{field}.Headers[{index}]")


def web_url(uri: str, field: str) -> str:
    """A URL Pinfold may call: https, or http to a loopback host. A Lambda function name or ARN is
    refused clearly: Pinfold has no functions to invoke."""
    uri = uri.strip()
    if uri.startswith("arn:") or "://" not in uri:
        raise InvalidInput(f"{field}: {LAMBDA_UNAVAILABLE}; give an https:// URL instead", field=field)
    if len(uri) > MAX_URL or any(ord(ch) < 33 or ord(ch) == 127 for ch in uri):
        raise InvalidInput(f"{field} must be a URL of at most {MAX_URL} characters without spaces", field=field)
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        raise InvalidInput(f"{field} is not a valid URL", field=field) from None
    if not host:
        raise InvalidInput(f"{field} must name a host", field=field)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host)):
        return uri
    raise InvalidInput(f"{field} must be an https:// URL (http:// only to a loopback host)", field=field)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_custom_delivery(custom: dict | None, field: str) -> dict | None:
    if not custom:
        return None
    types = custom.get("EndpointTypes") or []
    unknown = [kind for kind in types if kind not in CHANNEL_TYPES]
    if unknown:
        raise InvalidInput(f"{field}.EndpointTypes: {str(unknown[0])[:32]!r} is not one of {', '.join(CHANNEL_TYPES)}",
                           field=f"{field}.EndpointTypes")
    return {**custom, "DeliveryUri": web_url(custom.get("DeliveryUri") or "", f"{field}.DeliveryUri")}


def check_hook(hook: dict | None) -> dict | None:
    """A FILTER hook called at a web URL; the deprecated DELIVERY mode and Lambda functions are refused."""
    if not hook or not (hook.get("WebUrl") or hook.get("LambdaFunctionName")):
        return None
    if hook.get("Mode") == "DELIVERY":
        raise InvalidInput("Hook.Mode DELIVERY is deprecated: use CustomDeliveryConfiguration and a CustomMessage "
                           "to deliver through your own service", field="Hook.Mode")
    if hook.get("LambdaFunctionName"):
        raise InvalidInput(f"Hook.LambdaFunctionName: {LAMBDA_UNAVAILABLE}; give the hook a WebUrl instead",
                           field="Hook.LambdaFunctionName")
    return {"Mode": "FILTER", "WebUrl": web_url(hook["WebUrl"], "Hook.WebUrl")}


def web_urls(definition: dict) -> list[tuple[str, str]]:
    """(field, URL) of every web URL a definition would call, for the HEAD check."""
    found = []
    if (definition.get("Hook") or {}).get("WebUrl"):
        found.append(("Hook.WebUrl", definition["Hook"]["WebUrl"]))
    sources = [("", definition)] + [(f"AdditionalTreatments[{i}].", t)
                                    for i, t in enumerate(definition.get("AdditionalTreatments") or [])]
    for prefix, source in sources:
        if source.get("CustomDeliveryConfiguration"):
            found.append((f"{prefix}CustomDeliveryConfiguration.DeliveryUri",
                          source["CustomDeliveryConfiguration"]["DeliveryUri"]))
    return found


def check_definition(request: dict, *, now: float, previous: dict | None = None) -> dict:
    """The definition to store: `request`'s members over `previous` (an update) or alone (a creation)."""
    given = {k: request[k] for k in MEMBERS if request.get(k) is not None}
    definition = {**(previous or {}), **given}
    if previous and given.get("SegmentId", previous["SegmentId"]) != previous["SegmentId"] \
            and "SegmentVersion" not in given:
        definition.pop("SegmentVersion", None)  # the old pin was a version of the old segment
    if not definition.get("SegmentId"):
        raise InvalidInput("SegmentId is required", field="SegmentId")
    _check_text(definition, "Name", MAX_NAME)
    _check_text(definition, "TreatmentName", MAX_NAME)
    for member in ("Description", "TreatmentDescription"):
        _check_text(definition, member, MAX_DESCRIPTION)
    if definition.get("SegmentVersion") is not None and definition["SegmentVersion"] < 1:
        raise InvalidInput("SegmentVersion must be at least 1", field="SegmentVersion")
    previous_start = ((previous or {}).get("Schedule") or {}).get("StartTime")
    definition["Schedule"] = check_schedule(definition.get("Schedule"), now=now, previous_start=previous_start)
    definition["Limits"] = check_limits(definition.get("Limits"))
    custom = check_custom_delivery(definition.get("CustomDeliveryConfiguration"), "CustomDeliveryConfiguration")
    definition["CustomDeliveryConfiguration"] = custom
    treatments = check_treatments(definition, now=now, previous=previous)
    check_message(definition.get("MessageConfiguration"), definition.get("TemplateConfiguration"), custom, "")
    for index, treatment in enumerate(treatments):
        field = f"AdditionalTreatments[{index}]."
        own = check_custom_delivery(treatment.get("CustomDeliveryConfiguration"), f"{field}CustomDeliveryConfiguration")
        if own:
            treatment["CustomDeliveryConfiguration"] = own
        if treatment.get("MessageConfiguration") or treatment.get("TemplateConfiguration"):
            check_message(treatment.get("MessageConfiguration"), treatment.get("TemplateConfiguration"),
                          own or custom, field)
    definition["AdditionalTreatments"] = treatments
    definition["Hook"] = check_hook(definition.get("Hook"))
    _check_in_app(definition)
    definition = {k: v for k, v in definition.items() if v not in (None, [], {})}
    if len(orjson.dumps(definition)) > MAX_DEFINITION_BYTES:
        raise InvalidInput(f"The campaign definition is larger than {MAX_DEFINITION_BYTES} bytes",
                           field="WriteCampaignRequest")
    return definition


def _check_in_app(definition: dict) -> None:
    """In-app messages go only with Frequency IN_APP_EVENT, which sends nothing else: the device pulls
    them (GetInAppMessages) and shows them when its trigger event happens."""
    in_app = definition["Schedule"]["Frequency"] == "IN_APP_EVENT"
    used = channels_of(definition)
    if in_app and used != {"IN_APP"}:
        raise InvalidInput("A campaign with Frequency IN_APP_EVENT sends only in-app messages: give an InAppMessage "
                           "or InAppTemplate and no other channel's message", field="MessageConfiguration")
    if not in_app and "IN_APP" in used:
        raise InvalidInput("In-app messages need Schedule.Frequency IN_APP_EVENT (with the EventFilter that shows "
                           "them)", field="Schedule.Frequency")
    if in_app and definition.get("Hook"):
        raise InvalidInput("An in-app campaign cannot have a Hook: its messages are not sent", field="Hook")


def channels_of(definition: dict) -> set[str]:
    """Every channel any treatment of a checked definition sends through."""
    found = check_message(definition.get("MessageConfiguration"), definition.get("TemplateConfiguration"),
                          definition.get("CustomDeliveryConfiguration"), "")
    for treatment in definition.get("AdditionalTreatments") or []:
        if treatment.get("MessageConfiguration") or treatment.get("TemplateConfiguration"):
            found |= check_message(treatment.get("MessageConfiguration"), treatment.get("TemplateConfiguration"),
                                   treatment.get("CustomDeliveryConfiguration")
                                   or definition.get("CustomDeliveryConfiguration"), "")
    return found


def templates_of(definition: dict) -> list[tuple[str, str, str, str | None]]:
    """(field, template type, name, version) of every template a definition uses."""
    found = []
    sources = [("", definition)] + [(f"AdditionalTreatments[{i}].", t)
                                    for i, t in enumerate(definition.get("AdditionalTreatments") or [])]
    for prefix, source in sources:
        for member, template_type in (("EmailTemplate", "EMAIL"), ("SMSTemplate", "SMS"), ("PushTemplate", "PUSH"),
                                      ("InAppTemplate", "INAPP")):
            template = (source.get("TemplateConfiguration") or {}).get(member)
            if template:
                found.append((f"{prefix}TemplateConfiguration.{member}", template_type, template["Name"],
                              template.get("Version")))
    return found
