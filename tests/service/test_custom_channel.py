"""The custom channel: a campaign's endpoints reach a real webhook receiver on loopback in signed calls
of at most 50 endpoints, with Pinpoint's payload; a receiver's failure is retried by the pipeline;
calls per second are limited per tenant without one tenant holding up another."""

from __future__ import annotations

import dataclasses
import time

import orjson
import sqlalchemy as sa

from pinfold.audience import endpoints, segments
from pinfold.campaigns import campaigns, progress
from pinfold.campaigns.scheduler import CampaignScheduler
from pinfold.custom import keys
from pinfold.custom.delivery import CustomDelivery
from pinfold.custom.rules import signing
from pinfold.db.tables import custom_calls
from pinfold.events import outbox
from tests.service.helpers import onboard

SALE = {"Dimensions": {"Attributes": {"sale": {"AttributeType": "INCLUSIVE", "Values": ["yes"]}}}}


def _people(ctx, caller, project, prefix: str, count: int, channel: str = "CUSTOM") -> list[str]:
    made = [f"{prefix}{n:03d}" for n in range(count)]
    for first in range(0, count, 100):
        endpoints.update_batch(ctx, caller, project, [
            {"Id": eid, "ChannelType": channel, "Address": f"{eid}@crm", "Attributes": {"sale": ["yes"]}}
            for eid in made[first:first + 100]])
    return made


def _campaign(ctx, caller, project, url: str, data: str = '{"kind": "sale"}') -> dict:
    segment = segments.create(ctx, caller, project, {"Name": "sale", **SALE})["Id"]
    return campaigns.create(ctx, caller, project, {
        "Name": "crm sale", "SegmentId": segment, "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
        "MessageConfiguration": {"CustomMessage": {"Data": data}},
        "CustomDeliveryConfiguration": {"DeliveryUri": f"{url}/hook", "EndpointTypes": ["CUSTOM"]}})


def _plan(ctx) -> None:
    scheduler = CampaignScheduler(ctx, slice_size=500)
    for _ in range(20):
        if not scheduler.run_once(now=time.time() + 1):
            return


def _deliver(ctx, *, until, now: float | None = None, seconds: float = 20) -> None:
    delivery = CustomDelivery(ctx)
    deadline = time.monotonic() + seconds
    try:
        while not until() and time.monotonic() < deadline:
            if not delivery.run_once(now=now):
                time.sleep(0.05)
    finally:
        delivery.stop()


def _statuses(ctx) -> list[str]:
    with ctx.db.read() as conn:
        return [row.status for row in conn.execute(sa.select(custom_calls.c.status))]


def test_a_campaign_reaches_the_webhook_in_signed_calls_of_at_most_50(ctx, admin, project, receiver):
    url, got = receiver
    got.account, got.script = admin.account_id, [503]
    people = _people(ctx, admin, project, "crm", 120)
    _people(ctx, admin, project, "mail", 3, channel="EMAIL")
    created = _campaign(ctx, admin, project, url)
    _plan(ctx)
    _deliver(ctx, until=lambda: len(got.calls) >= 3)
    assert _statuses(ctx).count("queued") == 1  # the call answered 503 waits for its retry
    _deliver(ctx, until=lambda: "queued" not in _statuses(ctx), now=time.time() + 60)

    assert len(got.calls) == 4 and sorted(_statuses(ctx)) == ["delivered"] * 3
    key = keys.signing_key(ctx.secrets, project)
    payloads = []
    for call in got.calls:
        assert call["path"] == "/hook" and call["headers"]["Content-Type"] == "application/json"
        header = call["headers"][signing.HEADER]
        assert signing.verify(key, header, call["body"], now=time.time())
        assert not signing.verify(key, header, call["body"] + b" ", now=time.time())  # a changed body
        assert not signing.verify(key, header, call["body"], now=time.time() + 600)  # a replay, later
        payloads.append(orjson.loads(call["body"]))
    delivered = {eid for payload in payloads[1:] for eid in payload["Endpoints"]}
    assert delivered == set(people) and max(len(p["Endpoints"]) for p in payloads) == 50
    first = payloads[1]
    assert (first["Message"], first["Data"], first["ApplicationId"], first["CampaignId"], first["TreatmentId"]) == (
        {}, '{"kind": "sale"}', project, created["Id"], "0")
    assert first["ActivityId"] and first["ScheduledTime"].endswith("Z")
    one = next(iter(first["Endpoints"].values()))
    assert one["ChannelType"] == "CUSTOM" and one["Attributes"] == {"sale": ["yes"]} and "Id" not in one

    with ctx.db.read() as conn:
        records = [row["record"] for row in outbox.read_after(conn, 0, 10_000)]
    sends = [r for r in records if r["event_type"] == "_campaign.send"]
    assert len(sends) == 120 and {r["attributes"]["delivery_type"] for r in sends} == {"CUSTOM"}
    shown = progress.run_progress(ctx, admin, created["Id"]).as_dict()
    assert shown["Messages"] == {"queued": 0, "sent": 0, "delivered": 3, "failed": 0}
    assert shown["Activities"][0]["ExecutionMetrics"]["ENDPOINT_CHANNEL_MISMATCH"] == "3"


def test_calls_are_limited_per_tenant_and_one_tenant_does_not_hold_up_another(ctx, admin, receiver):
    url, got = receiver
    ctx = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"custom_tenant_calls_per_second": 2.0}))
    acme_row, acme = onboard(ctx, admin, "acme", "sa-sp")
    _globex_row, globex = onboard(ctx, admin, "globex", "sa-sp")
    project = acme_row["project_id"]
    got.account = acme_row["account_id"]
    _people(ctx, acme, project, "acme", 300)  # six calls
    _people(ctx, globex, project, "globex", 10)  # one
    _campaign(ctx, acme, project, url)
    _campaign(ctx, globex, project, url, data='{"kind": "globex"}')
    _plan(ctx)
    started = time.time()
    _deliver(ctx, until=lambda: len(got.calls) >= 7)

    by_tenant: dict[str, list[float]] = {}
    for call in got.calls:
        payload = orjson.loads(call["body"])
        tenant = "globex" if payload["Data"] == '{"kind": "globex"}' else "acme"
        by_tenant.setdefault(tenant, []).append(call["at"] - started)
        assert signing.verify(keys.signing_key(ctx.secrets, project, tenant), call["headers"][signing.HEADER],
                              call["body"], now=time.time())  # each sa-sp tenant's receiver has its own key
    assert len(by_tenant["acme"]) == 6 and len(by_tenant["globex"]) == 1
    # Two calls a second, after a first second's burst: six calls take two seconds at least.
    assert by_tenant["acme"][-1] - by_tenant["acme"][0] >= 1.9
    assert by_tenant["globex"][0] < by_tenant["acme"][-1] - 1.0  # not queued behind acme's
