"""Event stream destinations: which Kinesis or Firehose ARN a project's records go to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pinfold.core.errors import InvalidInput

_ARN = re.compile(
    r"arn:aws:(?P<service>kinesis|firehose):(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<kind>stream|deliverystream)/(?P<name>[A-Za-z0-9_.-]{1,128})"
)


@dataclass(frozen=True)
class Destination:
    """A stream ARN, read: Kinesis streams map to NATS JetStream, Firehose delivery streams to Parquet."""

    arn: str
    service: str  # kinesis | firehose
    name: str


def destination(arn: str) -> Destination:
    found = _ARN.fullmatch(arn or "")
    if found is None or (found["service"] == "kinesis") != (found["kind"] == "stream"):
        raise InvalidInput(
            "DestinationStreamArn must be a Kinesis stream (arn:aws:kinesis:<region>:<account>:stream/<name>) "
            "or a Firehose delivery stream (arn:aws:firehose:<region>:<account>:deliverystream/<name>)",
            field="DestinationStreamArn",
        )
    return Destination(arn=arn, service=found["service"], name=found["name"])
