"""Concurrent updates of one endpoint merge; none is lost (PostgreSQL runs them truly in parallel)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pinfold.services import endpoints, projects
from tests.service.helpers import operator


def test_concurrent_attribute_updates_of_one_endpoint_all_survive(ctx):
    admin = operator(ctx)
    project = projects.create(ctx, admin, {"Name": "race"})["Id"]
    endpoints.update_endpoint(ctx, admin, project, "shared", {"ChannelType": "SMS", "Address": "+15550000"})

    def write(n: int) -> None:
        endpoints.update_endpoint(ctx, admin, project, "shared", {"Attributes": {f"a{n}": [str(n)]}})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(80)))
    attributes = endpoints.get(ctx, admin, project, "shared")["Attributes"]
    assert sorted(attributes, key=lambda name: int(name[1:])) == [f"a{n}" for n in range(80)]
