"""End User Messaging SMS: sending text messages."""

from pinfold.sms import send

HANDLERS: dict = {}


def _send_text_message(ctx, caller, p):
    return send.send_text_message(ctx, caller, p)


HANDLERS["SendTextMessage"] = _send_text_message
