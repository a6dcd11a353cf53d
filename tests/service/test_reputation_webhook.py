"""The findings webhook: sent from its own thread, signed on every try, tried again while the receiver is
down or busy, given up at once when it refuses, and never holding up the caller."""

from __future__ import annotations

import logging
import time

import orjson

from pinfold.custom.rules import signing
from pinfold.reputation.webhook import TRIES, FindingsWebhook
from tests.conftest import free_port

KEY = b"k" * 32


def _wait_for(calls: list, count: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while len(calls) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_busy_or_failing_receiver_is_tried_again_and_each_try_is_signed(receiver):
    url, got = receiver
    got.script = [503, 429]  # then 200
    webhook = FindingsWebhook(f"{url}/findings", KEY, retry_seconds=(0.05, 0.05, 0.05))
    started = time.monotonic()
    webhook.tell({"scope": "tenant", "key": "t1", "metric": "bounce", "level": "PAUSE"})
    assert time.monotonic() - started < 0.1  # the caller (the pump) does not wait for the receiver
    _wait_for(got.calls, 3)
    webhook.close()
    assert len(got.calls) == 3
    for call in got.calls:
        body, header = call["body"], call["headers"][signing.HEADER]
        stamp = int(header.split(",")[0].removeprefix("t="))
        assert header == signing.signature(KEY, stamp, body)
        assert orjson.loads(body) == {"scope": "tenant", "key": "t1", "metric": "bounce", "level": "PAUSE"}


def test_a_refusal_is_not_tried_again_and_an_unreachable_receiver_only_so_often(receiver, caplog):
    url, got = receiver
    got.script = [400]
    refused = FindingsWebhook(f"{url}/findings", KEY, retry_seconds=(0.05, 0.05, 0.05))
    refused.tell({"n": 1})
    refused.tell({"n": 2})
    _wait_for(got.calls, 2)
    refused.close()
    assert [orjson.loads(call["body"])["n"] for call in got.calls] == [1, 2]  # the 400 was not tried again

    unreachable = FindingsWebhook(f"http://127.0.0.1:{free_port()}/findings", KEY, retry_seconds=(0.05, 0.05, 0.05))
    with caplog.at_level(logging.WARNING, logger="pinfold.reputation"):
        unreachable.tell({"n": 3})
        time.sleep(1)
        unreachable.close()
    tries = [record.getMessage() for record in caplog.records if "could not take a finding" in record.getMessage()]
    assert len(tries) == TRIES and tries[-1].endswith(f"try {TRIES} of {TRIES}")  # then given up
