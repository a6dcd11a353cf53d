"""SES configuration sets' event destinations as sinks of the event pump.

Each enabled destination with somewhere to deliver to receives the `_email.*` records of mail sent
through its set whose type it matches (MatchingEventTypes), in SES's shape (email/events.py): a
Firehose destination as JSON files at its location, an SNS topic on NATS JetStream, an EventBridge
bus as a signed POST to the webhook the operator mapped it to (events/sinks/webhook.py). A new
destination hears of mail sent from the pump's next pass on.
"""

from __future__ import annotations

import functools

import orjson
from sqlalchemy.engine import Connection

from pinfold.context import Context
from pinfold.email import configuration_sets
from pinfold.email.events import destined, ses_event
from pinfold.email.store import configuration_sets as store
from pinfold.events.sinks.base import Outlets, Sink
from pinfold.events.sinks.nats import stream_name
from pinfold.events.sinks.webhook import WebhookLookup, post_webhook


def sink_name(destination: dict) -> str:
    """The cursor name of one configuration-set event destination."""
    return ":".join(("ses", destination["account_id"], destination["region"], destination["configuration_set"],
                     destination["name"]))


class SesSink(Sink):
    """One event destination (a row of store.publishing())."""

    def __init__(self, destination: dict, outlets: Outlets, webhooks: WebhookLookup) -> None:
        self.destination = destination
        self.name = sink_name(destination)
        self.types = set(destination["matching_event_types"])
        self.outlets = outlets
        self.webhooks = webhooks

    def wants(self, row: dict) -> bool:
        d = self.destination
        return row["account_id"] == d["account_id"] and destined(row["record"], d["account_id"], d["region"],
                                                                  d["configuration_set"], self.types)

    def deliver(self, rows: list[dict], batch: str) -> None:
        d = self.destination
        events = [ses_event(row["record"]) for row in rows]
        if d["sink"] == "lake":
            self.outlets.files(d["target"]).write_json(events, batch, d["account_id"])
        elif d["sink"] == "nats":
            stream = d["target"]
            subject = f"{stream}.{d['account_id']}.{stream_name(d['configuration_set'])}"
            self.outlets.nats().publish(stream, [(subject, row["event_id"], orjson.dumps(event))
                                                 for row, event in zip(rows, events, strict=True)])
        else:
            post_webhook(self.webhooks, d["target"], events)


class SesDestinations:
    """The sink source of every account's enabled event destinations."""

    def __init__(self, ctx: Context, outlets: Outlets) -> None:
        self.outlets = outlets
        self.webhooks = functools.partial(configuration_sets.webhook_target, ctx)

    def sinks(self, conn: Connection) -> list[Sink]:
        return [SesSink(destination, self.outlets, self.webhooks) for destination in store.publishing(conn)]

    def close(self) -> None:
        self.outlets.close()
