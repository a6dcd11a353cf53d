"""Segment resolution by index gives exactly what the rule gives over every endpoint.

Resolution starts from the attribute index and EffectiveDate column (see audience/store/endpoints.py); these
properties drive random writes (updates, attribute removal, deletes) and random definitions through
it and compare with the compiled rule applied to every stored document.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinfold import onboarding
from pinfold.audience import endpoints, segments
from pinfold.audience.rules.segments import compile_segment
from pinfold.audience.store import endpoints as endpoint_store
from pinfold.core.errors import NotFound
from pinfold.db.tables import endpoint_attributes
from pinfold.projects import projects
from tests.service.helpers import operator

IDS = [f"e{index}" for index in range(6)]
AGES = [timedelta(hours=1), timedelta(days=3), timedelta(days=10), timedelta(days=40), None]

values = st.lists(st.sampled_from(["gold", "free", "gold-plus"]), min_size=1, max_size=2)
content = {
    "age": st.sampled_from(AGES),
    "attributes": st.dictionaries(st.sampled_from(["plan", "color"]), values, max_size=2),
    "user": st.dictionaries(st.sampled_from(["plan", "tier"]), values, max_size=2),
}
upsert = st.fixed_dictionaries({"op": st.just("upsert"), "id": st.sampled_from(IDS), **content})
seed = st.tuples(*[st.fixed_dictionaries({"op": st.just("upsert"), "id": st.just(i), **content}) for i in IDS])
remove = st.fixed_dictionaries({
    "op": st.just("remove"), "type": st.sampled_from(["endpoint-custom-attributes", "endpoint-user-attributes"]),
    "names": st.lists(st.sampled_from(["plan", "color", "tier"]), min_size=1, max_size=2, unique=True),
})
delete = st.fixed_dictionaries({"op": st.just("delete"), "id": st.sampled_from(IDS)})
operation = st.one_of(upsert, upsert, remove, delete)

criterion = st.fixed_dictionaries({
    "AttributeType": st.sampled_from(["INCLUSIVE", "INCLUSIVE", "EXCLUSIVE", "CONTAINS"]), "Values": values,
})
dimensions = st.fixed_dictionaries({}, optional={
    "Attributes": st.dictionaries(st.sampled_from(["plan", "color"]), criterion, min_size=1, max_size=1),
    "UserAttributes": st.dictionaries(st.sampled_from(["plan", "tier"]), criterion, min_size=1, max_size=1),
    "Behavior": st.fixed_dictionaries({"Recency": st.fixed_dictionaries({
        "Duration": st.sampled_from(["HR_24", "DAY_7", "DAY_14", "DAY_30"]),
        "RecencyType": st.sampled_from(["ACTIVE", "INACTIVE"])})}),
})
modes = st.sampled_from(["ALL", "ANY", "NONE"])
group = st.fixed_dictionaries({"Dimensions": st.lists(dimensions, min_size=1, max_size=2), "Type": modes})
definition = st.fixed_dictionaries({}, optional={
    "Dimensions": dimensions,
    "SegmentGroups": st.fixed_dictionaries({"Groups": st.lists(group, min_size=1, max_size=2), "Include": modes}),
})


def _apply(ctx, admin, project_id: str, op: dict, now: datetime) -> None:
    if op["op"] == "upsert":
        item = {"Id": op["id"], "ChannelType": "EMAIL", "Address": f"{op['id']}@example.com",
                "Attributes": op["attributes"], "User": {"UserAttributes": op["user"]}}
        if op["age"] is not None:
            item["EffectiveDate"] = (now - op["age"]).isoformat()
        endpoints.update_batch(ctx, admin, project_id, [item])
    elif op["op"] == "remove":
        endpoints.remove_attributes(ctx, admin, project_id, op["type"], op["names"])
    else:
        with contextlib.suppress(NotFound):  # deleting an absent endpoint is refused
            endpoints.delete(ctx, admin, project_id, op["id"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(first=seed, ops=st.lists(operation, max_size=6), request=definition)
def test_resolution_by_index_equals_the_rule_over_every_endpoint(ctx, first, ops, request):
    admin, now = operator(ctx), datetime.now(UTC)
    project_id = projects.create(ctx, admin, {"Name": "resolution"})["Id"]
    try:
        for op in [*first, *ops]:
            _apply(ctx, admin, project_id, op, now)
        segment = segments.create(ctx, admin, project_id, {"Name": "s", **request})
        found = {doc["Id"] for doc in segments.members(ctx, admin, project_id, segment["Id"])}
        with ctx.db.read() as conn:
            stored = [row.document for row in endpoint_store.iter_with_attributes(conn, project_id, None)]
            indexed = set(conn.execute(
                sa.select(endpoint_attributes.c.endpoint_id, endpoint_attributes.c.field, endpoint_attributes.c.value,
                          endpoint_attributes.c.effective_at)
                .where(endpoint_attributes.c.project_id == project_id)).all())
        rule = compile_segment(request)
        expected = {doc["Id"] for doc in stored
                    if rule.matches(doc, now=datetime.now(UTC), in_source=lambda *_: False)}
        assert found == expected
        # The index holds exactly the stored documents' values and dates: no stale rows, none missing.
        assert indexed == {(doc["Id"], *pair, endpoint_store.effective_micros(doc))
                           for doc in stored for pair in endpoint_store.attribute_values(doc)}
    finally:
        onboarding.delete_project(ctx, admin, project_id)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(first=seed, request=definition, step=st.integers(min_value=1, max_value=4))
def test_a_walk_in_small_steps_meets_each_member_once_in_id_order(ctx, first, request, step):
    """What a campaign does: members_after a step at a time, resuming after the last endpoint read."""
    admin = operator(ctx)
    project_id = projects.create(ctx, admin, {"Name": "walk"})["Id"]
    try:
        for op in first:
            _apply(ctx, admin, project_id, op, datetime.now(UTC))
        segment = segments.create(ctx, admin, project_id, {"Name": "s", **request})
        whole = [doc["Id"] for doc in segments.members(ctx, admin, project_id, segment["Id"])]
        walked, after = [], None
        with ctx.db.read() as conn:
            for _ in range(len(IDS) + 2):
                found, after = segments.members_after(conn, project_id, segment["Id"], segment["Version"], None,
                                                      after, step)
                walked += [doc["Id"] for doc in found]
                if after is None:
                    break
        assert after is None
        assert walked == sorted(whole) and len(set(walked)) == len(walked)
    finally:
        onboarding.delete_project(ctx, admin, project_id)


def test_a_walk_over_several_values_meets_an_endpoint_holding_two_of_them_once(ctx):
    admin = operator(ctx)
    project_id = projects.create(ctx, admin, {"Name": "values"})["Id"]
    plans = {"e0": ["gold", "free"], "e1": ["free"], "e2": ["gold"], "e3": ["other"], "e4": ["free", "gold"],
             "e5": ["gold", "free", "other"]}
    endpoints.update_batch(ctx, admin, project_id, [
        {"Id": endpoint_id, "ChannelType": "EMAIL", "Address": f"{endpoint_id}@example.com",
         "Attributes": {"plan": plan}} for endpoint_id, plan in plans.items()])
    segment = segments.create(ctx, admin, project_id, {"Name": "s", "Dimensions": {
        "Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold", "free"]}}}})
    for step in (1, 2, 3, 5):
        walked, after = [], None
        with ctx.db.read() as conn:
            while True:
                found, after = segments.members_after(conn, project_id, segment["Id"], segment["Version"], None,
                                                      after, step)
                walked += [doc["Id"] for doc in found]
                if after is None:
                    break
        assert walked == ["e0", "e1", "e2", "e4", "e5"], step
