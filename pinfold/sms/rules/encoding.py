"""How a text is carried: GSM 03.38 (7-bit) when every character is in its alphabet, else UCS-2, and
the parts (segments) it is split into. A part holds 140 bytes: 160 GSM characters or 70 UCS-2 code
units alone, 153 or 67 once split (the rest is the concatenation header). Characters of the GSM
extension table take two units (escape plus character); a character outside the Basic Multilingual
Plane takes two UCS-2 units. A part never ends between the two units of one character.

Pinfold's maximum (AWS's pages disagree: 1530 GSM / 630 non-GSM characters now, 1600 / 630 in
2023): 1530 GSM units (ten parts of 153) or 630 UCS-2 units (AWS's figure, ten parts of 67 at
most). A longer text is refused when it is sent, never cut.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM = "GSM"
UCS2 = "Unicode"  # the name End User Messaging's events give UCS-2 (`messageEncoding`)
MAX_UNITS = {GSM: 1530, UCS2: 630}
_SINGLE = {GSM: 160, UCS2: 70}
_SPLIT = {GSM: 153, UCS2: 67}

# GSM 03.38 basic character set (the 128 characters; ESC itself excluded).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà") - {"\x1b"}
# The extension table: each is sent as ESC plus a character, so it counts twice.
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Encoded:
    """A text as it is carried: its encoding, the units it takes, and its parts in order."""

    encoding: str
    units: int
    parts: tuple[str, ...]

    @property
    def too_long(self) -> bool:
        return self.units > MAX_UNITS[self.encoding]


def encoding_of(text: str) -> str:
    """GSM when every character is in the GSM alphabet (basic or extension), else Unicode (UCS-2)."""
    return GSM if all(char in GSM_BASIC or char in GSM_EXTENSION for char in text) else UCS2


def units_of(char: str, encoding: str) -> int:
    """What one character takes: GSM septets, or UCS-2 (UTF-16) code units."""
    if encoding == GSM:
        return 2 if char in GSM_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def encode(text: str) -> Encoded:
    """The text's encoding, size and parts (one part when it fits in a single message)."""
    encoding = encoding_of(text)
    sizes = [units_of(char, encoding) for char in text]
    total = sum(sizes)
    if total <= _SINGLE[encoding]:
        return Encoded(encoding, total, (text,) if text else ())
    parts, start, used = [], 0, 0
    for index, size in enumerate(sizes):
        if used + size > _SPLIT[encoding]:
            parts.append(text[start:index])
            start, used = index, 0
        used += size
    parts.append(text[start:])
    return Encoded(encoding, total, tuple(parts))
