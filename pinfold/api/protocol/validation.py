"""Per-shape decoders compiled once: JSON-decoded request values in, validated Python values out.

Decoding and validation happen in one walk. A failure raises FieldError, which collects its field
path while unwinding, so the happy path never builds path strings.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from botocore.model import ServiceModel, Shape, StructureShape

from pinfold.api.protocol.timestamps import parse_timestamp
from pinfold.core.errors import InvalidInput

Decoder = Callable[[Any], Any]
_FLOAT_WORDS = {"NaN", "Infinity", "-Infinity"}  # how botocore sends non-finite floats


class FieldError(Exception):
    """A value broke a rule; the message is `before + field + after`, the path grows innermost first."""

    def __init__(self, before: str, after: str = "") -> None:
        super().__init__(before + after)
        self.before = before
        self.after = after
        self.path: list[str | int] = []

    def at(self, part: str | int) -> FieldError:
        """Prefix the path with a member name, map key or list index, and return self for re-raising."""
        self.path.append(part)
        return self

    @property
    def field(self) -> str:
        text = ""
        for part in reversed(self.path):
            if isinstance(part, int):
                text += f"[{part}]"
            else:
                text += f".{part}" if text else part
        return text

    def to_invalid_input(self) -> InvalidInput:
        field = self.field
        return InvalidInput(f"{self.before}{field}{self.after}", field=field or None)


def missing(name: str) -> FieldError:
    return FieldError("Missing required parameter: ").at(name)


@functools.cache
def _compiled_pattern(pattern: str | None) -> re.Pattern | None:
    """The pattern compiled with Python's re, or None when absent or written in a dialect re rejects."""
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _plural(count: int | float, noun: str) -> str:
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {noun[:-1]}ies" if noun.endswith("y") else f"{count} {noun}s"


def _size_checker(shape: Shape, noun: str) -> Callable[[int], None] | None:
    """A check of a length or item count against the shape's min/max, or None when unconstrained."""
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if not low and high is None:
        return None

    def check(size: int) -> None:
        if low and size < low:
            raise FieldError("", f" must be at least {_plural(low, noun)}")
        if high is not None and size > high:
            raise FieldError("", f" must be at most {_plural(high, noun)}")

    return check


def _range_checker(shape: Shape) -> Callable[[int | float], None] | None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is None and high is None:
        return None

    def check(number: int | float) -> None:
        if low is not None and number < low:
            raise FieldError("", f" must be at least {low}")
        if high is not None and number > high:
            raise FieldError("", f" must be at most {high}")

    return check


def _plain_string(value: Any) -> str:
    if isinstance(value, str):
        if "\x00" in value:  # no AWS string carries NUL, and PostgreSQL text cannot store it
            raise FieldError("", " must not contain the NUL character")
        return value
    raise FieldError("", " must be a string")


def _string(shape: Shape) -> Decoder:
    allowed = frozenset(shape.enum) if shape.enum else None
    size = _size_checker(shape, "character")
    pattern = _compiled_pattern(shape.metadata.get("pattern"))
    if allowed is None and size is None and pattern is None:
        return _plain_string
    choices = ", ".join(shape.enum)

    def decode(value: Any) -> str:
        _plain_string(value)
        if allowed is not None:
            if value in allowed:
                return value
            raise FieldError("Invalid value for ", f": {value!r}; must be one of {choices}")
        if size is not None:
            size(len(value))
        if pattern is not None and pattern.search(value) is None:
            raise FieldError("", f" must match the pattern {pattern.pattern}")
        return value

    return decode


# Smithy's integer is 32 bits and its long 64; a model min/max narrows these further.
_WIDTHS = {"integer": 32, "long": 64}


def _integer(shape: Shape) -> Decoder:
    check = _range_checker(shape)
    bits = _WIDTHS.get(shape.type_name, 64)
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def decode(value: Any) -> int:
        if type(value) is not int:
            if type(value) is float and value.is_integer():
                value = int(value)
            else:
                raise FieldError("", " must be an integer")
        if not low <= value <= high:
            raise FieldError("", f" must be a {bits}-bit integer")
        if check is not None:
            check(value)
        return value

    return decode


def _float(shape: Shape) -> Decoder:
    check = _range_checker(shape)

    def decode(value: Any) -> float:
        if type(value) in (int, float) or (type(value) is str and value in _FLOAT_WORDS):
            value = float(value)
        else:
            raise FieldError("", " must be a number")
        if check is not None:
            check(value)
        return value

    return decode


def _boolean(shape: Shape) -> Decoder:
    def decode(value: Any) -> bool:
        if type(value) is bool:
            return value
        raise FieldError("", " must be a boolean")

    return decode


def _timestamp(shape: Shape) -> Decoder:
    def decode(value: Any):
        if type(value) in (int, float, str):
            try:
                return parse_timestamp(value)
            except ValueError:
                pass
        raise FieldError("", " must be a timestamp (epoch seconds or ISO 8601)")

    return decode


def _blob(shape: Shape) -> Decoder:
    size = _size_checker(shape, "byte")

    def decode(value: Any) -> bytes:
        if not isinstance(value, str):
            raise FieldError("", " must be a base64-encoded string")
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise FieldError("", " must be a base64-encoded string") from None
        if size is not None:
            size(len(data))
        return data

    return decode


def _document(value: Any) -> Any:
    return value


def _first_failure(decode: Decoder, pairs: Iterable[tuple[Any, Any]]) -> Any:
    """The position whose value `decode` rejects; used only after a bulk decode has already failed."""
    for position, value in pairs:
        try:
            decode(value)
        except FieldError:
            return position
    return "?"


_SCALARS: dict[str, Callable[[Shape], Decoder]] = {
    "string": _string,
    "integer": _integer,
    "long": _integer,
    "float": _float,
    "double": _float,
    "boolean": _boolean,
    "timestamp": _timestamp,
    "blob": _blob,
}


class ShapeDecoders:
    """Decoders for one service model, compiled on first use and cached by shape name."""

    def __init__(self) -> None:
        self._cache: dict[str, Decoder] = {}
        self._building: set[str] = set()

    def for_shape(self, shape: Shape) -> Decoder:
        """The cached decoder for `shape`; a recursive reference gets a late-bound forwarder."""
        decoder = self._cache.get(shape.name)
        if decoder is not None:
            return decoder
        if shape.name in self._building:
            cache, name = self._cache, shape.name
            return lambda value: cache[name](value)
        self._building.add(shape.name)
        try:
            decoder = self._compile(shape)
        finally:
            self._building.discard(shape.name)
        self._cache[shape.name] = decoder
        return decoder

    def _compile(self, shape: Shape) -> Decoder:
        kind = shape.type_name
        if kind == "structure":
            return self.structure(shape)
        if kind == "list":
            return self._list(shape)
        if kind == "map":
            return self._map(shape)
        return _SCALARS.get(kind, lambda _shape: _document)(shape)

    def structure(
        self,
        shape: StructureShape,
        names: Iterable[str] | None = None,
        *,
        check_required: bool = True,
    ) -> Decoder:
        """A decoder for `shape` limited to `names` (all members by default); unknown keys are ignored."""
        if shape.is_document_type:
            return _document
        wanted = list(shape.members if names is None else names)
        by_wire = self._by_wire_name(shape, wanted)
        required = tuple(r for r in shape.required_members if r in wanted) if check_required else ()
        union = shape.is_tagged_union

        lookup = by_wire.get

        def decode(value: Any) -> dict:
            if type(value) is not dict:
                raise FieldError("", " must be an object")
            out = {}
            for key, item in value.items():
                entry = lookup(key)
                if entry is None or item is None:
                    continue
                name, member_decoder = entry
                try:
                    out[name] = member_decoder(item)
                except FieldError as err:
                    err.at(name)
                    raise
            for name in required:
                if name not in out:
                    raise missing(name)
            if union and len(out) != 1:
                raise FieldError("", " must have exactly one member set")
            return out

        return decode

    def _by_wire_name(
        self, shape: StructureShape, names: list[str]
    ) -> dict[str, tuple[str, Decoder]]:
        """Body key -> (member name, decoder); the model name is accepted too, a wire name wins."""
        members = shape.members
        by_wire = {name: (name, self.for_shape(members[name])) for name in names}
        for name in names:
            by_wire[members[name].serialization.get("name", name)] = by_wire[name]
        return by_wire

    def _list(self, shape: Shape) -> Decoder:
        item = self.for_shape(shape.member)
        size = _size_checker(shape, "item")

        def decode(value: Any) -> list:
            if type(value) is not list:
                raise FieldError("", " must be a list")
            if size is not None:
                size(len(value))
            try:
                return [item(x) for x in value]
            except FieldError as err:
                err.at(_first_failure(item, enumerate(value)))
                raise

        return decode

    def _map(self, shape: Shape) -> Decoder:
        key_decoder = self.for_shape(shape.key)
        value_decoder = self.for_shape(shape.value)
        size = _size_checker(shape, "entry")

        def pair(entry: tuple[Any, Any]) -> None:
            key_decoder(entry[0])
            value_decoder(entry[1])

        def decode(value: Any) -> dict:
            if type(value) is not dict:
                raise FieldError("", " must be an object")
            if size is not None:
                size(len(value))
            try:
                return {key_decoder(k): value_decoder(v) for k, v in value.items()}
            except FieldError as err:
                err.at(str(_first_failure(pair, ((k, (k, v)) for k, v in value.items()))))
                raise

        return decode


_BY_MODEL: weakref.WeakKeyDictionary[ServiceModel, ShapeDecoders] = weakref.WeakKeyDictionary()


def decoders_for(model: ServiceModel) -> ShapeDecoders:
    """The decoder cache belonging to `model` (created on first use, dropped with the model)."""
    decoders = _BY_MODEL.get(model)
    if decoders is None:
        decoders = _BY_MODEL.setdefault(model, ShapeDecoders())
    return decoders
