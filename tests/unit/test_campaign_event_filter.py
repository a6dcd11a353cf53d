"""Event filters of event-based campaigns: which records trigger, and refusals of bad filters."""

from __future__ import annotations

import pytest

from pinfold.campaigns.rules.event_filter import compile_filter
from pinfold.core.errors import InvalidInput


def _record(event_type: str, attributes: dict | None = None, metrics: dict | None = None) -> dict:
    return {"event_type": event_type, "attributes": attributes or {}, "metrics": metrics or {}}


def test_an_endpoint_filter_matches_reported_events_by_type_attribute_and_metric():
    rule = compile_filter({"FilterType": "ENDPOINT", "Dimensions": {
        "EventType": {"DimensionType": "INCLUSIVE", "Values": ["purchase", "refund"]},
        "Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold", "silver"]}},
        "Metrics": {"amount": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": 10}}}})
    assert rule.matches(_record("purchase", {"plan": "gold"}, {"amount": 10}))
    assert rule.matches(_record("refund", {"plan": "silver"}, {"amount": 99.5}))
    assert not rule.matches(_record("purchase", {"plan": "bronze"}, {"amount": 10}))
    assert not rule.matches(_record("purchase", {"plan": "gold"}, {"amount": 9.99}))
    assert not rule.matches(_record("purchase", {"plan": "gold"}))  # no metric: no match
    assert not rule.matches(_record("signup", {"plan": "gold"}, {"amount": 10}))


def test_system_and_endpoint_filters_see_different_records():
    system = compile_filter({"FilterType": "SYSTEM", "Dimensions": {"EventType": {"Values": ["_email.delivered"]}}})
    endpoint = compile_filter({"FilterType": "ENDPOINT", "Dimensions": {}})
    assert system.matches(_record("_email.delivered"))
    assert not system.matches(_record("_email.open"))
    assert not endpoint.matches(_record("_email.delivered"))
    assert endpoint.matches(_record("_session.start"))
    assert endpoint.matches(_record("anything"))
    assert not system.matches(_record("_session.start"))


def test_exclusive_types_and_attributes():
    rule = compile_filter({"FilterType": "ENDPOINT", "Dimensions": {
        "EventType": {"DimensionType": "EXCLUSIVE", "Values": ["_session.start"]},
        "Attributes": {"country": {"AttributeType": "EXCLUSIVE", "Values": ["FR"]}}}})
    assert rule.matches(_record("purchase", {"country": "DE"}))
    assert rule.matches(_record("purchase"))  # no attribute is not FR
    assert not rule.matches(_record("purchase", {"country": "FR"}))
    assert not rule.matches(_record("_session.start", {"country": "DE"}))


@pytest.mark.parametrize("spec, field", [
    (None, "Schedule.EventFilter"),
    ({"FilterType": "OTHER", "Dimensions": {}}, "Schedule.EventFilter.FilterType"),
    ({"FilterType": "SYSTEM"}, "Schedule.EventFilter.Dimensions"),
    ({"FilterType": "SYSTEM", "Dimensions": {"EventType": {"Values": []}}},
     "Schedule.EventFilter.Dimensions.EventType.Values"),
    ({"FilterType": "SYSTEM", "Dimensions": {"EventType": {"DimensionType": "MAYBE", "Values": ["a"]}}},
     "Schedule.EventFilter.Dimensions.EventType.DimensionType"),
    ({"FilterType": "SYSTEM", "Dimensions": {"Metrics": {"m": {"ComparisonOperator": "ABOUT", "Value": 1}}}}, None),
    ({"FilterType": "SYSTEM", "Dimensions": {"Attributes": ["not", "a", "map"]}},
     "Schedule.EventFilter.Dimensions.Attributes"),
])
def test_bad_filters_are_refused_naming_the_member(spec, field):
    with pytest.raises(InvalidInput) as refused:
        compile_filter(spec)
    if field is not None:
        assert refused.value.field == field
