"""Concurrent updates of one endpoint merge; none is lost (PostgreSQL runs them truly in parallel)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pinfold.audience import endpoints
from pinfold.projects import projects
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


def test_remove_attributes_keeps_concurrent_updates(ctx):
    admin = operator(ctx)
    project = projects.create(ctx, admin, {"Name": "race"})["Id"]
    items = [{"Id": f"e{n}", "Attributes": {"drop": ["x"]}} for n in range(20)]
    endpoints.update_batch(ctx, admin, project, items)

    def work(n: int) -> None:
        if n % 4 == 0:
            endpoints.remove_attributes(ctx, admin, project, "endpoint-custom-attributes", ["drop"])
        else:
            endpoints.update_endpoint(ctx, admin, project, f"e{n % 20}", {"Attributes": {f"k{n}": ["v"]}})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(80)))
    kept = set()
    for n in range(20):
        kept |= set(endpoints.get(ctx, admin, project, f"e{n}")["Attributes"])
    assert {f"k{n}" for n in range(80) if n % 4} <= kept  # no update was undone by a removal
