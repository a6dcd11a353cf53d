"""Segment definitions (a WriteSegmentRequest's Dimensions and SegmentGroups) compiled into predicates.

`compile_segment` validates a definition once and returns a `SegmentRule` whose `matches` does no
parsing: dates, value sets and coordinates are prepared up front, because a rule runs over every
endpoint of a project. No I/O; source segments are resolved by the caller through `in_source`.
Longer than most modules: every dimension kind (demographic, location, behavior, attributes,
metrics, groups) compiles through the same few helpers, one short section each.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from pinfold.core.errors import InvalidInput, LimitExceeded

MAX_DIMENSIONS = 100  # individual criteria across the whole segment, top level and every group
MAX_VALUES = 100  # console rule: Values entries "between all groups, criteria, and filters"
MAX_VALUE_LENGTH = 100
# The API documents no default for GPSPoint.RangeInKilometers; Pinfold uses 100 km when it is absent.
DEFAULT_RANGE_KM = 100.0
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)

SourceLookup = Callable[[str, int | None, dict], bool]
Predicate = Callable[[dict, datetime, SourceLookup], bool]

_MODES = ("ALL", "ANY", "NONE")
_ATTRIBUTE_TYPES = ("INCLUSIVE", "EXCLUSIVE", "CONTAINS", "BEFORE", "AFTER", "ON", "BETWEEN")
_INSTANT_TYPES = frozenset(("BEFORE", "AFTER", "ON", "BETWEEN"))
_SET_TYPES = ("INCLUSIVE", "EXCLUSIVE")
_RECENCY_SPANS = {"HR_24": timedelta(hours=24), "DAY_7": timedelta(days=7),
                  "DAY_14": timedelta(days=14), "DAY_30": timedelta(days=30)}
_COMPARISONS = {"GREATER_THAN": operator.gt, "LESS_THAN": operator.lt, "GREATER_THAN_OR_EQUAL": operator.ge,
                "LESS_THAN_OR_EQUAL": operator.le, "EQUAL": operator.eq}
_DIMENSION_MEMBERS = ("Attributes", "UserAttributes", "Metrics", "Demographic", "Location", "Behavior")
_SECTION_MEMBERS = {"Demographic": ("AppVersion", "Channel", "DeviceType", "Make", "Model", "Platform"),
                    "Location": ("Country", "GPSPoint"), "Behavior": ("Recency",)}


@dataclass(frozen=True)
class Narrowing:
    """Conditions every member of a segment must meet, in a form an index can answer.

    A store may use them to pick candidates; the rule's `matches` still decides membership, so a
    narrowing only has to be implied by the definition, never to be the whole of it.
    """

    attribute_values: tuple[tuple[str, frozenset[str]], ...] = ()  # (field, values): one of them is held
    active_within: timedelta | None = None  # EffectiveDate at or after now minus this

    def since(self, now: datetime) -> datetime | None:
        return None if self.active_within is None else now - self.active_within


@dataclass(frozen=True)
class SegmentRule:
    """A compiled segment definition."""

    source_segments: tuple[tuple[str, int | None], ...]  # every (Id, Version) referenced, first-seen order
    _predicate: Predicate = field(repr=False, compare=False)
    narrowing: Narrowing = Narrowing()

    def matches(self, endpoint: dict, *, now: datetime, in_source: SourceLookup) -> bool:
        """True if `endpoint` is in the segment at `now` (naive means UTC); `in_source` answers for sources."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return self._predicate(endpoint, now, in_source)


def compile_segment(definition: dict) -> SegmentRule:
    """Validate a WriteSegmentRequest's Dimensions and SegmentGroups and compile them into a rule."""
    definition = _mapping(definition, "WriteSegmentRequest", required=True)
    _check_limits(definition)
    references: list[tuple[str, int | None]] = []
    parts = []
    # Top-level dimensions first: they are pure, while groups may call the caller's in_source.
    if definition.get("Dimensions") is not None:
        parts.append(_compile_dimensions(definition["Dimensions"], "Dimensions"))
    if definition.get("SegmentGroups") is not None:
        parts.append(_compile_groups(definition["SegmentGroups"], references))
    return SegmentRule(source_segments=tuple(dict.fromkeys(references)), _predicate=_all_of(parts),
                       narrowing=_narrowing(definition))


def count_dimensions(definition: dict) -> int:
    """How many individual criteria the definition holds, top level and every group together."""
    return sum(1 for _ in _all_criteria(definition))


def _check_limits(definition: dict) -> None:
    count = count_dimensions(definition)
    if count > MAX_DIMENSIONS:
        raise LimitExceeded(f"Segment dimension limit exceeded: a segment can have at most {MAX_DIMENSIONS} "
                            f"dimensions across Dimensions and SegmentGroups; this one has {count}")
    values = 0
    for _kind, _name, spec, _field in _all_criteria(definition):
        listed = spec.get("Values") if isinstance(spec, dict) else None
        values += len(listed) if isinstance(listed, list) else 0
    if values > MAX_VALUES:
        raise LimitExceeded(f"Segment values limit exceeded: a segment can have at most {MAX_VALUES} values "
                            f"across all groups, criteria and filters; this one has {values}")


# --- walking a definition -------------------------------------------------------------------------

def _all_criteria(definition: dict) -> Iterator[tuple[str, str, object, str]]:
    """(section, name, spec, field) of every criterion, top level first, then group by group."""
    if definition.get("Dimensions") is not None:
        yield from _criteria(definition["Dimensions"], "Dimensions")
    groups = _mapping(definition.get("SegmentGroups"), "SegmentGroups").get("Groups")
    for g_index, group in enumerate(_list(groups, "SegmentGroups.Groups")):
        where = f"SegmentGroups.Groups[{g_index}]"
        dimension_sets = _mapping(group, where, required=True).get("Dimensions")
        for d_index, dimensions in enumerate(_list(dimension_sets, f"{where}.Dimensions")):
            yield from _criteria(dimensions, f"{where}.Dimensions[{d_index}]")


def _criteria(dimensions: object, where: str) -> Iterator[tuple[str, str, object, str]]:
    """(section, name, spec, field) of each criterion in one SegmentDimensions."""
    dimensions = _mapping(dimensions, where, _DIMENSION_MEMBERS, required=True)
    for section in ("Attributes", "UserAttributes", "Metrics"):
        for name, spec in _mapping(dimensions.get(section), f"{where}.{section}").items():
            yield section, name, spec, f"{where}.{section}.{name}"
    for section, members in _SECTION_MEMBERS.items():
        holder = _mapping(dimensions.get(section), f"{where}.{section}", members)
        for name in members:
            if holder.get(name) is not None:
                yield section, name, holder[name], f"{where}.{section}.{name}"


# --- narrowing -------------------------------------------------------------------------------------

def _narrowing(definition: dict) -> Narrowing:
    """The INCLUSIVE attribute and ACTIVE recency criteria that every member must meet.

    Only criteria joined by ALL all the way up count (ANY over a single part is that part), so each
    one found is implied by the whole definition. Called after validation.
    """
    criteria = list(_criteria(definition["Dimensions"], "")) if definition.get("Dimensions") is not None else []
    groups = definition.get("SegmentGroups") or {}
    listed = groups.get("Groups") or []
    if _joined_by_all(groups.get("Include"), listed):
        for group in listed:
            filters = group.get("Dimensions") or []
            if _joined_by_all(group.get("Type"), filters):
                for dimensions in filters:
                    criteria += _criteria(dimensions, "")
    values, spans = [], []
    for section, name, spec, _where in criteria:
        if section in ("Attributes", "UserAttributes") and spec.get("AttributeType", "INCLUSIVE") == "INCLUSIVE":
            values.append((f"{section}.{name}", frozenset(spec["Values"])))
        elif section == "Behavior" and spec["RecencyType"] == "ACTIVE":
            spans.append(_RECENCY_SPANS[spec["Duration"]])
    return Narrowing(tuple(values), min(spans, default=None))


def _joined_by_all(mode: str | None, parts: list) -> bool:
    """True when every one of `parts` must hold: ALL (the default), or ANY of a single part."""
    return (mode or "ALL") == "ALL" or (mode == "ANY" and len(parts) == 1)


# --- compiling --------------------------------------------------------------------------------------

def _compile_groups(spec: object, references: list) -> Predicate:
    spec = _mapping(spec, "SegmentGroups", ("Groups", "Include"), required=True)
    include = _enum(spec.get("Include"), _MODES, "ALL", "SegmentGroups.Include")
    groups = [_compile_group(group, f"SegmentGroups.Groups[{index}]", references)
              for index, group in enumerate(_list(spec.get("Groups"), "SegmentGroups.Groups"))]
    return _combine(groups, include)


def _compile_group(group: object, where: str, references: list) -> Predicate:
    """A group's audience: its base (source segments by SourceType) filtered by its Dimensions by Type."""
    group = _mapping(group, where, ("Dimensions", "SourceSegments", "SourceType", "Type"), required=True)
    combine_as = _enum(group.get("Type"), _MODES, "ALL", f"{where}.Type")
    source_type = _enum(group.get("SourceType"), _MODES, "ANY", f"{where}.SourceType")
    filters = [_compile_dimensions(dimensions, f"{where}.Dimensions[{index}]")
               for index, dimensions in enumerate(_list(group.get("Dimensions"), f"{where}.Dimensions"))]
    sources = [_reference(ref, f"{where}.SourceSegments[{index}]")
               for index, ref in enumerate(_list(group.get("SourceSegments"), f"{where}.SourceSegments"))]
    references.extend(sources)
    # Filters before the base: they are pure and cheap, in_source may not be.
    return _all_of([_combine(filters, combine_as), _base(tuple(sources), source_type)])


def _reference(ref: object, where: str) -> tuple[str, int | None]:
    ref = _mapping(ref, where, ("Id", "Version"), required=True)
    segment_id, version = ref.get("Id"), ref.get("Version")
    if not isinstance(segment_id, str) or not segment_id:
        raise InvalidInput(f"{where}.Id must be a non-empty string", field=f"{where}.Id")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        raise InvalidInput(f"{where}.Version must be a positive integer", field=f"{where}.Version")
    return segment_id, version


def _base(sources: tuple[tuple[str, int | None], ...], source_type: str) -> Predicate:
    """Membership in the source segments; no sources means every endpoint. NONE: in none of them."""
    if not sources:
        return _always

    def in_any(endpoint: dict, now: datetime, in_source: SourceLookup) -> bool:
        return any(in_source(segment_id, version, endpoint) for segment_id, version in sources)

    def in_all(endpoint: dict, now: datetime, in_source: SourceLookup) -> bool:
        return all(in_source(segment_id, version, endpoint) for segment_id, version in sources)

    return {"ANY": in_any, "ALL": in_all, "NONE": _negate(in_any)}[source_type]


def _compile_dimensions(dimensions: object, where: str) -> Predicate:
    """All criteria of one SegmentDimensions must hold; the cheapest are tried first."""
    leaves = [_leaf(section, name, spec, path) for section, name, spec, path in _criteria(dimensions, where)]
    leaves.sort(key=lambda leaf: leaf[0])
    return _all_of([predicate for _cost, predicate in leaves])


def _leaf(section: str, name: str, spec: object, where: str) -> tuple[int, Predicate]:
    """(relative cost, predicate) for one criterion; costlier ones parse endpoint dates or do trigonometry."""
    if section in ("Attributes", "UserAttributes"):
        predicate = _attribute(section, name, *_attribute_test(spec, where))
        return (2 if spec.get("AttributeType") in _INSTANT_TYPES else 0), predicate
    if section == "Metrics":
        return 0, _metric(name, spec, where)
    if section == "Behavior":
        return 2, _recency(spec, where)
    if name == "GPSPoint":
        return 1, _gps_point(spec, where)
    if name == "Channel":  # compares the endpoint's ChannelType, not a Demographic member
        return 0, _set_member(spec, where, None, "ChannelType")
    # DeviceType is not in Pinpoint's endpoint model: endpoints without Demographic.DeviceType never
    # match INCLUSIVE and always match EXCLUSIVE, like any other missing member.
    return 0, _set_member(spec, where, section, "Country" if section == "Location" else name)


def _attribute(section: str, name: str, test: Callable[[list], bool], meaning_match: bool) -> Predicate:
    """Apply `test` to the endpoint's values for `name` (empty when it has none); `meaning_match` is a match."""
    of_user = section == "UserAttributes"

    # Reading and testing in one closure: this is the hottest path, and each Python call costs.
    def check(endpoint: dict, now: datetime, in_source: SourceLookup) -> bool:
        holder = endpoint.get("User") if of_user else endpoint
        attributes = holder.get(section) if holder else None
        return test((attributes.get(name) or ()) if attributes else ()) == meaning_match
    return check


def _attribute_test(spec: object, where: str) -> tuple[Callable[[list], bool], bool]:
    """(test over an endpoint's values, the test result that means a match) for one AttributeDimension."""
    spec = _mapping(spec, where, ("AttributeType", "Values"), required=True)
    kind = _enum(spec.get("AttributeType"), _ATTRIBUTE_TYPES, "INCLUSIVE", f"{where}.AttributeType")
    values = _values(spec, where)
    if kind in _SET_TYPES:  # a C-level set test, negated through the expected result rather than a lambda
        return frozenset(values).isdisjoint, kind == "EXCLUSIVE"
    if kind == "CONTAINS":
        needles = tuple(values)
        return (lambda found: any(needle in value for value in found for needle in needles)), True
    return _instant_test(kind, values, f"{where}.Values"), True


def attribute_test(spec: object, where: str) -> Callable[[list], bool]:
    """One AttributeDimension as a test over a list of values, True when they match it (event
    filters use the segment rules for an event's attributes)."""
    test, meaning_match = _attribute_test(spec, where)
    return lambda values: test(values) == meaning_match


def metric_test(spec: object, where: str) -> Callable[[object], bool]:
    """One MetricDimension as a test over a measured value (None when absent: no match)."""
    check = _metric("value", spec, where)
    return lambda value: check({"Metrics": {"value": value}}, None, None)


def _instant_test(kind: str, values: list[str], where: str) -> Callable[[list], bool]:
    """BEFORE/AFTER/ON use Values[0]; BETWEEN takes exactly [low, high], both inclusive."""
    bounds = [_definition_instant(value, f"{where}[{index}]") for index, value in enumerate(values)]
    first = bounds[0]
    if kind == "BEFORE":
        return _any_instant(lambda moment: moment < first)
    if kind == "AFTER":
        return _any_instant(lambda moment: moment > first)
    if kind == "ON":  # the same UTC calendar day; the time of Values[0] is ignored
        start = datetime.combine(first.astimezone(UTC).date(), time(), UTC)
        end = start + timedelta(days=1)
        return _any_instant(lambda moment: start <= moment < end)
    if len(bounds) != 2:
        raise InvalidInput(f"{where} must hold exactly two instants for BETWEEN", field=where)
    low, high = bounds
    if low > high:
        raise InvalidInput(f"{where}[0] must not be later than {where}[1] for BETWEEN", field=where)
    return _any_instant(lambda moment: low <= moment <= high)


def _any_instant(accept: Callable[[datetime], bool]) -> Callable[[list], bool]:
    """True if some endpoint value parses as an instant that `accept`s; unparseable values never do."""
    def test(found: list) -> bool:
        for text in found:
            moment = _instant(text)
            if moment is not None and accept(moment):
                return True
        return False
    return test


def _metric(name: str, spec: object, where: str) -> Predicate:
    spec = _mapping(spec, where, ("ComparisonOperator", "Value"), required=True)
    compare = _COMPARISONS[_enum(spec.get("ComparisonOperator"), tuple(_COMPARISONS), None,
                                 f"{where}.ComparisonOperator")]
    target = _number(spec.get("Value"), f"{where}.Value")

    def check(endpoint: dict, now: datetime, in_source: SourceLookup) -> bool:
        metrics = endpoint.get("Metrics")
        measured = metrics.get(name) if metrics else None
        try:
            return measured is not None and compare(measured, target)
        except TypeError:  # a stored metric that is not a number never matches
            return False
    return check


def _set_member(spec: object, where: str, section: str | None, key: str) -> Predicate:
    """A SetDimension over endpoint[section][key] (endpoint[key] without a section), case-insensitive."""
    spec = _mapping(spec, where, ("DimensionType", "Values"), required=True)
    inclusive = _enum(spec.get("DimensionType"), _SET_TYPES, "INCLUSIVE", f"{where}.DimensionType") == "INCLUSIVE"
    wanted = frozenset(value.casefold() for value in _values(spec, where))

    def check(endpoint: dict, now: datetime, in_source: SourceLookup) -> bool:
        holder = endpoint.get(section) if section else endpoint
        value = holder.get(key) if holder else None
        return (isinstance(value, str) and value.casefold() in wanted) == inclusive
    return check


def _gps_point(spec: object, where: str) -> Predicate:
    """Haversine distance from Coordinates to the endpoint's Location at most RangeInKilometers."""
    spec = _mapping(spec, where, ("Coordinates", "RangeInKilometers"), required=True)
    coordinates = _mapping(spec.get("Coordinates"), f"{where}.Coordinates", ("Latitude", "Longitude"), required=True)
    latitude = math.radians(_number(coordinates.get("Latitude"), f"{where}.Coordinates.Latitude", -90, 90))
    longitude = math.radians(_number(coordinates.get("Longitude"), f"{where}.Coordinates.Longitude", -180, 180))
    kilometers = spec.get("RangeInKilometers")
    kilometers = DEFAULT_RANGE_KM if kilometers is None else _number(kilometers, f"{where}.RangeInKilometers", 0)
    # Compare the haversine term itself so matching needs no asin or sqrt; beyond half the
    # circumference every located endpoint is in range.
    central = kilometers / EARTH_RADIUS_KM
    limit = math.sin(central / 2) ** 2 if central < math.pi else 1.0
    cos_latitude = math.cos(latitude)

    def check(endpoint: dict, now: datetime, in_source: SourceLookup) -> bool:
        location = endpoint.get("Location")
        if not location:
            return False
        try:
            other = math.radians(location["Latitude"])
            d_longitude = math.radians(location["Longitude"]) - longitude
        except (KeyError, TypeError):  # no coordinates, or not numbers: not locatable
            return False
        term = (math.sin((other - latitude) / 2) ** 2
                + cos_latitude * math.cos(other) * math.sin(d_longitude / 2) ** 2)
        return term <= limit
    return check


def _recency(spec: object, where: str) -> Predicate:
    """ACTIVE: EffectiveDate at or after now - Duration (a future date counts); INACTIVE: otherwise."""
    spec = _mapping(spec, where, ("Duration", "RecencyType"), required=True)
    span = _RECENCY_SPANS[_enum(spec.get("Duration"), tuple(_RECENCY_SPANS), None, f"{where}.Duration")]
    active = _enum(spec.get("RecencyType"), ("ACTIVE", "INACTIVE"), None, f"{where}.RecencyType") == "ACTIVE"

    def check(endpoint: dict, now: datetime, in_source: SourceLookup) -> bool:
        moment = _instant(endpoint.get("EffectiveDate"))
        return (moment is not None and moment >= now - span) == active
    return check


# --- combinators ------------------------------------------------------------------------------------

def _always(endpoint: dict, now: datetime, in_source: SourceLookup) -> bool:
    return True


def _negate(predicate: Predicate) -> Predicate:
    return lambda endpoint, now, in_source: not predicate(endpoint, now, in_source)


def _combine(predicates: list[Predicate], mode: str) -> Predicate:
    """ALL, ANY or NONE of `predicates`; an empty list matches every endpoint whatever the mode."""
    if not predicates:
        return _always
    if mode == "ALL":
        return _all_of(predicates)
    either = _any_of(predicates)
    return either if mode == "ANY" else _negate(either)


def _all_of(predicates: list[Predicate]) -> Predicate:
    predicates = tuple(predicate for predicate in predicates if predicate is not _always)
    if not predicates:
        return _always
    if len(predicates) == 1:
        return predicates[0]

    def every(endpoint: dict, now: datetime, in_source: SourceLookup) -> bool:
        for predicate in predicates:
            if not predicate(endpoint, now, in_source):
                return False
        return True
    return every


def _any_of(predicates: list[Predicate]) -> Predicate:
    if _always in predicates:
        return _always
    if len(predicates) == 1:
        return predicates[0]

    def some(endpoint: dict, now: datetime, in_source: SourceLookup) -> bool:
        for predicate in predicates:
            if predicate(endpoint, now, in_source):
                return True
        return False
    return some


# --- parsing and validation helpers ---------------------------------------------------------------

def _instant(text: object) -> datetime | None:
    """An ISO-8601 instant (naive means UTC, a bare date means midnight UTC), or None if unparseable."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _definition_instant(text: str, where: str) -> datetime:
    moment = _instant(text)
    if moment is None:
        raise InvalidInput(f"{where} must be an ISO-8601 instant such as 2026-11-26T10:00:00Z; got {text!r}",
                           field=where)
    return moment


def _values(spec: dict, where: str) -> list[str]:
    values = spec.get("Values")
    if not isinstance(values, list) or not values:
        raise InvalidInput(f"{where}.Values must be a non-empty list of strings", field=f"{where}.Values")
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise InvalidInput(f"{where}.Values[{index}] must be a string", field=f"{where}.Values[{index}]")
        if len(value) > MAX_VALUE_LENGTH:
            raise LimitExceeded(f"Segment value length limit exceeded: {where}.Values[{index}] is {len(value)} "
                                f"characters; at most {MAX_VALUE_LENGTH} are allowed",
                                field=f"{where}.Values[{index}]")
    return values


def _number(value: object, where: str, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{where} must be a finite number", field=where)
    if (low is not None and value < low) or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"{where} must be {bound}", field=where)
    return float(value)


def _enum(value: object, allowed: tuple[str, ...], default: str | None, where: str) -> str:
    """`value` if it is one of `allowed`, `default` when absent; a None default makes it required."""
    if value is None:
        if default is None:
            raise InvalidInput(f"{where} is required", field=where)
        return default
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(f"{where} must be one of {', '.join(allowed)}; got {value!r}", field=where)
    return value


def _mapping(value: object, where: str, members: tuple[str, ...] = (), *, required: bool = False) -> dict:
    """`value` as an object ({} when absent and optional); with `members`, unknown members are rejected."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{where} must be an object", field=where)
    # Unknown members are rejected because a misspelt criterion, silently ignored, would widen the audience.
    unknown = sorted(name for name in value if name not in members) if members else ()
    if unknown:
        raise InvalidInput(f"{where}.{unknown[0]} is not a known member; {where} takes {', '.join(members)}",
                           field=f"{where}.{unknown[0]}")
    return value


def _list(value: object, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{where} must be a list", field=where)
    return value

