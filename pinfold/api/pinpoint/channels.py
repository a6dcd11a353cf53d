"""Pinpoint channels: a project's email, SMS and push channels, and the list of its channels."""

from __future__ import annotations

from pinfold.messaging import channels as channel_service


def _channel_handlers(channel_type: str, operation: str, member: str) -> dict:
    """Update<operation>Channel, Get... and Delete...: `member` prefixes the request and response shapes."""

    def update(ctx, caller, p):
        request = p[f"{member}ChannelRequest"]
        return {f"{member}ChannelResponse": channel_service.update(ctx, caller, p["ApplicationId"], channel_type,
                                                                   request)}

    def get(ctx, caller, p):
        return {f"{member}ChannelResponse": channel_service.get(ctx, caller, p["ApplicationId"], channel_type)}

    def delete(ctx, caller, p):
        return {f"{member}ChannelResponse": channel_service.delete(ctx, caller, p["ApplicationId"], channel_type)}

    return {f"Update{operation}Channel": update, f"Get{operation}Channel": get, f"Delete{operation}Channel": delete}


def _get_channels(ctx, caller, p):
    return {"ChannelsResponse": channel_service.list_channels(ctx, caller, p["ApplicationId"])}


HANDLERS = {
    **_channel_handlers(channel_service.EMAIL, "Email", "Email"),
    **_channel_handlers(channel_service.SMS, "Sms", "SMS"),
    **_channel_handlers("APNS", "Apns", "APNS"),
    **_channel_handlers("APNS_SANDBOX", "ApnsSandbox", "APNSSandbox"),
    **_channel_handlers("APNS_VOIP", "ApnsVoip", "APNSVoip"),
    **_channel_handlers("APNS_VOIP_SANDBOX", "ApnsVoipSandbox", "APNSVoipSandbox"),
    **_channel_handlers("GCM", "Gcm", "GCM"),
    **_channel_handlers("BAIDU", "Baidu", "Baidu"),
    **_channel_handlers("ADM", "Adm", "ADM"),
    "GetChannels": _get_channels,
}
