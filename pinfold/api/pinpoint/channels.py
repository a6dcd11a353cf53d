"""Pinpoint channels: a project's email channel, and the list of its channels."""

from __future__ import annotations

from pinfold.messaging import channels as channel_service


def _update_email_channel(ctx, caller, p):
    return {"EmailChannelResponse": channel_service.update_email(ctx, caller, p["ApplicationId"],
                                                                 p["EmailChannelRequest"])}


def _get_email_channel(ctx, caller, p):
    return {"EmailChannelResponse": channel_service.get_email(ctx, caller, p["ApplicationId"])}


def _delete_email_channel(ctx, caller, p):
    return {"EmailChannelResponse": channel_service.delete_email(ctx, caller, p["ApplicationId"])}


def _get_channels(ctx, caller, p):
    return {"ChannelsResponse": channel_service.list_channels(ctx, caller, p["ApplicationId"])}


HANDLERS = {
    "UpdateEmailChannel": _update_email_channel,
    "GetEmailChannel": _get_email_channel,
    "DeleteEmailChannel": _delete_email_channel,
    "GetChannels": _get_channels,
}
