"""Whole numbers that arrive as text (versions, page sizes): ASCII digits only, and within range."""

from __future__ import annotations

import re

from pinfold.core.errors import InvalidInput

# The integer columns that hold versions and counts are 32-bit on PostgreSQL.
MAX_INT32 = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")  # str.isdigit() and int() also take '²', '１２', ' 1' and '1_0'


def whole_number(raw: str, *, field: str, low: int = 1, high: int = MAX_INT32) -> int:
    """`raw` as an int in [low, high]; InvalidInput naming `field` otherwise."""
    text = str(raw)
    if _DIGITS.fullmatch(text) is None or not low <= int(text) <= high:
        shown = text if len(text) <= 32 else text[:32] + "..."
        raise InvalidInput(f"{field} must be a whole number from {low} to {high}, not {shown!r}", field=field)
    return int(text)
