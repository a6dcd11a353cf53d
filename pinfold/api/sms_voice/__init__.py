"""End User Messaging SMS (`pinpoint-sms-voice-v2`, signing name `sms-voice`) operations: a table
from operation name to a thin handler, by resource family, each module with its own table; this one
composes them. Operations in none of them answer the not-implemented error."""

from __future__ import annotations

from pinfold.api.sms_voice import identities, sending, settings

HANDLERS: dict = {
    **identities.HANDLERS,
    **settings.HANDLERS,
    **sending.HANDLERS,
}
