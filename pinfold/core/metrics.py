"""Prometheus metrics: what `/metrics` answers on the serving port, and on `pinfold worker
--metrics-port`.

Counters and histograms kept in this process (AWS calls by service, operation and status, and their
latency; messages by channel, account and outcome) sit beside readings taken from the database when
scraped (the sending queue, the outbox lag per sink, jobs by status), and the client's default
process collectors (memory, CPU, open files).

Label values stay bounded: services, operation names from the botocore models, status codes, sink
and status names, channels, and account ids (one per tenant at most). Never an endpoint id, an
address or a message id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUESTS = Counter("pinfold_requests", "AWS API calls answered, by service, operation and HTTP status",
                   ["service", "operation", "status"])
REQUEST_SECONDS = Histogram("pinfold_request_seconds", "Time to answer an AWS API call", ["service", "operation"],
                            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

# A message's outcome as the pipeline records it, or "accepted" when a send queued it. Counted only
# once the transaction that wrote it has committed (db.after_commit), so a rolled-back group or
# request is never counted. "deferred" is a message put back to be tried again.
MESSAGES = Counter("pinfold_messages", "Messages accepted and finished, by channel, account and outcome",
                   ["channel", "account", "outcome"])


def count_messages(channel: str, account: str, outcome: str, count: int = 1) -> None:
    MESSAGES.labels(channel, account, outcome).inc(count)


# Each (service, operation, status)'s counter and histogram child, found once: `labels()` takes a lock
# and builds its key on every call, a third of what counting a request cost. Bounded like the labels.
_request_children: dict[tuple, tuple] = {}


def observe_request(service: str | None, operation: str | None, status: int, seconds: float) -> None:
    key = (service, operation, status)
    children = _request_children.get(key)
    if children is None:
        service, operation = service or "-", operation or "-"
        children = _request_children.setdefault(key, (REQUESTS.labels(service, operation, str(status)),
                                                       REQUEST_SECONDS.labels(service, operation)))
    children[0].inc()
    children[1].observe(seconds)


@dataclass(frozen=True)
class Reading:
    """One gauge read from the database at scrape time: `read(conn)` gives (label values, value) pairs."""

    name: str
    help: str
    labels: tuple[str, ...]
    read: Callable[[object], Iterable[tuple[tuple[str, ...], float]]]


class Readings:
    """A collector that takes every reading in one read transaction when Prometheus scrapes."""

    def __init__(self, db, readings: list[Reading]) -> None:
        self.db = db
        self.readings = readings

    def collect(self):
        with self.db.read() as conn:
            for reading in self.readings:
                family = GaugeMetricFamily(reading.name, reading.help, labels=list(reading.labels))
                for labels, value in reading.read(conn):
                    family.add_metric(list(labels), value)
                yield family


def registry_with(readings: Readings) -> CollectorRegistry:
    """A registry of this process's readings; `exposition` adds the process-wide metrics to it."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(readings)
    return registry


def exposition(own: CollectorRegistry | None) -> bytes:
    """The text `/metrics` answers: the process-wide metrics, then the readings."""
    return generate_latest(REGISTRY) + (generate_latest(own) if own is not None else b"")
