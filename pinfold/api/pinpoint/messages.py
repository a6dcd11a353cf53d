"""Pinpoint direct sends: SendMessages (to addresses and endpoints) and SendUsersMessages (to user ids)."""

from __future__ import annotations

from pinfold.messaging import messages


def _send_messages(ctx, caller, p):
    return messages.send_messages(ctx, caller, p["ApplicationId"], p["MessageRequest"])


def _send_users_messages(ctx, caller, p):
    return messages.send_users_messages(ctx, caller, p["ApplicationId"], p["SendUsersMessageRequest"])


HANDLERS = {"SendMessages": _send_messages, "SendUsersMessages": _send_users_messages}
