"""Segments: versions, sources, resolution, and tenancy in a shared project."""

from __future__ import annotations

import pytest

from pinfold import onboarding as tenants
from pinfold import tags
from pinfold.audience import endpoints, segments
from pinfold.core.errors import Forbidden, InvalidInput, NotFound
from tests.service.helpers import onboard

GOLD = {"Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}}}


def _people(ctx, caller, project, plans: dict[str, str]) -> None:
    items = [{"Id": name, "ChannelType": "EMAIL", "Address": f"{name}@example.com", "Attributes": {"plan": [plan]}}
             for name, plan in plans.items()]
    endpoints.update_batch(ctx, caller, project, items)


def test_every_update_is_a_new_version_and_old_ones_stay(ctx, admin, project):
    _people(ctx, admin, project, {"ann": "gold", "bob": "free", "cy": "silver"})
    first = segments.create(ctx, admin, project, {"Name": "gold", **GOLD})
    assert (first["Version"], first["SegmentType"], first["Name"]) == (1, "DIMENSIONAL", "gold")
    silver = {"Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold", "silver"]}}}}
    second = segments.update(ctx, admin, project, first["Id"], {"Name": "paying", **silver})
    assert second["Version"] == 2 and second["CreationDate"] == first["CreationDate"]
    assert segments.get(ctx, admin, project, first["Id"], 1)["Dimensions"] == GOLD["Dimensions"]
    assert segments.get(ctx, admin, project, first["Id"])["Name"] == "paying"
    assert segments.size(ctx, admin, project, first["Id"], 1) == 1
    assert segments.size(ctx, admin, project, first["Id"]) == 2
    versions = segments.versions_page(ctx, admin, project, first["Id"], "1", None)
    assert [v["Version"] for v in versions["Item"]] == [1] and versions["NextToken"]
    rest = segments.versions_page(ctx, admin, project, first["Id"], "1", versions["NextToken"])
    assert [v["Version"] for v in rest["Item"]] == [2] and "NextToken" not in rest
    with pytest.raises(NotFound):
        segments.get(ctx, admin, project, first["Id"], 3)


def test_source_segments_and_groups(ctx, admin, project):
    _people(ctx, admin, project, {"ann": "gold", "bob": "free", "cy": "silver", "dee": "gold"})
    gold = segments.create(ctx, admin, project, {"Name": "gold", **GOLD})
    not_gold = segments.create(ctx, admin, project, {"Name": "not gold", "SegmentGroups": {
        "Include": "ALL", "Groups": [{"SourceSegments": [{"Id": gold["Id"]}], "Type": "ALL", "SourceType": "ANY"}]}})
    assert [e["Id"] for e in segments.preview(ctx, admin, project, not_gold["Id"])] == ["ann", "dee"]
    with pytest.raises(NotFound):
        segments.create(ctx, admin, project, {"Name": "x", "SegmentGroups": {
            "Groups": [{"SourceSegments": [{"Id": "0" * 32}]}]}})
    with pytest.raises(InvalidInput, match="its own source"):
        segments.update(ctx, admin, project, gold["Id"], {"SegmentGroups": {
            "Groups": [{"SourceSegments": [{"Id": gold["Id"]}]}]}})


def test_delete_and_listing(ctx, admin, project):
    made = [segments.create(ctx, admin, project, {"Name": f"s{n}", **GOLD})["Id"] for n in range(3)]
    # Pages are ordered by creation time, then id (segments made in the same millisecond sort by id).
    page = segments.list_page(ctx, admin, project, "2", None)
    rest = segments.list_page(ctx, admin, project, "2", page["NextToken"])
    listed = [s["Id"] for s in page["Item"]] + [s["Id"] for s in rest["Item"]]
    assert len(page["Item"]) == 2 and "NextToken" not in rest and sorted(listed) == sorted(made)
    assert segments.delete(ctx, admin, project, made[0])["Id"] == made[0]
    with pytest.raises(NotFound):
        segments.get(ctx, admin, project, made[0])


def test_shared_project_segments_belong_to_their_tenant(ctx, admin):
    a_row, a = onboard(ctx, admin, "acme", "sa-sp")
    _b_row, b = onboard(ctx, admin, "globex", "sa-sp")
    project = a_row["project_id"]
    _people(ctx, a, project, {"a1": "gold", "a2": "free"})
    _people(ctx, b, project, {"b1": "gold"})
    mine = segments.create(ctx, a, project, {"Name": "gold", **GOLD})
    assert mine["tags"] == {"tenant": "acme"}
    # The definition says nothing about tenants; resolution still yields only acme's endpoints.
    assert [e["Id"] for e in segments.preview(ctx, a, project, mine["Id"])] == ["a1"]
    with pytest.raises(NotFound):
        segments.get(ctx, b, project, mine["Id"])
    assert segments.list_page(ctx, b, project, None, None)["Item"] == []
    with pytest.raises(NotFound):  # nor can another tenant build on it
        sources = {"Groups": [{"SourceSegments": [{"Id": mine["Id"]}]}]}
        segments.create(ctx, b, project, {"Name": "x", "SegmentGroups": sources})
    with pytest.raises(Forbidden):
        tags.tag(ctx, a, mine["Arn"], {"tenant": "globex"})
    everything = segments.create(ctx, admin_view(ctx, admin, project), project, {"Name": "all"})
    assert segments.size(ctx, admin_view(ctx, admin, project), project, everything["Id"]) == 3
    with pytest.raises(NotFound):  # the operator looking as globex sees what globex sees
        segments.size(ctx, segments.operator_view(ctx, admin, project, "globex"), project, mine["Id"])


def admin_view(ctx, admin, project):
    return segments.operator_view(ctx, admin, project)


def test_offboarding_an_sa_sp_tenant_removes_its_segments(ctx, admin):
    a_row, a = onboard(ctx, admin, "acme", "sa-sp")
    project = a_row["project_id"]
    made = segments.create(ctx, a, project, {"Name": "gold", **GOLD})
    outcome = tenants.offboard(ctx, admin, "acme")
    assert outcome["removed"]["segments"] == 1
    with pytest.raises(NotFound):
        segments.get(ctx, admin_view(ctx, admin, project), project, made["Id"])


def test_segments_cannot_form_a_cycle_through_others(ctx, admin, project):
    a = segments.create(ctx, admin, project, {"Name": "a", **GOLD})
    b = segments.create(ctx, admin, project, {"Name": "b", "SegmentGroups": {
        "Groups": [{"SourceSegments": [{"Id": a["Id"]}]}]}})
    c = segments.create(ctx, admin, project, {"Name": "c", "SegmentGroups": {
        "Groups": [{"SourceSegments": [{"Id": b["Id"]}]}]}})
    with pytest.raises(InvalidInput, match="cycle"):
        segments.update(ctx, admin, project, a["Id"], {"SegmentGroups": {
            "Groups": [{"SourceSegments": [{"Id": c["Id"]}]}]}})
    assert segments.get(ctx, admin, project, a["Id"])["Version"] == 1
