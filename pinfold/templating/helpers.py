"""The helpers Pinpoint documents for message templates, and how template values become text.

A helper is `fn(args, hash, call)`: positional values, hash values, and the invocation (`call.is_block`,
`call.fn(context, frame)`, `call.inverse()`, `call.now`). Inline helpers return a value; block helpers
return rendered text. A helper refuses bad arguments by raising HelperError, which the renderer turns into a
TemplateError naming the helper and where it was called. Pinpoint attribute values are lists, so wherever a
helper wants one value a list of exactly one item stands for that item. The module is the whole
documented helper set, one short function each, which is why it runs past 400 lines.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pinfold.templating.dates import HelperError, date_text, format_date, zone_named

MAX_EACH_ITEMS = 15  # Pinpoint: "The maximum list size is 15 items"




@dataclass(frozen=True)
class HelperSpec:
    """A helper and how it may be called; `barewords` are arguments where an unresolved bare name means itself."""

    fn: Callable[[list, dict, Any], Any]
    min_args: int
    max_args: int | None
    inline: bool = True
    block: bool = False
    barewords: frozenset = frozenset()


# --- values -------------------------------------------------------------------------------------------------


def one(value: Any) -> Any:
    """The single value a list of one item stands for; anything else is returned unchanged."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return value[0]
    return value


def number_text(value: float | int) -> str:
    """Integral floats print without a fraction; others with at most 15 significant digits (no float noise)."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return format(value, ".15g")
    return str(value)


def text_of(value: Any) -> str:
    """How a value renders: missing is empty, booleans are true/false, lists join with commas."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, (list, tuple)):
        if len(value) == 1:  # Pinpoint attribute values are lists, nearly always of one item
            return value[0] if value[0].__class__ is str else text_of(value[0])
        return ",".join(text_of(item) for item in value)
    if isinstance(value, Mapping):
        return json.dumps(value, default=str, separators=(",", ":"))
    return str(value)


def truthy(value: Any) -> bool:
    """Handlebars truth: missing, false, empty text, zero and empty lists or maps are false."""
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return value != ""
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (list, tuple, Mapping)):
        return len(value) > 0
    return True


def text_arg(value: Any) -> str:
    return text_of(one(value))


def number_arg(value: Any, what: str = "a number") -> int | float:
    """A number from a number or numeric text; anything else is a HelperError."""
    value = one(value)
    if isinstance(value, bool) or value is None:
        raise HelperError(f"needs {what}, got {text_of(value) or 'nothing'}")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            parsed = float(text)
        except ValueError:
            raise HelperError(f"needs {what}, got {value!r}") from None
        if math.isfinite(parsed):
            return parsed
    raise HelperError(f"needs {what}, got {text_of(value)!r}")


def count_arg(value: Any, what: str) -> int:
    """A whole, non-negative number (a width, an offset)."""
    number = number_arg(value, what)
    if number != int(number) or number < 0:
        raise HelperError(f"needs {what} (a whole number, not negative), got {number_text(number)}")
    return int(number)


# --- conditionals and the built-in blocks -------------------------------------------------------------------


def _comparable(value: Any) -> Any:
    """Numbers and numeric text compare as numbers; everything else compares as its text."""
    value = one(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = text_of(value)
    try:
        return float(text)
    except ValueError:
        return text


def _order(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 comparing a to b; None when either is missing or one is a number and the other not."""
    if one(a) is None or one(b) is None:
        return None
    left, right = _comparable(a), _comparable(b)
    if type(left) is not type(right):
        left, right = text_of(one(a)), text_of(one(b))
    return (left > right) - (left < right)


def _conditional(test: Callable[[list], bool]) -> Callable[[list, dict, Any], Any]:
    """Block form renders the block or its {{else}}; inline form returns yes=/no= (default true/false)."""

    def helper(args: list, hash: dict, call: Any) -> Any:
        passed = test(args)
        if call.is_block:
            return call.fn() if passed else call.inverse()
        if len(args) > 1 and test is _if_test:  # {{if cond "then" ["else"]}}
            return args[1] if passed else (args[2] if len(args) > 2 else "")
        return hash.get("yes", True) if passed else hash.get("no", False)

    return helper


def _if_test(args: list) -> bool:
    return truthy(args[0])


def _each(args: list, hash: dict, call: Any) -> str:
    """Iterates a list (or a map's values, with @key) up to 15 items; {{else}} when there is nothing."""
    value = args[0]
    if isinstance(value, Mapping):
        pairs = list(value.items())[:MAX_EACH_ITEMS]
    elif isinstance(value, (list, tuple)):
        pairs = list(enumerate(value[:MAX_EACH_ITEMS]))
    else:
        pairs = []
    if not pairs:
        return call.inverse()
    last = len(pairs) - 1
    out = []
    for index, (key, item) in enumerate(pairs):
        frame = {"index": index, "key": key, "first": index == 0, "last": index == last}
        out.append(call.fn(item, frame))
    return "".join(out)


def _compare(predicate: Callable[[int], bool]) -> Callable[[list], bool]:
    def test(args: list) -> bool:
        order = _order(args[0], args[1])
        return order is not None and predicate(order)

    return test


def _equal(args: list) -> bool:
    if one(args[0]) is None or one(args[1]) is None:
        return one(args[0]) is None and one(args[1]) is None
    return _order(args[0], args[1]) == 0


# --- strings ------------------------------------------------------------------------------------------------


def _abbreviate(args: list, hash: dict, call: Any) -> str:
    """{{abbreviate value width}}: at most `width` characters, the last three "..." when cut (width >= 4)."""
    text, width = text_arg(args[0]), count_arg(args[1], "a width")
    if len(text) <= width:
        return text
    if width < 4:
        raise HelperError(f"needs a width of at least 4 to fit the ellipsis, got {width}")
    return text[: width - 3] + "..."


def _capitalize(args: list, hash: dict, call: Any) -> str:
    """{{capitalize value [fully=true]}}: upper-cases each word's first letter; fully also lowers the rest."""
    fully = truthy(hash.get("fully", False))
    return re.sub(r"\S+", lambda m: m[0][:1].upper() + (m[0][1:].lower() if fully else m[0][1:]), text_arg(args[0]))


def _capitalize_first(args: list, hash: dict, call: Any) -> str:
    text = text_arg(args[0])
    return text[:1].upper() + text[1:]


def _fill(width: int, pad: str) -> str:
    if not pad:
        raise HelperError("pad must not be empty")
    return (pad * (width // len(pad) + 1))[:width] if width > 0 else ""


def _center(args: list, hash: dict, call: Any) -> str:
    """{{center value size=N [pad=" "]}} (size may also be the second argument); extra padding goes right."""
    size = hash.get("size", args[1] if len(args) > 1 else None)
    if size is None:
        raise HelperError("needs size=")
    text, width, pad = text_arg(args[0]), count_arg(size, "a size"), text_of(hash.get("pad", " "))
    room = width - len(text)
    return _fill(room // 2, pad) + text + _fill(room - room // 2, pad) if room > 0 else text


def _ljust(args: list, hash: dict, call: Any) -> str:
    """{{ljust value width [pad=" "]}}: pads on the right to `width` characters."""
    text = text_arg(args[0])
    return text + _fill(count_arg(args[1], "a width") - len(text), text_of(hash.get("pad", " ")))


def _rjust(args: list, hash: dict, call: Any) -> str:
    """{{rjust value width [pad=" "]}}: pads on the left to `width` characters."""
    text = text_arg(args[0])
    return _fill(count_arg(args[1], "a width") - len(text), text_of(hash.get("pad", " "))) + text


def _cut(args: list, hash: dict, call: Any) -> str:
    """{{cut value ["x"]}}: removes every occurrence of the text (a space by default)."""
    target = text_arg(args[1]) if len(args) > 1 else " "
    return text_arg(args[0]).replace(target, "") if target else text_arg(args[0])


def _date_format(args: list, hash: dict, call: Any) -> str:
    """{{dateFormat date ["format"] [inputFormat=] [outputFormat=|format=] [tz=]}}: medium (MMM d, yyyy) by default."""
    output = hash.get("outputFormat", hash.get("format", args[1] if len(args) > 1 else None))
    return format_date(
        one(args[0]),
        output=text_arg(output) or None,
        input_format=text_arg(hash.get("inputFormat")) or None,
        zone=text_arg(hash.get("tz")) or None,
    )


def _now(args: list, hash: dict, call: Any) -> str:
    """{{now ["format"] [tz=]}}: the time of the render (one instant for the whole message)."""
    output = hash.get("format", args[0] if args else None)
    tz = zone_named(text_arg(hash.get("tz")) or None)
    return date_text(call.now.astimezone(tz), text_arg(output) or None)


def _inflect(args: list, hash: dict, call: Any) -> str:
    """{{inflect count singular plural [includeCount]}}: singular for a count of 1, else plural ("3 apples")."""
    count = number_arg(args[0], "a count")
    word = text_arg(args[1]) if count == 1 else text_arg(args[2])
    include = hash.get("includeCount", args[3] if len(args) > 3 else False)
    return f"{number_text(count)} {word}" if truthy(include) and text_arg(include) != "false" else word


def _join(args: list, hash: dict, call: Any) -> str:
    """{{join list " // " [prefix=""] [suffix=""]}}: items of the lists given, separated by the last argument."""
    separator = text_arg(args[-1]) if len(args) > 1 else ","
    items: list = []
    for value in args[:-1] if len(args) > 1 else args:
        items.extend(value[:] if isinstance(value, (list, tuple)) else [value])
    joined = separator.join(text_of(item) for item in items if item is not None)
    return text_of(hash.get("prefix", "")) + joined + text_of(hash.get("suffix", ""))


def _ordinalize(args: list, hash: dict, call: Any) -> str:
    """{{ordinalize 22}} -> 22nd (whole numbers only)."""
    number = number_arg(args[0])
    if number != int(number):
        raise HelperError(f"needs a whole number, got {number_text(number)}")
    number = int(number)
    tens, units = abs(number) % 100, abs(number) % 10
    suffix = "th" if 11 <= tens <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(units, "th")
    return f"{number}{suffix}"


def _slugify(args: list, hash: dict, call: Any) -> str:
    """Lower-case ASCII words joined by hyphens: "Los Angeles!" -> "los-angeles"."""
    text = unicodedata.normalize("NFKD", text_arg(args[0])).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _substring(args: list, hash: dict, call: Any) -> str:
    """{{substring value start [end]}}: characters from start up to, not including, end."""
    text = text_arg(args[0])
    start = count_arg(args[1], "a start offset")
    end = count_arg(args[2], "an end offset") if len(args) > 2 else len(text)
    return text[start:end]


def _yesno(args: list, hash: dict, call: Any) -> str:
    """{{yesno value [yes=] [no=] [maybe=]}}: true -> yes, false -> no, missing -> maybe ("true"/"false" text too)."""
    value = one(args[0])
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        value = value.strip().lower() == "true"
    if value is None or value == "":
        return text_of(hash.get("maybe", "maybe"))
    return text_of(hash.get("yes", "yes")) if truthy(value) else text_of(hash.get("no", "no"))


def _text_helper(transform: Callable[[str], str]) -> Callable[[list, dict, Any], str]:
    return lambda args, hash, call: transform(text_arg(args[0]))


# --- math and encoding --------------------------------------------------------------------------------------


def _arithmetic(operate: Callable[[Any, Any], Any]) -> Callable[[list, dict, Any], Any]:
    def helper(args: list, hash: dict, call: Any) -> Any:
        return operate(number_arg(args[0]), number_arg(args[1]))

    return helper


def _divide(a: float, b: float) -> float:
    if b == 0:
        raise HelperError("cannot divide by zero")
    return a / b


def _modulo(a: float, b: float) -> float:
    """Java's remainder: the sign follows the dividend."""
    if b == 0:
        raise HelperError("cannot take a remainder by zero")
    return math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else int(math.fmod(a, b))


def _round_half_up(args: list, hash: dict, call: Any) -> int:
    return math.floor(number_arg(args[0]) + 0.5)


def _decode64(args: list, hash: dict, call: Any) -> str:
    text = text_arg(args[0]).strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise HelperError(f"{text[:40]!r} is not Base64") from None
    return raw.decode("utf-8", errors="replace")


def _digest(name: str) -> Callable[[list, dict, Any], str]:
    return lambda args, hash, call: hashlib.new(name, text_arg(args[0]).encode("utf-8")).hexdigest()


def _encode64(args: list, hash: dict, call: Any) -> str:
    return base64.b64encode(text_arg(args[0]).encode("utf-8")).decode("ascii")


# --- the registry -------------------------------------------------------------------------------------------


def _spec(fn: Callable, least: int, most: int | None, **options: Any) -> HelperSpec:
    return HelperSpec(fn, least, most, **options)


_DATE_WORDS = frozenset({"tz"})

HELPERS: dict[str, HelperSpec] = {
    "each": _spec(_each, 1, 1, inline=False, block=True),
    "if": _spec(_conditional(_if_test), 1, 3, block=True),
    "and": _spec(_conditional(lambda args: all(truthy(a) for a in args)), 1, None, block=True),
    "or": _spec(_conditional(lambda args: any(truthy(a) for a in args)), 1, None, block=True),
    "not": _spec(_conditional(lambda args: not truthy(args[0])), 1, 1, block=True),
    "eq": _spec(_conditional(_equal), 2, 2, block=True),
    "neq": _spec(_conditional(lambda args: not _equal(args)), 2, 2, block=True),
    "gt": _spec(_conditional(_compare(lambda order: order > 0)), 2, 2, block=True),
    "gte": _spec(_conditional(_compare(lambda order: order >= 0)), 2, 2, block=True),
    "lt": _spec(_conditional(_compare(lambda order: order < 0)), 2, 2, block=True),
    "lte": _spec(_conditional(_compare(lambda order: order <= 0)), 2, 2, block=True),
    "abbreviate": _spec(_abbreviate, 2, 2),
    "capitalize": _spec(_capitalize, 1, 1),
    "capitalizeFirst": _spec(_capitalize_first, 1, 1),
    "center": _spec(_center, 1, 2),
    "cut": _spec(_cut, 1, 2),
    "dateFormat": _spec(_date_format, 1, 2, barewords=_DATE_WORDS),
    "inflect": _spec(_inflect, 3, 4, barewords=frozenset({1, 2})),
    "join": _spec(_join, 1, None),
    "ljust": _spec(_ljust, 2, 2),
    "lower": _spec(_text_helper(str.lower), 1, 1),
    "now": _spec(_now, 0, 1, barewords=_DATE_WORDS),
    "ordinalize": _spec(_ordinalize, 1, 1),
    "replace": _spec(lambda args, hash, call: text_arg(args[0]).replace(text_arg(args[1]), text_arg(args[2])), 3, 3),
    "rjust": _spec(_rjust, 2, 2),
    "slugify": _spec(_slugify, 1, 1),
    "stripTags": _spec(_text_helper(lambda text: re.sub(r"<[^>]*>", "", text)), 1, 1),
    "substring": _spec(_substring, 2, 3),
    "upper": _spec(_text_helper(str.upper), 1, 1),
    "yesno": _spec(_yesno, 1, 1),
    "add": _spec(_arithmetic(lambda a, b: a + b), 2, 2),
    "subtract": _spec(_arithmetic(lambda a, b: a - b), 2, 2),
    "multiply": _spec(_arithmetic(lambda a, b: a * b), 2, 2),
    "divide": _spec(_arithmetic(_divide), 2, 2),
    "modulo": _spec(_arithmetic(_modulo), 2, 2),
    "ceiling": _spec(lambda args, hash, call: math.ceil(number_arg(args[0])), 1, 1),
    "floor": _spec(lambda args, hash, call: math.floor(number_arg(args[0])), 1, 1),
    "round": _spec(_round_half_up, 1, 1),
    "encode64": _spec(_encode64, 1, 1),
    "decode64": _spec(_decode64, 1, 1),
    "md5": _spec(_digest("md5"), 1, 1),
    "sha256": _spec(_digest("sha256"), 1, 1),
    "sha512": _spec(_digest("sha512"), 1, 1),
    "uuid": _spec(lambda args, hash, call: str(uuid.uuid4()), 0, 0),
}
