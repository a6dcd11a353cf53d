"""Property: in every tenancy model, a tenant's campaign reaches exactly its own segment members,
whatever the endpoints the tenants hold (sa-sp: a shared project, confined by the tenant attribute;
sa-mp: a project each in one account; ma-mp: an account each)."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pinfold.audience import endpoints, segments
from pinfold.campaigns import campaigns
from pinfold.campaigns.scheduler import CampaignScheduler
from pinfold.core.errors import PinfoldError
from pinfold.email import account as email_account
from pinfold.email import identities as email_identities
from pinfold.messaging import channels
from tests.service.helpers import account_caller, onboard
from tests.service.test_campaign_runs import EMAIL, _drain, _queued, _sends

TENANTS = ("acme", "globex")
_run = itertools.count()


def _email_channel(ctx, admin, tenant: dict) -> None:
    owner = account_caller(ctx, admin, tenant["account_id"])
    try:
        email_identities.create(ctx, owner, {"EmailIdentity": "example.com"})
        email_identities.confirm(ctx, admin, "example.com", account_id=owner.account_id, region=owner.region)
        email_account.set_production(ctx, admin, owner.account_id, max_rate=100_000)
    except PinfoldError:  # the tenants share an account (sa-sp, sa-mp): set up once
        pass
    identity = f"arn:aws:ses:{owner.region}:{owner.account_id}:identity/example.com"
    channels.update_email(ctx, owner, tenant["project_id"], {"FromAddress": "shop@example.com", "Identity": identity,
                                                             "Enabled": True})


@pytest.fixture(params=["sa-sp", "sa-mp", "ma-mp"])
def placed(request, ctx, admin):
    """Two tenants of one model, each with a ready email channel: {tenant id: (row, tenant caller)}."""
    found = {name: onboard(ctx, admin, name, request.param) for name in TENANTS}
    for row, _caller in found.values():
        _email_channel(ctx, admin, row)
    return found


# Each endpoint: which tenant holds it, whether it is in the segment, and whether it opted out.
ENDPOINTS = st.lists(st.tuples(st.sampled_from(TENANTS), st.booleans(), st.booleans()), min_size=1, max_size=12)


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(held=ENDPOINTS, slice_size=st.integers(min_value=1, max_value=5))
@example(held=[("acme", True, False), ("globex", True, False), ("acme", False, False), ("globex", True, True),
               ("acme", True, False), ("globex", True, False), ("globex", False, True)], slice_size=2)
def test_each_tenants_campaign_reaches_exactly_its_own_members(ctx, placed, held, slice_size):
    run = next(_run)
    plan = f"gold-{run}"  # this example's segment matches only this example's endpoints
    expected: dict[str, list[str]] = {name: [] for name in TENANTS}
    for n, (name, member, opted_out) in enumerate(held):
        row, caller = placed[name]
        endpoint_id = f"r{run}-{n:02d}"
        endpoints.update_endpoint(ctx, caller, row["project_id"], endpoint_id, {
            "ChannelType": "EMAIL", "Address": f"success+{endpoint_id}@simulator.amazonses.com",
            "Attributes": {"plan": [plan if member else "silver"]}, "OptOut": "ALL" if opted_out else "NONE"})
        if member and not opted_out:
            expected[name].append(endpoint_id)
    made = {}
    for name in TENANTS:
        row, caller = placed[name]
        segment_id = segments.create(ctx, caller, row["project_id"], {"Name": plan, "Dimensions": {
            "Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": [plan]}}}})["Id"]
        made[name] = campaigns.create(ctx, caller, row["project_id"], {
            "Name": plan, "SegmentId": segment_id, "MessageConfiguration": EMAIL,
            "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"}})["Id"]
    _drain(CampaignScheduler(ctx, slice_size=slice_size), time.time() + 1)

    queued = [row.recipient["endpoint_id"] for row in _queued(ctx)]
    for name in TENANTS:
        sends = _sends(ctx, made[name])
        assert sorted(r["client"]["client_id"] for r in sends) == sorted(expected[name])
        assert {r["pinfold"]["tenant_id"] for r in sends} <= {name}
        assert sorted(eid for eid in queued if eid.startswith(f"r{run}-") and eid in expected[name]) == sorted(
            expected[name])
    assert sorted(eid for eid in queued if eid.startswith(f"r{run}-")) == sorted(expected["acme"] + expected["globex"])
