"""Each documented limit is refused with a message naming it, and nothing of the request is written."""

from __future__ import annotations

import pytest

from pinfold import onboarding
from pinfold.audience import endpoints, events
from pinfold.core.errors import Conflict, Forbidden, LimitExceeded, NotFound
from pinfold.events import outbox
from pinfold.projects import projects
from pinfold.tenancy import organization


def _endpoint(n: int, **extra) -> dict:
    return {"Id": f"ep-{n}", "ChannelType": "EMAIL", "Address": f"user{n}@example.com", **extra}


def _assert_absent(ctx, admin, project, ids):
    for endpoint_id in ids:
        with pytest.raises(Exception, match="not found"):
            endpoints.get(ctx, admin, project, endpoint_id)


def test_batch_over_100_items_is_refused_whole(ctx, admin, project):
    with pytest.raises(LimitExceeded, match="at most 100"):
        endpoints.update_batch(ctx, admin, project, [_endpoint(n) for n in range(101)])
    _assert_absent(ctx, admin, project, ["ep-0", "ep-100"])


def test_250_custom_attributes_across_groups(ctx, admin, project):
    attributes = {f"a{n}": ["x"] for n in range(100)}
    metrics = {f"m{n}": 1.0 for n in range(100)}
    user = {"UserAttributes": {f"u{n}": ["y"] for n in range(50)}}
    endpoints.update_endpoint(ctx, admin, project, "full", {"Attributes": attributes, "Metrics": metrics, "User": user})
    with pytest.raises(LimitExceeded, match="at most 250 custom attributes.*251"):
        endpoints.update_endpoint(ctx, admin, project, "full", {"Attributes": {"one-more": ["z"]}})
    assert "one-more" not in endpoints.get(ctx, admin, project, "full")["Attributes"]


@pytest.mark.parametrize("update, limit", [
    ({"Attributes": {"n" * 51: ["v"]}}, "name length"),
    ({"User": {"UserAttributes": {"n" * 51: ["v"]}}}, "name length"),
    ({"Metrics": {"n" * 51: 1.0}}, "name length"),
    ({"Attributes": {"name": ["v" * 101]}}, "value length"),
    ({"Attributes": {"name": [str(n) for n in range(51)]}}, "values limit"),
])
def test_attribute_name_value_and_count_limits(ctx, admin, project, update, limit):
    batch = [_endpoint(1), {**_endpoint(2), **update}]
    with pytest.raises(LimitExceeded, match=limit):
        endpoints.update_batch(ctx, admin, project, batch)
    _assert_absent(ctx, admin, project, ["ep-1", "ep-2"])


def test_limits_at_the_boundary_are_accepted(ctx, admin, project):
    update = {"Attributes": {"n" * 50: ["v" * 100] * 50}}
    endpoints.update_endpoint(ctx, admin, project, "edge", {"ChannelType": "SMS", "Address": "+15550100", **update})
    assert endpoints.get(ctx, admin, project, "edge")["Attributes"]["n" * 50] == ["v" * 100] * 50


def test_channel_and_address_unique_names_the_holder(ctx, admin, project):
    endpoints.update_endpoint(ctx, admin, project, "holder", {"ChannelType": "EMAIL", "Address": "a@example.com"})
    with pytest.raises(Conflict, match="already held by endpoint 'holder'"):
        endpoints.update_batch(ctx, admin, project, [_endpoint(7), {"Id": "thief", "ChannelType": "EMAIL",
                                                                   "Address": "a@example.com"}])
    _assert_absent(ctx, admin, project, ["ep-7", "thief"])
    # The same address on another channel, or in another project, is fine.
    endpoints.update_endpoint(ctx, admin, project, "sms", {"ChannelType": "SMS", "Address": "a@example.com"})
    other = projects.create(ctx, admin, {"Name": "other"})["Id"]
    endpoints.update_endpoint(ctx, admin, other, "holder2", {"ChannelType": "EMAIL", "Address": "a@example.com"})


def test_duplicate_address_inside_one_batch(ctx, admin, project):
    with pytest.raises(Conflict, match="same request"):
        endpoints.update_batch(ctx, admin, project, [_endpoint(1), {**_endpoint(2), "Address": "user1@example.com"}])
    _assert_absent(ctx, admin, project, ["ep-1", "ep-2"])


def test_an_endpoint_can_move_its_address(ctx, admin, project):
    endpoints.update_batch(ctx, admin, project, [_endpoint(1)])
    moved = [{**_endpoint(1), "Address": "new@example.com"}, _endpoint(2, Address="user1@example.com")]
    endpoints.update_batch(ctx, admin, project, moved)
    assert endpoints.get(ctx, admin, project, "ep-2")["Address"] == "user1@example.com"


def test_put_events_over_100_events_is_refused_whole(ctx, admin, project):
    event = {"EventType": "custom.click", "Timestamp": "2026-11-26T10:00:00Z"}
    batch = {f"ep-{n}": {"Endpoint": {"ChannelType": "EMAIL", "Address": f"u{n}@example.com"},
                         "Events": {f"e{k}": event for k in range(11)}} for n in range(10)}
    with pytest.raises(LimitExceeded, match="at most 100"):
        events.put_events(ctx, admin, project, batch)
    with ctx.db.read() as conn:
        assert outbox.count(conn, project) == 0
    _assert_absent(ctx, admin, project, ["ep-0"])


def test_project_cap_is_enforced_and_raisable(ctx, admin):
    organization.set_project_cap(ctx, admin, admin.account_id, 3)
    for n in range(3):
        projects.create(ctx, admin, {"Name": f"p{n}"})
    with pytest.raises(LimitExceeded, match="Project limit exceeded.*3 projects"):
        projects.create(ctx, admin, {"Name": "one too many"})
    assert len(projects.list_page(ctx, admin, None, None)["Item"]) == 3
    organization.set_project_cap(ctx, admin, admin.account_id, 4)
    projects.create(ctx, admin, {"Name": "now allowed"})


def test_default_project_cap_is_100(ctx, admin):
    for n in range(100):
        projects.create(ctx, admin, {"Name": f"p{n}"})
    with pytest.raises(LimitExceeded, match="cap is 100"):
        projects.create(ctx, admin, {"Name": "p100"})


def test_an_address_claimed_between_check_and_write_is_a_conflict(ctx, admin, project):
    """The unique index is the last word when two writers race; it answers as a conflict, not a crash."""
    from pinfold.audience.store import endpoints as store

    with ctx.db.write() as conn:
        store.save(conn, project, [{"Id": "first", "ChannelType": "EMAIL", "Address": "race@example.com"}], [None])
    with pytest.raises(Conflict, match="just claimed"), ctx.db.write() as conn:
        store.save(conn, project, [{"Id": "second", "ChannelType": "EMAIL", "Address": "race@example.com"}], [None])
    assert endpoints.get(ctx, admin, project, "first")["Address"] == "race@example.com"


def test_tag_limits(ctx, admin, project):
    from pinfold import tags

    arn = projects.get(ctx, admin, project)["Arn"]
    tags.tag(ctx, admin, arn, {f"k{n}": "v" for n in range(50)})
    with pytest.raises(LimitExceeded, match="at most 50 tags; this one would have 51"):
        tags.tag(ctx, admin, arn, {"one-more": "v"})
    with pytest.raises(LimitExceeded, match="Tag key length"):
        projects.create(ctx, admin, {"Name": "x", "tags": {"k" * 129: "v"}})
    with pytest.raises(LimitExceeded, match="Tag value length"):
        tags.tag(ctx, admin, arn, {"k0": "v" * 257})
    assert len(tags.list_tags(ctx, admin, arn)) == 50 and tags.list_tags(ctx, admin, arn)["k0"] == "v"


def test_project_scoped_credentials_reach_one_project(ctx, admin, project):
    from tests.service.helpers import caller_for_credentials

    other = projects.create(ctx, admin, {"Name": "other"})["Id"]
    creds = onboarding.create_access_key(ctx, admin, scope="project", account_id=admin.account_id,
                                           project_id=project)
    scoped = caller_for_credentials(ctx, creds)
    endpoints.update_endpoint(ctx, scoped, project, "p1", {"ChannelType": "SMS", "Address": "+15550123"})
    assert [p["Id"] for p in projects.list_page(ctx, scoped, None, None)["Item"]] == [project]
    with pytest.raises(NotFound):
        endpoints.update_endpoint(ctx, scoped, other, "p1", {})
    with pytest.raises(Forbidden):
        projects.create(ctx, scoped, {"Name": "nope"})
    with pytest.raises(Forbidden):
        onboarding.delete_project(ctx, scoped, project)
