"""Pinpoint (`mobiletargeting`) operations: a table from operation name to a thin handler.

Each handler takes the parsed input (model member names) and returns the output shape's members.
The handlers live by resource family, each module with its own table; this one composes them.
"""

from __future__ import annotations

from pinfold.api.pinpoint import (
    analytics,
    campaigns,
    channels,
    endpoints,
    messages,
    numbers,
    projects,
    segments,
    templates,
)

HANDLERS = {
    **projects.HANDLERS,
    **endpoints.HANDLERS,
    **segments.HANDLERS,
    **campaigns.HANDLERS,
    **channels.HANDLERS,
    **templates.HANDLERS,
    **messages.HANDLERS,
    **analytics.HANDLERS,
    **numbers.HANDLERS,
}

# Operations that walk every endpoint of a project or wait on a peer; the gateway keeps them off the
# event loop.
LONG_OPERATIONS = (projects.LONG_OPERATIONS | endpoints.LONG_OPERATIONS | analytics.LONG_OPERATIONS
                   | campaigns.LONG_OPERATIONS)
