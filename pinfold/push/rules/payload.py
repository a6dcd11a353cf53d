"""What a push message becomes on the wire: Pinpoint's message fields (a platform's own message over
the default push message, rendered) to an APNs body and its `apns-*` headers, or an FCM HTTP v1
message.

The device SDKs read Pinpoint's keys, so the shapes follow what they read (research, channels §3.3):
on iOS a `data.pinpoint` object with `deeplink`, `campaign` or `journey` (string maps) and
`jsonBody`; on Android a data message whose keys start `pinpoint.` (the SDK draws the notification
itself). A silent push carries no alert, badge or sound. RawContent replaces the body Pinfold would
build (for FCM: the v1 message's members), and must be a JSON object.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson

APNS_LIMIT, VOIP_LIMIT, FCM_LIMIT = 4096, 5120, 4096  # payload bytes, as the providers take them
FCM_MAX_TTL = 2_419_200  # 28 days, FCM's default and longest
ACTIONS = ("OPEN_APP", "DEEP_LINK", "URL")
APNS_PUSH_TYPES = ("alert", "background", "complication", "fileprovider", "mdm", "voip", "location",
                   "liveactivity", "pushtotalk", "controls", "widgets")


class Unsendable(ValueError):
    """The message cannot be built for this platform: the reason goes to the sender's result."""


@dataclass(frozen=True)
class Built:
    payload: dict
    headers: dict[str, str]


def silent(fields: dict) -> bool:
    """Whether the fields ask for a silent (background) push, which needs no title or body."""
    return _flag(fields.get("SilentPush"))


def apns(fields: dict, ids: dict[str, str], *, voip: bool = False, now: float | None = None) -> Built:
    """The APNs body and headers (apns-topic is the adapter's: it knows the bundle id)."""
    silent = _flag(fields.get("SilentPush"))
    if fields.get("RawContent"):
        payload = _object(fields["RawContent"])
        aps = payload.get("aps") if isinstance(payload.get("aps"), dict) else {}
        silent = silent or (aps.get("content-available") == 1 and not aps.get("alert"))
    else:
        payload = {"aps": _aps(fields, silent), "data": {"pinpoint": _pinpoint_ios(fields, ids)}}
        if fields.get("MediaUrl"):
            payload["data"]["media-url"] = fields["MediaUrl"]
    push_type = fields.get("APNSPushType") or ("voip" if voip else "background" if silent else "alert")
    if push_type not in APNS_PUSH_TYPES:
        raise Unsendable(f"APNSPushType must be one of {', '.join(APNS_PUSH_TYPES)}")
    headers = {"apns-push-type": push_type,
               "apns-priority": _apns_priority(fields.get("Priority"), silent or push_type == "background")}
    ttl = fields.get("TimeToLive")
    if ttl is not None:
        seconds = _whole(ttl, "TimeToLive")
        headers["apns-expiration"] = "0" if seconds == 0 else str(int((now or time.time()) + seconds))
    if fields.get("CollapseId"):
        if len(fields["CollapseId"].encode()) > 64:
            raise Unsendable("CollapseId is longer than APNs' 64 bytes")
        headers["apns-collapse-id"] = fields["CollapseId"]
    _fits(payload, VOIP_LIMIT if push_type == "voip" else APNS_LIMIT, "APNs")
    return Built(payload, headers)


def fcm(fields: dict, ids: dict[str, str]) -> Built:
    """The FCM HTTP v1 `message` without its `token` (the adapter adds it)."""
    silent = _flag(fields.get("SilentPush"))
    android: dict = {"priority": _fcm_priority(fields.get("Priority"), silent)}
    if fields.get("RawContent"):
        raw = _object(fields["RawContent"])
        message = {key: raw[key] for key in ("data", "notification", "android", "apns", "webpush", "fcm_options")
                   if key in raw}
        if isinstance(message.get("data"), dict):
            message["data"] = {str(key): _text(value) for key, value in message["data"].items()}
        android = {**android, **(message.get("android") or {})}
    else:
        message = {"data": _pinpoint_android(fields, ids, silent)}
    ttl = fields.get("TimeToLive")
    if ttl is not None:
        android["ttl"] = f"{min(_whole(ttl, 'TimeToLive'), FCM_MAX_TTL)}s"
    for member, key in (("CollapseKey", "collapse_key"), ("RestrictedPackageName", "restricted_package_name")):
        if fields.get(member):
            android[key] = fields[member]
    message["android"] = android
    _fits(message, FCM_LIMIT, "FCM")
    return Built(message, {})


def _aps(fields: dict, silent: bool) -> dict:
    if silent:  # Apple: a background push has content-available and no alert, badge or sound
        return {"content-available": 1}
    alert = {key: fields[member] for member, key in (("Title", "title"), ("Body", "body")) if fields.get(member)}
    aps: dict = {"alert": alert}
    for member, key in (("Sound", "sound"), ("Category", "category"), ("ThreadId", "thread-id")):
        if fields.get(member):
            aps[key] = fields[member]
    if fields.get("Badge") is not None:
        aps["badge"] = _whole(fields["Badge"], "Badge")
    if fields.get("MediaUrl"):
        aps["mutable-content"] = 1  # a notification service extension fetches the media
    return aps


def _pinpoint_ios(fields: dict, ids: dict[str, str]) -> dict:
    pinpoint: dict = {}
    action = _action(fields)
    if action in ("DEEP_LINK", "URL") and fields.get("Url"):
        pinpoint["deeplink"] = fields["Url"]
    if ids.get("journey_id"):
        pinpoint["journey"] = dict(ids)
    else:
        pinpoint["campaign"] = dict(ids)
    if fields.get("Data") or fields.get("JsonBody"):
        pinpoint["jsonBody"] = _json_body(fields)
    return pinpoint


def _pinpoint_android(fields: dict, ids: dict[str, str], silent: bool) -> dict[str, str]:
    data = {f"pinpoint.notification.{key}": fields[member]
            for member, key in (("Title", "title"), ("Body", "body"), ("ImageUrl", "imageUrl"),
                                ("ImageIconUrl", "imageIconUrl"), ("SmallImageIconUrl", "imageSmallIconUrl"),
                                ("ImageSmallIconUrl", "imageSmallIconUrl"), ("Sound", "sound"))
            if fields.get(member)}
    data["pinpoint.notification.silentPush"] = "1" if silent else "0"
    action = _action(fields)
    if action == "OPEN_APP":
        data["pinpoint.openApp"] = "true"
    elif fields.get("Url"):
        data["pinpoint.url" if action == "URL" else "pinpoint.deeplink"] = fields["Url"]
    prefix = "pinpoint.journey." if ids.get("journey_id") else "pinpoint.campaign."
    data.update({prefix + key: str(value) for key, value in ids.items()})
    if fields.get("Data") or fields.get("JsonBody"):
        data["pinpoint.jsonBody"] = orjson.dumps(_json_body(fields)).decode()
    return data


def _action(fields: dict) -> str:
    action = fields.get("Action") or "OPEN_APP"
    if action not in ACTIONS:
        raise Unsendable(f"Action must be one of {', '.join(ACTIONS)}")
    return action


def _json_body(fields: dict) -> dict:
    if fields.get("Data"):
        return {str(key): _text(value) for key, value in fields["Data"].items()}
    return _object(fields["JsonBody"], "JsonBody")


def _apns_priority(given, background: bool) -> str:
    if given in (None, ""):
        return "5" if background else "10"  # Apple refuses priority 10 for a background push
    word = str(given).lower()
    priority = {"high": "10", "normal": "5", "10": "10", "5": "5", "1": "1"}.get(word)
    if priority is None:
        raise Unsendable("Priority for APNs must be 10, 5 or 1 (or high or normal)")
    return priority


def _fcm_priority(given, silent: bool) -> str:
    if given in (None, ""):
        return "NORMAL" if silent else "HIGH"  # a visible notification should not wait for the device to wake
    priority = {"high": "HIGH", "normal": "NORMAL", "10": "HIGH", "5": "NORMAL"}.get(str(given).lower())
    if priority is None:
        raise Unsendable("Priority for FCM must be high or normal (or 10 or 5)")
    return priority


def _object(raw, field: str = "RawContent") -> dict:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise Unsendable(f"{field} must be a JSON object")
    return value


def _fits(payload: dict, limit: int, provider: str) -> None:
    size = len(orjson.dumps(payload))
    if size > limit:
        raise Unsendable(f"The payload is {size:,} bytes; {provider} takes at most {limit:,}")


def _flag(value) -> bool:
    return value is True or str(value).lower() == "true"


def _whole(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Unsendable(f"{field} must be a whole number") from None
    if number < 0:
        raise Unsendable(f"{field} must not be negative")
    return number


def _text(value) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()
