"""Hypothesis strategies for an operation's input, built from its botocore input shape.

Values mostly have the shape's types (so botocore can serialize them) but aim at the edges: NUL, lone
surrogates, digit-like characters such as '²', strings longer than any column, integers past 64
bits, dates at year 1 and 9999, and now and then a value of the wrong JSON type. Members named like
a resource the test created draw its name most of the time, so requests get past the "not found"
checks into the code behind them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from botocore.model import OperationModel, Shape
from hypothesis import strategies as st

EDGE_STRINGS = (
    "", " ", "\x00", "a\x00b", "²", "¹²³", "٣", "１２", "-1", "0", "1", "99", "1e3", "NaN",
    "99999999999999999999999", "0001-01-01", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "99999999999999d", "x" * 65, "x" * 129, "x" * 257, "x" * 5000, ";", "'\"", "../..", "%00", "%2F",
    "a/b", "null", "é✓😀", "\ud800", "\r\n", "*", "ALL", "a@b", "a@example.com", "example.com",
    # Template bodies are compiled and rendered: Handlebars edges.
    "{{a.²}}", "{{a.[99999999999999999999]}}", "{{#each a}}{{@index}}{{/each}}", "{{", "}}{{/if}}",
    "{{> missing}}", "{{#if}}{{/if}}", "{{formatDate a 'yyyy'}}", "{{a.9999999999999999999999.b}}",
)
EDGE_INTEGERS = (0, -1, 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63, -(2**63) - 1, 10**23)
EDGE_FLOATS = (0.0, -0.0, 1e308, -1e308, 1e-320, float("inf"), float("nan"))
EDGE_TIMES = (
    datetime(1, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
)
MAX_DEPTH = 5

# A value of another JSON type where a scalar belongs; botocore passes these through unchanged.
_WRONG_TYPES = st.sampled_from([5, 2.5, True, ["x"], {"k": "v"}, "", "1"])
_keys = st.one_of(st.sampled_from(EDGE_STRINGS), st.text(max_size=12))  # map keys: JSON keys are strings
_strings = st.one_of(_keys, _WRONG_TYPES)
_integers = st.one_of(st.integers(-3, 200), st.sampled_from(EDGE_INTEGERS), _WRONG_TYPES)
_floats = st.one_of(st.floats(-10, 1000), st.sampled_from(EDGE_FLOATS), _WRONG_TYPES)
_times = st.one_of(
    st.sampled_from(EDGE_TIMES),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)),
)
_documents = st.recursive(
    st.one_of(st.none(), st.booleans(), _integers, _strings),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_strings, inner, max_size=3)),
    max_leaves=6,
)


# Well-formed values, tried in order for a string shape until one fits its pattern and length.
_WELL_FORMED = ("fuzz-1", "a@example.com", "2026-11-26T10:00:00Z", "1", "+12065550100", "US", "EMAIL")
_NOW = datetime(2026, 11, 26, 10, tzinfo=UTC)


def _favouring(good: Sequence, other: st.SearchStrategy) -> st.SearchStrategy:
    """A well-formed value three times in four, else `other`; so most requests get past the first
    check and the one bad value meets the code behind it."""
    pick = st.sampled_from(list(good))
    return st.one_of(pick, pick, pick, other)


def _well_formed(name: str, shape: Shape) -> list[str]:
    """Values of a string shape that a careful client could send (by its pattern, length and name)."""
    pattern = shape.metadata.get("pattern")
    low, high = shape.metadata.get("min") or 0, shape.metadata.get("max") or 10**6
    hinted = ["a@example.com"] if name.endswith(("EmailAddress", "Address")) else []
    found = []
    for text in (*hinted, *_WELL_FORMED):
        if low <= len(text) <= high and (not pattern or _matches(pattern, text)):
            found.append(text)
    return found[:2]


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:  # a pattern in a dialect Python's re does not speak
        return True


class InputStrategies:
    """Strategies for one test world: `known` maps a member name to resource names that exist."""

    def __init__(self, known: Mapping[str, Sequence[str]]) -> None:
        self.known = known

    def for_operation(self, operation: OperationModel) -> st.SearchStrategy[dict]:
        if operation.input_shape is None:
            return st.just({})
        # A context parameter picks the endpoint (SES's EndpointId asks for SigV4a), it is not input.
        skip = {parameter.member_name for parameter in operation.context_parameters}
        return self._structure(operation.input_shape, 0, skip)

    def _value(self, name: str, shape: Shape, depth: int) -> st.SearchStrategy:
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape, depth + 1)
        if kind == "list":
            return st.lists(self._value(name, shape.member, depth + 1), max_size=3 if depth < MAX_DEPTH else 0)
        if kind == "map":
            values = self._value(name, shape.value, depth + 1)
            keys = _favouring(_well_formed("", shape.key) or ["k"], _keys)
            return st.dictionaries(keys, values, max_size=3 if depth < MAX_DEPTH else 0)
        if kind == "string":
            return self._string(name, shape)
        return _SCALARS.get(kind, _documents)

    def _string(self, name: str, shape: Shape) -> st.SearchStrategy:
        choices = list(self.known.get(name, ())) + list(shape.enum or ())
        return _favouring(choices or _well_formed(name, shape) or ["x"], _strings)

    def _structure(self, shape: Shape, depth: int, skip: frozenset[str] = frozenset()) -> st.SearchStrategy[dict]:
        if shape.is_document_type:
            return _documents
        members = {name: member for name, member in shape.members.items() if name not in skip}
        if shape.is_tagged_union:
            options = [st.fixed_dictionaries({name: self._value(name, member, depth)})
                       for name, member in members.items()]
            return st.one_of(*options) if options else st.just({})
        required = {name: self._value(name, members[name], depth) for name in shape.required_members}
        if depth >= MAX_DEPTH:
            return st.fixed_dictionaries(required)
        optional = {name: self._value(name, member, depth) for name, member in members.items()
                    if name not in required}
        return st.fixed_dictionaries(required, optional=optional)


_SCALARS = {
    "integer": _favouring([1, 5], _integers), "long": _favouring([1, 5], _integers),
    "float": _favouring([1.0], _floats), "double": _favouring([1.0], _floats),
    "boolean": st.booleans(), "timestamp": _favouring([_NOW], _times), "blob": st.binary(max_size=48),
}
