"""The calls each phase makes, built up front so clients spend measured time only on the wire."""

from __future__ import annotations

import random

from benchmarks.load import Plan

BATCH_SIZE = 100
_PLANS = ("free", "pro", "enterprise")


def shares(total: int, clients: int) -> list[int]:
    """Split `total` calls across `clients` as evenly as possible."""
    base, extra = divmod(total, clients)
    return [base + (1 if c < extra else 0) for c in range(clients)]


def _endpoint(endpoint_id: str, n: int) -> dict:
    return {
        "Id": endpoint_id,
        "ChannelType": "EMAIL",
        "Address": f"{endpoint_id}@bench.example.com",
        "Attributes": {"plan": [_PLANS[n % len(_PLANS)]], "interests": ["news", "offers"]},
        "User": {"UserId": f"user-{endpoint_id}"},
    }


def _batch(app_id: str, prefix: str) -> dict:
    items = [_endpoint(f"{prefix}-e{n}", n) for n in range(BATCH_SIZE)]
    return {"ApplicationId": app_id, "EndpointBatchRequest": {"Item": items}}


def endpoint_batches(app_id: str, clients: int, batches: int, warmup: int) -> list[Plan]:
    """Each client writes its share of `batches`, every endpoint with a new Id and Address."""
    return [Plan("update_endpoints_batch",
                 warmup=[_batch(app_id, f"warm-c{c}-b{b}") for b in range(warmup)],
                 calls=[_batch(app_id, f"c{c}-b{b}") for b in range(count)])
            for c, count in enumerate(shares(batches, clients))]


def written_ids(plans: list[Plan]) -> list[str]:
    """The endpoint Ids the measured batches wrote."""
    return [item["Id"] for plan in plans for call in plan.calls
            for item in call["EndpointBatchRequest"]["Item"]]


def endpoint_reads(app_id: str, ids: list[str], clients: int, calls: int, warmup: int) -> list[Plan]:
    """Reads of endpoints chosen at random (seeded, so runs repeat) from those just written."""
    pick = random.Random(20240601).choice
    return [Plan("get_endpoint",
                 warmup=[{"ApplicationId": app_id, "EndpointId": pick(ids)} for _ in range(warmup)],
                 calls=[{"ApplicationId": app_id, "EndpointId": pick(ids)} for _ in range(count)])
            for count in shares(calls, clients)]


def app_creations(clients: int, calls: int, warmup: int) -> list[Plan]:
    return [Plan("create_app",
                 warmup=[{"CreateApplicationRequest": {"Name": f"warm-c{c}-{n}"}} for n in range(warmup)],
                 calls=[{"CreateApplicationRequest": {"Name": f"bench-c{c}-{n}"}} for n in range(count)])
            for c, count in enumerate(shares(calls, clients))]


def app_listings(clients: int, calls: int, warmup: int, page_size: int) -> list[Plan]:
    request = {"PageSize": str(page_size)}
    return [Plan("get_apps", warmup=[request] * warmup, calls=[request] * count)
            for count in shares(calls, clients)]


def taggings(arns: list[str], clients: int, calls: int, warmup: int) -> list[Plan]:
    """Tag the seeded apps in turn, overwriting the same keys so tag counts stay bounded."""
    def request(n: int) -> dict:
        return {"ResourceArn": arns[n % len(arns)],
                "TagsModel": {"tags": {"team": "growth", "batch": str(n % 10)}}}

    plans, offset = [], 0
    for count in shares(calls, clients):
        plans.append(Plan("tag_resource", warmup=[request(offset + n) for n in range(warmup)],
                          calls=[request(offset + n) for n in range(count)]))
        offset += count
    return plans


def list_app_arns(client) -> list[str]:
    """Every app the caller can see, following NextToken."""
    arns, token = [], None
    while True:
        kwargs = {"PageSize": "100", **({"Token": token} if token else {})}
        page = client.get_apps(**kwargs)["ApplicationsResponse"]
        arns += [app["Arn"] for app in page.get("Item", [])]
        token = page.get("NextToken")
        if not token:
            return arns


def top_up_apps(client, count: int) -> list[str]:
    """Create apps until the caller holds exactly `count` (fails if it already holds more)."""
    arns = list_app_arns(client)
    if len(arns) > count:
        raise RuntimeError(f"server already holds {len(arns)} apps, more than the {count} wanted")
    for n in range(len(arns), count):
        client.create_app(CreateApplicationRequest={"Name": f"seed-{n}"})
    return list_app_arns(client)
