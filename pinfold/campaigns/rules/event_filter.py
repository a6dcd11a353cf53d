"""Which event records trigger an event-based campaign: its Schedule.EventFilter, compiled once.

FilterType ENDPOINT matches events an app reported through PutEvents (custom events, `_session.*`,
`_monetization.*`, ...); SYSTEM matches the events Pinfold itself records for messages (`_email.*`,
`_SMS.*`, `_campaign.*`, ...). Dimensions follow the segment rules: EventType is a SetDimension
(INCLUSIVE by default), each attribute an AttributeDimension over the event's attribute value, each
metric a MetricDimension over the event's metric. Every dimension given must match.

Only an endpoint can be messaged, so a record whose client is not an endpoint (an email sent to a
bare address names its message instead) never triggers. A campaign's own messages never trigger that
campaign again, so a filter on `_email.delivered` cannot feed itself (Pinfold's rule; AWS leaves only
the daily cap between such a campaign and a loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pinfold.audience.rules.segments import attribute_test, metric_test
from pinfold.core.errors import InvalidInput

SYSTEM_PREFIXES = ("_email.", "_SMS.", "_campaign.", "_journey.", "_push.", "_inapp.", "_custom.", "_voice.")
FILTER_TYPES = ("SYSTEM", "ENDPOINT")


@dataclass(frozen=True)
class EventFilter:
    filter_type: str
    types: frozenset[str]
    exclude_types: bool
    attributes: tuple[tuple[str, Callable[[list], bool]], ...]
    metrics: tuple[tuple[str, Callable[[object], bool]], ...]

    def may_match(self, event_type: str) -> bool:
        """The cheap test on the event type alone (the pump asks it of every record)."""
        if is_system(event_type) != (self.filter_type == "SYSTEM"):
            return False
        if not self.types:
            return True
        return (event_type in self.types) != self.exclude_types

    def matches(self, record: dict) -> bool:
        if not self.may_match(record.get("event_type") or ""):
            return False
        attributes, metrics = record.get("attributes") or {}, record.get("metrics") or {}
        for name, test in self.attributes:
            value = attributes.get(name)
            if not test([value] if isinstance(value, str) else []):
                return False
        return all(test(metrics.get(name)) for name, test in self.metrics)


def is_system(event_type: str) -> bool:
    return event_type.startswith(SYSTEM_PREFIXES)


def compile_filter(spec: object, where: str = "Schedule.EventFilter") -> EventFilter:
    """The filter of a CampaignEventFilter; InvalidInput naming the member that is wrong."""
    if not isinstance(spec, dict):
        raise InvalidInput(f"{where} is required for an EVENT campaign", field=where)
    filter_type = spec.get("FilterType")
    if filter_type not in FILTER_TYPES:
        raise InvalidInput(f"{where}.FilterType must be SYSTEM or ENDPOINT", field=f"{where}.FilterType")
    dimensions = spec.get("Dimensions")
    if not isinstance(dimensions, dict):
        raise InvalidInput(f"{where}.Dimensions is required", field=f"{where}.Dimensions")
    types, exclude = _event_types(dimensions.get("EventType"), f"{where}.Dimensions.EventType")
    attributes = _named(dimensions.get("Attributes"), f"{where}.Dimensions.Attributes", attribute_test)
    metrics = _named(dimensions.get("Metrics"), f"{where}.Dimensions.Metrics", metric_test)
    return EventFilter(filter_type, types, exclude, attributes, metrics)


def _event_types(spec: object, where: str) -> tuple[frozenset[str], bool]:
    if spec is None:
        return frozenset(), False
    if not isinstance(spec, dict):
        raise InvalidInput(f"{where} must be a SetDimension", field=where)
    kind = spec.get("DimensionType") or "INCLUSIVE"
    if kind not in ("INCLUSIVE", "EXCLUSIVE"):
        raise InvalidInput(f"{where}.DimensionType must be INCLUSIVE or EXCLUSIVE", field=f"{where}.DimensionType")
    values = spec.get("Values")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise InvalidInput(f"{where}.Values must be a non-empty list of event types", field=f"{where}.Values")
    return frozenset(values), kind == "EXCLUSIVE"


def _named(spec: object, where: str, compile_one: Callable) -> tuple:
    if spec is None:
        return ()
    if not isinstance(spec, dict):
        raise InvalidInput(f"{where} must be a map", field=where)
    return tuple((name, compile_one(dimension, f"{where}.{name}")) for name, dimension in spec.items())
