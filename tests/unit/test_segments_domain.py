"""Segment definitions compiled by pinfold.audience.rules.segments, evaluated against endpoint documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinfold.audience.rules.segments import compile_segment, count_dimensions
from pinfold.core.errors import InvalidInput, LimitExceeded

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PARIS = {"Latitude": 48.8566, "Longitude": 2.3522}
LONDON = {"Latitude": 51.5074, "Longitude": -0.1278}  # about 344 km from Paris
VERSAILLES = {"Latitude": 48.8049, "Longitude": 2.1204}  # about 18 km from Paris


def member_of(segment_id: str, version: int | None, endpoint: dict) -> bool:
    """A fake source lookup: endpoints list their source segments in Attributes.member_of."""
    return segment_id in endpoint.get("Attributes", {}).get("member_of", [])


def matches(definition: dict, endpoint: dict, *, now: datetime = NOW, in_source=member_of) -> bool:
    return compile_segment(definition).matches(endpoint, now=now, in_source=in_source)


def attribute(attribute_type: str, *values: str) -> dict:
    return {"Dimensions": {"Attributes": {"plan": {"AttributeType": attribute_type, "Values": list(values)}}}}


def with_plan(*values: str) -> dict:
    return {"Id": "e1", "ChannelType": "EMAIL", "Attributes": {"plan": list(values)}}


def channel_is(*values: str, dimension_type: str = "INCLUSIVE") -> dict:
    return {"Demographic": {"Channel": {"DimensionType": dimension_type, "Values": list(values)}}}


def plan_is(value: str) -> dict:
    return {"Attributes": {"plan": {"Values": [value]}}}


def groups(*members: dict, include: str | None = None) -> dict:
    body: dict = {"Groups": list(members)}
    if include:
        body["Include"] = include
    return {"SegmentGroups": body}


# --- attributes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("attribute_type", "values", "endpoint_values", "expected"), [
    ("INCLUSIVE", ["pro"], ["pro"], True),
    ("INCLUSIVE", ["pro", "team"], ["free", "team"], True),  # multi-valued on both sides
    ("INCLUSIVE", ["pro"], ["free"], False),
    ("INCLUSIVE", ["pro"], None, False),  # missing attribute
    ("INCLUSIVE", ["pro"], ["Pro"], False),  # attributes are case-sensitive
    ("EXCLUSIVE", ["pro"], ["free"], True),
    ("EXCLUSIVE", ["pro"], ["free", "pro"], False),
    ("EXCLUSIVE", ["pro"], None, True),  # an endpoint without the attribute matches
    ("CONTAINS", ["ro"], ["pro"], True),
    ("CONTAINS", ["xyz", "fre"], ["team", "free"], True),
    ("CONTAINS", ["ro"], ["free"], False),
    ("CONTAINS", ["ro"], None, False),
])
def test_attribute_value_types(attribute_type, values, endpoint_values, expected):
    endpoint = with_plan(*endpoint_values) if endpoint_values is not None else {"Id": "e1"}
    assert matches(attribute(attribute_type, *values), endpoint) is expected


def test_attribute_type_defaults_to_inclusive():
    definition = {"Dimensions": {"Attributes": {"plan": {"Values": ["pro"]}}}}
    assert matches(definition, with_plan("pro")) and not matches(definition, with_plan("free"))


def test_user_attributes_read_the_user():
    definition = {"Dimensions": {"UserAttributes": {"tier": {"Values": ["gold"]}}}}
    assert matches(definition, {"User": {"UserId": "u1", "UserAttributes": {"tier": ["gold"]}}})
    assert not matches(definition, {"Attributes": {"tier": ["gold"]}})
    assert not matches(definition, {"User": {"UserId": "u1"}})


@pytest.mark.parametrize(("attribute_type", "values", "endpoint_value", "expected"), [
    ("BEFORE", ["2026-01-01T00:00:00Z"], "2025-12-31T23:59:59.999Z", True),
    ("BEFORE", ["2026-01-01T00:00:00Z"], "2026-01-01T00:00:00Z", False),
    ("AFTER", ["2026-01-01T00:00:00Z"], "2026-01-01T00:00:00.001Z", True),
    ("AFTER", ["2026-01-01T00:00:00Z"], "2026-01-01T00:00:00Z", False),
    ("AFTER", ["2026-01-01T00:00:00Z"], "2026-01-01T01:30:00+02:00", False),  # 23:30 UTC the day before
    ("ON", ["2026-03-05T18:45:00Z"], "2026-03-05T00:00:00Z", True),  # time ignored
    ("ON", ["2026-03-05T00:00:00Z"], "2026-03-05T23:59:59.999Z", True),
    ("ON", ["2026-03-05"], "2026-03-06T00:00:00Z", False),
    ("ON", ["2026-03-05"], "2026-03-04T23:59:59Z", False),
    ("ON", ["2026-03-05"], "2026-03-06T00:30:00+01:00", True),  # 23:30 UTC on the 5th
    ("BETWEEN", ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"], "2026-01-01T00:00:00Z", True),  # low bound
    ("BETWEEN", ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"], "2026-02-01T00:00:00Z", True),  # high bound
    ("BETWEEN", ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"], "2026-01-15T08:00:00.000Z", True),
    ("BETWEEN", ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"], "2026-02-01T00:00:00.001Z", False),
    ("BETWEEN", ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"], "2025-12-31T23:59:59Z", False),
    ("BEFORE", ["2026-01-01T00:00:00Z"], "not a date", False),  # unparseable endpoint values never match
    ("AFTER", ["2026-01-01T00:00:00Z"], "", False),
])
def test_attribute_instant_types(attribute_type, values, endpoint_value, expected):
    assert matches(attribute(attribute_type, *values), with_plan(endpoint_value)) is expected


def test_instant_types_match_if_any_endpoint_value_does():
    endpoint = with_plan("garbage", "2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z")
    assert matches(attribute("BEFORE", "2021-01-01T00:00:00Z"), endpoint)
    assert matches(attribute("AFTER", "2029-01-01T00:00:00Z"), endpoint)
    assert not matches(attribute("ON", "2025-01-01"), endpoint)
    assert not matches(attribute("BEFORE", "2021-01-01T00:00:00Z"), {"Id": "e1"})


@pytest.mark.parametrize(("attribute_type", "values", "field"), [
    ("BEFORE", ["yesterday"], "Dimensions.Attributes.plan.Values[0]"),
    ("AFTER", ["2026-13-01T00:00:00Z"], "Dimensions.Attributes.plan.Values[0]"),
    ("ON", ["2026-02-30"], "Dimensions.Attributes.plan.Values[0]"),
    ("BETWEEN", ["2026-01-01T00:00:00Z", "soon"], "Dimensions.Attributes.plan.Values[1]"),
    ("BETWEEN", ["2026-01-01T00:00:00Z"], "Dimensions.Attributes.plan.Values"),
    ("BETWEEN", ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"],
     "Dimensions.Attributes.plan.Values"),
    ("BETWEEN", ["2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"], "Dimensions.Attributes.plan.Values"),
])
def test_bad_instants_in_the_definition_name_the_field(attribute_type, values, field):
    with pytest.raises(InvalidInput) as raised:
        compile_segment(attribute(attribute_type, *values))
    assert raised.value.field == field
    assert "Dimensions.Attributes.plan.Values" in raised.value.message


def test_bad_instants_inside_a_group_name_the_group_path():
    definition = groups({"Dimensions": [{}, {"UserAttributes": {"born": {"AttributeType": "ON", "Values": ["x"]}}}]})
    with pytest.raises(InvalidInput) as raised:
        compile_segment(definition)
    assert raised.value.field == "SegmentGroups.Groups[0].Dimensions[1].UserAttributes.born.Values[0]"


# --- metrics -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("operator", "value", "expected"), [
    ("GREATER_THAN", 4.0, True), ("GREATER_THAN", 5.0, False),
    ("LESS_THAN", 6.0, True), ("LESS_THAN", 5.0, False),
    ("GREATER_THAN_OR_EQUAL", 5.0, True), ("GREATER_THAN_OR_EQUAL", 5.5, False),
    ("LESS_THAN_OR_EQUAL", 5.0, True), ("LESS_THAN_OR_EQUAL", 4.5, False),
    ("EQUAL", 5, True), ("EQUAL", 5.1, False),
])
def test_metric_operators(operator, value, expected):
    definition = {"Dimensions": {"Metrics": {"visits": {"ComparisonOperator": operator, "Value": value}}}}
    assert matches(definition, {"Metrics": {"visits": 5.0}}) is expected


@pytest.mark.parametrize("operator", ["GREATER_THAN", "LESS_THAN", "LESS_THAN_OR_EQUAL", "EQUAL"])
def test_an_endpoint_without_the_metric_does_not_match(operator):
    definition = {"Dimensions": {"Metrics": {"visits": {"ComparisonOperator": operator, "Value": 0}}}}
    assert not matches(definition, {"Metrics": {"other": 0.0}})
    assert not matches(definition, {"Id": "e1"})


def test_metric_definitions_are_validated():
    with pytest.raises(InvalidInput) as raised:
        compile_segment({"Dimensions": {"Metrics": {"v": {"ComparisonOperator": "ABOVE", "Value": 1}}}})
    assert raised.value.field == "Dimensions.Metrics.v.ComparisonOperator"
    with pytest.raises(InvalidInput) as raised:
        compile_segment({"Dimensions": {"Metrics": {"v": {"ComparisonOperator": "EQUAL", "Value": "1"}}}})
    assert raised.value.field == "Dimensions.Metrics.v.Value"


# --- demographic and location --------------------------------------------------------------------------

DEVICE = {"Id": "e1", "ChannelType": "APNS", "Demographic": {
    "AppVersion": "2.1.0", "Make": "Apple", "Model": "iPhone15,2", "Platform": "iOS", "DeviceType": "PHONE"}}


@pytest.mark.parametrize(("member", "values", "expected"), [
    ("AppVersion", ["2.1.0"], True), ("AppVersion", ["2.0.0"], False),
    ("Channel", ["apns", "gcm"], True), ("Channel", ["EMAIL"], False),
    ("DeviceType", ["phone"], True), ("DeviceType", ["TABLET"], False),
    ("Make", ["APPLE"], True), ("Make", ["Samsung"], False),
    ("Model", ["IPHONE15,2"], True), ("Model", ["Pixel 8"], False),
    ("Platform", ["ios"], True), ("Platform", ["Android"], False),
])
def test_demographic_set_dimensions_ignore_case(member, values, expected):
    inclusive = {"Dimensions": {"Demographic": {member: {"Values": values}}}}
    exclusive = {"Dimensions": {"Demographic": {member: {"DimensionType": "EXCLUSIVE", "Values": values}}}}
    assert matches(inclusive, DEVICE) is expected
    assert matches(exclusive, DEVICE) is not expected


@pytest.mark.parametrize("member", ["AppVersion", "DeviceType", "Make", "Model", "Platform"])
def test_a_missing_demographic_member_never_matches_inclusive_and_always_matches_exclusive(member):
    endpoint = {"Id": "e1", "ChannelType": "EMAIL", "Demographic": {"Locale": "en_US"}}
    assert not matches({"Dimensions": {"Demographic": {member: {"Values": ["x"]}}}}, endpoint)
    assert matches({"Dimensions": {"Demographic": {member: {"DimensionType": "EXCLUSIVE", "Values": ["x"]}}}},
                   endpoint)


def test_channel_compares_the_endpoint_channel_type():
    definition = {"Dimensions": channel_is("email")}
    assert matches(definition, {"ChannelType": "EMAIL"})
    assert not matches(definition, {"ChannelType": "SMS", "Demographic": {"Channel": "EMAIL"}})


def test_country():
    definition = {"Dimensions": {"Location": {"Country": {"Values": ["fr", "DE"]}}}}
    assert matches(definition, {"Location": {"Country": "FR"}})
    assert matches(definition, {"Location": {"Country": "de"}})
    assert not matches(definition, {"Location": {"Country": "GB"}})
    assert not matches(definition, {"Location": {"City": "Paris"}})
    excluded = {"Dimensions": {"Location": {"Country": {"DimensionType": "EXCLUSIVE", "Values": ["FR"]}}}}
    assert not matches(excluded, {"Location": {"Country": "fr"}})
    assert matches(excluded, {"Id": "no-location"})


def gps(range_km: float | None = None) -> dict:
    point: dict = {"Coordinates": PARIS}
    if range_km is not None:
        point["RangeInKilometers"] = range_km
    return {"Dimensions": {"Location": {"GPSPoint": point}}}


def test_gps_point_range():
    assert matches(gps(350), {"Location": LONDON})
    assert not matches(gps(340), {"Location": LONDON})
    assert matches(gps(0), {"Location": PARIS})
    assert matches(gps(25_000), {"Location": {"Latitude": -48.8566, "Longitude": -177.6478}})  # antipode


def test_gps_point_range_defaults_to_100_km():
    assert matches(gps(), {"Location": VERSAILLES})
    assert not matches(gps(), {"Location": LONDON})


def test_gps_point_needs_endpoint_coordinates():
    assert not matches(gps(20_000), {"Location": {"City": "Paris", "Country": "FR"}})
    assert not matches(gps(20_000), {"Location": {"Latitude": 48.85}})
    assert not matches(gps(20_000), {"Id": "e1"})


@pytest.mark.parametrize(("point", "field"), [
    ({"Coordinates": {"Latitude": 91, "Longitude": 0}}, "Dimensions.Location.GPSPoint.Coordinates.Latitude"),
    ({"Coordinates": {"Latitude": 0, "Longitude": -181}}, "Dimensions.Location.GPSPoint.Coordinates.Longitude"),
    ({"Coordinates": PARIS, "RangeInKilometers": -1}, "Dimensions.Location.GPSPoint.RangeInKilometers"),
    ({"RangeInKilometers": 5}, "Dimensions.Location.GPSPoint.Coordinates"),
])
def test_gps_point_is_validated(point, field):
    with pytest.raises(InvalidInput) as raised:
        compile_segment({"Dimensions": {"Location": {"GPSPoint": point}}})
    assert raised.value.field == field


# --- behavior ------------------------------------------------------------------------------------------

SPANS = {"HR_24": timedelta(hours=24), "DAY_7": timedelta(days=7),
         "DAY_14": timedelta(days=14), "DAY_30": timedelta(days=30)}


def recency(duration: str, recency_type: str) -> dict:
    return {"Dimensions": {"Behavior": {"Recency": {"Duration": duration, "RecencyType": recency_type}}}}


def seen(moment: datetime) -> dict:
    return {"Id": "e1", "EffectiveDate": moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}


@pytest.mark.parametrize("duration", sorted(SPANS))
def test_recency(duration):
    cutoff = NOW - SPANS[duration]
    inside, outside = seen(cutoff + timedelta(minutes=1)), seen(cutoff - timedelta(minutes=1))
    assert matches(recency(duration, "ACTIVE"), inside)
    assert not matches(recency(duration, "ACTIVE"), outside)
    assert not matches(recency(duration, "INACTIVE"), inside)
    assert matches(recency(duration, "INACTIVE"), outside)
    assert matches(recency(duration, "ACTIVE"), seen(cutoff))  # the boundary is inside
    assert matches(recency(duration, "INACTIVE"), {"Id": "never-seen"})
    assert not matches(recency(duration, "ACTIVE"), {"Id": "never-seen"})


def test_recency_treats_a_naive_now_as_utc():
    rule = compile_segment(recency("HR_24", "ACTIVE"))
    endpoint = seen(NOW - timedelta(hours=23))
    assert rule.matches(endpoint, now=NOW.replace(tzinfo=None), in_source=member_of)


# --- combining -----------------------------------------------------------------------------------------

def test_criteria_in_one_dimensions_object_must_all_hold():
    definition = {"Dimensions": {**plan_is("pro"), **channel_is("EMAIL")}}
    assert matches(definition, with_plan("pro"))
    assert not matches(definition, {**with_plan("pro"), "ChannelType": "SMS"})
    assert not matches(definition, with_plan("free"))


@pytest.mark.parametrize(("group_type", "plan", "channel", "expected"), [
    ("ALL", "pro", "EMAIL", True), ("ALL", "pro", "SMS", False), ("ALL", "free", "SMS", False),
    ("ANY", "pro", "SMS", True), ("ANY", "free", "EMAIL", True), ("ANY", "free", "SMS", False),
    ("NONE", "free", "SMS", True), ("NONE", "pro", "SMS", False), ("NONE", "free", "EMAIL", False),
    (None, "pro", "EMAIL", True), (None, "pro", "SMS", False),  # Type defaults to ALL
])
def test_group_type(group_type, plan, channel, expected):
    group: dict = {"Dimensions": [plan_is("pro"), channel_is("EMAIL")]}
    if group_type:
        group["Type"] = group_type
    endpoint = {**with_plan(plan), "ChannelType": channel}
    assert matches(groups(group), endpoint) is expected


@pytest.mark.parametrize("group_type", ["ALL", "ANY", "NONE"])
def test_a_group_without_dimensions_is_its_base(group_type):
    assert matches(groups({"Dimensions": [], "Type": group_type}), with_plan("anything"))
    sourced = groups({"Type": group_type, "SourceSegments": [{"Id": "s1"}]})
    assert matches(sourced, {"Attributes": {"member_of": ["s1"]}})
    assert not matches(sourced, {"Attributes": {"member_of": ["s2"]}})


@pytest.mark.parametrize(("source_type", "member_of_", "expected"), [
    ("ANY", ["s1"], True), ("ANY", ["s2"], True), ("ANY", [], False),
    ("ALL", ["s1", "s2"], True), ("ALL", ["s1"], False),
    ("NONE", [], True), ("NONE", ["s2"], False),
    (None, ["s2"], True),  # SourceType defaults to ANY
])
def test_source_type(source_type, member_of_, expected):
    group: dict = {"SourceSegments": [{"Id": "s1"}, {"Id": "s2", "Version": 3}]}
    if source_type:
        group["SourceType"] = source_type
    assert matches(groups(group), {"Attributes": {"member_of": member_of_}}) is expected


def test_the_base_is_filtered_by_the_dimensions():
    definition = groups({"SourceSegments": [{"Id": "s1"}], "Dimensions": [channel_is("SMS")]})
    assert matches(definition, {"ChannelType": "SMS", "Attributes": {"member_of": ["s1"]}})
    assert not matches(definition, {"ChannelType": "SMS", "Attributes": {"member_of": []}})
    assert not matches(definition, {"ChannelType": "EMAIL", "Attributes": {"member_of": ["s1"]}})


def test_in_source_receives_the_reference_and_the_endpoint():
    calls = []

    def lookup(segment_id, version, endpoint):
        calls.append((segment_id, version, endpoint["Id"]))
        return True

    definition = groups({"SourceSegments": [{"Id": "s1"}, {"Id": "s2", "Version": 3}], "SourceType": "ALL"})
    assert matches(definition, {"Id": "e9"}, in_source=lookup)
    assert calls == [("s1", None, "e9"), ("s2", 3, "e9")]


def test_source_segments_lists_every_reference_once_in_first_seen_order():
    definition = groups({"SourceSegments": [{"Id": "s2", "Version": 1}, {"Id": "s1"}]},
                        {"SourceSegments": [{"Id": "s1"}, {"Id": "s2", "Version": 2}, {"Id": "s2", "Version": 1}]})
    assert compile_segment(definition).source_segments == (("s2", 1), ("s1", None), ("s2", 2))
    assert compile_segment({}).source_segments == ()


@pytest.mark.parametrize(("include", "plan", "channel", "expected"), [
    ("ALL", "pro", "EMAIL", True), ("ALL", "pro", "SMS", False),
    ("ANY", "pro", "SMS", True), ("ANY", "free", "EMAIL", True), ("ANY", "free", "SMS", False),
    ("NONE", "free", "SMS", True), ("NONE", "pro", "SMS", False), ("NONE", "free", "EMAIL", False),
    (None, "pro", "EMAIL", True), (None, "free", "EMAIL", False),  # Include defaults to ALL
])
def test_include(include, plan, channel, expected):
    definition = groups({"Dimensions": [plan_is("pro")]}, {"Dimensions": [channel_is("EMAIL")]}, include=include)
    assert matches(definition, {**with_plan(plan), "ChannelType": channel}) is expected


def test_top_level_dimensions_and_groups_must_both_hold():
    definition = {"Dimensions": plan_is("pro"), **groups({"Dimensions": [channel_is("EMAIL")]})}
    assert matches(definition, {**with_plan("pro"), "ChannelType": "EMAIL"})
    assert not matches(definition, {**with_plan("pro"), "ChannelType": "SMS"})
    assert not matches(definition, {**with_plan("free"), "ChannelType": "EMAIL"})


@pytest.mark.parametrize("definition", [{}, {"Name": "all", "tags": {"a": "b"}}, {"Dimensions": {}},
                                        groups(), {"Dimensions": None, "SegmentGroups": None}])
def test_an_empty_definition_matches_every_endpoint(definition):
    rule = compile_segment(definition)
    assert rule.matches({}, now=NOW, in_source=member_of)
    assert rule.matches(with_plan("pro"), now=NOW, in_source=member_of)


# --- validation and limits -----------------------------------------------------------------------------

@pytest.mark.parametrize(("definition", "field"), [
    (attribute("SOMETIMES", "x"), "Dimensions.Attributes.plan.AttributeType"),
    ({"Dimensions": {"Attributes": {"plan": {"Values": []}}}}, "Dimensions.Attributes.plan.Values"),
    ({"Dimensions": {"Attributes": {"plan": {}}}}, "Dimensions.Attributes.plan.Values"),
    ({"Dimensions": {"Attributes": {"plan": {"Values": [7]}}}}, "Dimensions.Attributes.plan.Values[0]"),
    ({"Dimensions": {"Demographic": {"Make": {"Values": []}}}}, "Dimensions.Demographic.Make.Values"),
    ({"Dimensions": {"Demographic": {"Make": {"DimensionType": "MAYBE", "Values": ["a"]}}}},
     "Dimensions.Demographic.Make.DimensionType"),
    ({"Dimensions": {"Demographic": {"Locale": {"Values": ["en"]}}}}, "Dimensions.Demographic.Locale"),
    ({"Dimensions": {"Attribute": {}}}, "Dimensions.Attribute"),
    ({"Dimensions": {"Behavior": {"Recency": {"Duration": "DAY_90", "RecencyType": "ACTIVE"}}}},
     "Dimensions.Behavior.Recency.Duration"),
    ({"Dimensions": {"Behavior": {"Recency": {"Duration": "DAY_7"}}}}, "Dimensions.Behavior.Recency.RecencyType"),
    (groups({"Type": "SOME"}), "SegmentGroups.Groups[0].Type"),
    (groups({"SourceType": "SOME"}), "SegmentGroups.Groups[0].SourceType"),
    (groups({}, include="EVERY"), "SegmentGroups.Include"),
    (groups({"SourceSegments": [{"Version": 1}]}), "SegmentGroups.Groups[0].SourceSegments[0].Id"),
    (groups({"SourceSegments": [{"Id": "s", "Version": 0}]}), "SegmentGroups.Groups[0].SourceSegments[0].Version"),
    ({"SegmentGroups": {"Groups": {}}}, "SegmentGroups.Groups"),
    ({"Dimensions": []}, "Dimensions"),
])
def test_invalid_definitions_name_the_field(definition, field):
    with pytest.raises(InvalidInput) as raised:
        compile_segment(definition)
    assert raised.value.field == field
    assert field in raised.value.message


def test_count_dimensions_counts_every_criterion_everywhere():
    full = {
        "Attributes": {"a": {"Values": ["1"]}, "b": {"Values": ["2"]}},
        "UserAttributes": {"c": {"Values": ["3"]}},
        "Metrics": {"m": {"ComparisonOperator": "EQUAL", "Value": 1}},
        "Demographic": {"Channel": {"Values": ["SMS"]}, "Make": {"Values": ["x"]}},
        "Location": {"Country": {"Values": ["FR"]}, "GPSPoint": {"Coordinates": PARIS}},
        "Behavior": {"Recency": {"Duration": "DAY_7", "RecencyType": "ACTIVE"}},
    }
    assert count_dimensions({"Dimensions": full}) == 9
    assert count_dimensions({"Dimensions": full, **groups({"Dimensions": [full, plan_is("x")]}, {})}) == 19
    assert count_dimensions({}) == 0


def many_attributes(count: int, *, start: int = 0) -> dict:
    return {"Attributes": {f"a{index}": {"Values": ["v"]} for index in range(start, start + count)}}


def test_at_most_100_dimensions():
    compile_segment({"Dimensions": many_attributes(100)})
    with pytest.raises(LimitExceeded, match="at most 100 dimensions"):
        compile_segment({"Dimensions": many_attributes(101)})
    split = {"Dimensions": many_attributes(60), **groups({"Dimensions": [many_attributes(41, start=60)]})}
    with pytest.raises(LimitExceeded, match="at most 100 dimensions"):
        compile_segment(split)


def test_at_most_100_values_in_total():
    fifty = [f"v{index}" for index in range(50)]
    compile_segment({"Dimensions": {"Attributes": {"a": {"Values": fifty}, "b": {"Values": fifty}}}})
    too_many = {"Dimensions": {"Attributes": {"a": {"Values": fifty}}},
                **groups({"Dimensions": [{"Demographic": {"Make": {"Values": [*fifty, "one more"]}}}]})}
    with pytest.raises(LimitExceeded, match="at most 100 values"):
        compile_segment(too_many)


def test_values_are_at_most_100_characters():
    compile_segment(attribute("INCLUSIVE", "x" * 100))
    with pytest.raises(LimitExceeded) as raised:
        compile_segment(attribute("INCLUSIVE", "ok", "x" * 101))
    assert raised.value.field == "Dimensions.Attributes.plan.Values[1]"


# --- properties ----------------------------------------------------------------------------------------

PLANS = st.sampled_from(["free", "pro", "team"])
CHANNELS = st.sampled_from(["EMAIL", "SMS", "APNS"])
ENDPOINTS = st.fixed_dictionaries({
    "ChannelType": CHANNELS,
    "Attributes": st.fixed_dictionaries({"plan": st.lists(PLANS, max_size=2),
                                         "member_of": st.lists(st.sampled_from(["s1", "s2"]), max_size=2)}),
    "Metrics": st.fixed_dictionaries({}, optional={"visits": st.integers(0, 5).map(float)}),
})
DIMENSIONS = st.one_of(
    st.builds(lambda kind, plans: {"Attributes": {"plan": {"AttributeType": kind, "Values": plans}}},
              st.sampled_from(["INCLUSIVE", "EXCLUSIVE", "CONTAINS"]), st.lists(PLANS, min_size=1, max_size=2)),
    st.builds(lambda kind, values: channel_is(*values, dimension_type=kind),
              st.sampled_from(["INCLUSIVE", "EXCLUSIVE"]), st.lists(CHANNELS, min_size=1, max_size=2)),
    st.builds(lambda op, value: {"Metrics": {"visits": {"ComparisonOperator": op, "Value": value}}},
              st.sampled_from(["GREATER_THAN", "LESS_THAN", "EQUAL"]), st.integers(0, 5)),
    st.just({}),
)
GROUPS = st.builds(
    lambda dimensions, sources, group_type, source_type: {
        "Dimensions": dimensions, "SourceSegments": [{"Id": s} for s in sources],
        "Type": group_type, "SourceType": source_type},
    st.lists(DIMENSIONS, max_size=3), st.lists(st.sampled_from(["s1", "s2"]), max_size=2),
    st.sampled_from(["ALL", "ANY", "NONE"]), st.sampled_from(["ALL", "ANY", "NONE"]),
)


@given(st.lists(GROUPS, min_size=1, max_size=3), ENDPOINTS)
def test_include_none_is_the_complement_of_include_any(members, endpoint):
    assert matches(groups(*members, include="NONE"), endpoint) is not matches(groups(*members, include="ANY"), endpoint)


@given(st.lists(PLANS, min_size=1, max_size=3), PLANS)
def test_exclusive_is_the_complement_of_inclusive_for_a_single_valued_attribute(values, plan):
    endpoint = with_plan(plan)
    assert matches(attribute("EXCLUSIVE", *values), endpoint) is not matches(attribute("INCLUSIVE", *values), endpoint)


@given(st.lists(DIMENSIONS, min_size=1, max_size=4), ENDPOINTS)
def test_type_none_is_the_complement_of_type_any(dimensions, endpoint):
    none = groups({"Dimensions": dimensions, "Type": "NONE"})
    any_ = groups({"Dimensions": dimensions, "Type": "ANY"})
    assert matches(none, endpoint) is not matches(any_, endpoint)


@given(ENDPOINTS)
def test_a_compiled_rule_can_be_reused(endpoint):
    definition = {"Dimensions": plan_is("pro"), **groups({"Dimensions": [channel_is("SMS")]})}
    rule = compile_segment(definition)
    first = rule.matches(endpoint, now=NOW, in_source=member_of)
    assert rule.matches(endpoint, now=NOW, in_source=member_of) is first is matches(definition, endpoint)
