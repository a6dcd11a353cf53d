"""Project (Pinpoint application) rules: settings limits."""

from __future__ import annotations

import re

from pinfold.core.errors import InvalidInput

_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

# CampaignLimits as Pinpoint documents them: (member, lowest, highest); None means unbounded.
_LIMIT_RANGES = (("Daily", 0, 100), ("Total", 0, 100), ("MessagesPerSecond", 1, 20000),
                 ("MaximumDuration", 60, None), ("Session", 0, 100))


def check_settings(update: dict) -> None:
    """Raise if a WriteApplicationSettingsRequest breaks Pinpoint's documented ranges."""
    for member, low, high in _LIMIT_RANGES:
        value = (update.get("Limits") or {}).get(member)
        if value is None:
            continue
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise InvalidInput(f"Limits.{member} must be {bound}", field=f"Limits.{member}")
    for member in ("Start", "End"):
        value = (update.get("QuietTime") or {}).get(member)
        if value is not None and not _HH_MM.match(value):
            raise InvalidInput(f"QuietTime.{member} must be HH:MM (24-hour)", field=f"QuietTime.{member}")
