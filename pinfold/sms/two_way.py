"""Two-way SMS: a message from a handset to a number whose settings (its pool's, when it is in one)
have TwoWayEnabled and an SNS topic as TwoWayChannelArn is published to that topic, in End User
Messaging's payload (originationNumber, destinationNumber, messageKeyword, messageBody,
inboundMessageId, previousPublishedMessageId).

SNS topics are NATS JetStream streams, named as for SES's SNS destinations (events/sinks/nats.py
`stream_name` of the topic name); the subject is `<stream>.<account>.inbound.<number or pool id>`.
`inbound` writes the payload into the outbox in the receiving transaction, as a record only
`TwoWaySink` (sms/event_destinations.py) takes, so the pump publishes it and a NATS outage only
delays it.

Every inbound message is published, keyword messages (STOP, HELP, ...) included: AWS hands the topic
the keyword it matched in `messageKeyword`, and with self-managed opt-outs the topic is the only way
to hear of a STOP. A message that matches no keyword carries `keyword_<account id>`, as AWS's
payloads do. `previousPublishedMessageId` is null: finding the text being answered needs an index on
the queue's (origination, destination) that it does not have. A channel that is not an SNS topic of
the number's own account (Amazon Connect, another account's topic) publishes nothing.
"""

from __future__ import annotations

import logging
import time
import uuid

from sqlalchemy.engine import Connection

from pinfold.core import ids
from pinfold.core.arns import parse_arn
from pinfold.core.errors import InvalidInput
from pinfold.events import outbox
from pinfold.events.records import Origin, envelope
from pinfold.events.sinks.nats import stream_name
from pinfold.sms import keywords

log = logging.getLogger("pinfold.sms")

RECORD_TYPE = "pinfold.sms.inbound"  # an outbox record type only the two-way sink takes
MEMBER = "two_way"  # the record's `pinfold` member holding where to publish what


def channel_stream(document: dict, account_id: str) -> str | None:
    """The NATS stream of an identity's two-way channel, or None when it has none to publish to."""
    if not document.get("TwoWayEnabled") or not document.get("TwoWayChannelArn"):
        return None
    try:
        arn = parse_arn(document["TwoWayChannelArn"], "TwoWayChannelArn")
    except InvalidInput:
        return None
    if arn.service != "sns" or arn.account_id != account_id or "/" in arn.resource:
        return None
    return stream_name(arn.resource)


def matched_keyword(document: dict, body: str, account_id: str) -> str:
    """The keyword `body` begins with (as keywords.answer matches it), or AWS's `keyword_<account id>`."""
    return keywords.matched(document, body) or f"keyword_{account_id}"


def inbound(conn: Connection, number: dict, pool: dict | None, sender: str, body: str) -> str | None:
    """Record, in the caller's transaction, the publication of one message from `sender` to `number`
    (a phone number row with account_id and region; `pool` its pool's row or None); returns its
    inboundMessageId, or None when the number has no two-way channel to publish to."""
    account_id, region = number["account_id"], number["region"]
    document = keywords.answering_document(number["document"], pool["document"] if pool else None)
    stream = channel_stream(document, account_id)
    if stream is None:
        if document.get("TwoWayEnabled"):
            log.info("inbound message not published: the two-way channel of %s is not an SNS topic of account %s",
                     number["id"], account_id)
        return None
    message_id = str(uuid.uuid4())
    payload = {"originationNumber": sender, "destinationNumber": number["document"]["PhoneNumber"],
               "messageKeyword": matched_keyword(document, body, account_id), "messageBody": body,
               "inboundMessageId": message_id, "previousPublishedMessageId": None}
    identity = pool["id"] if pool else number["id"]
    origin = Origin(account_id, region, "", None)
    event_id, now_ms = ids.new_event_id(), int(time.time() * 1000)
    # The payload rides in `pinfold`, which the lake keeps only the ids of: no handset's words in Parquet.
    record = envelope(origin, event_id=event_id, event_type=RECORD_TYPE, event_timestamp=now_ms,
                      arrival_timestamp=now_ms, client_id=message_id)
    record["pinfold"][MEMBER] = {"stream": stream, "subject": f"{stream}.{account_id}.inbound.{identity}",
                                 "payload": payload}
    record["pinfold"]["internal"] = True  # not an event: the lake leaves it out
    outbox.append(conn, [{"event_id": event_id, "account_id": account_id, "region": region, "project_id": "",
                          "tenant_id": None, "event_type": RECORD_TYPE, "arrival_ms": now_ms, "record": record}])
    return message_id
