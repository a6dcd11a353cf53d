"""NATS JetStream in the role of Kinesis: a project's records published to the stream its event
stream names, in order, each with its event id as the message id (JetStream drops duplicates)."""

from __future__ import annotations

import asyncio

import nats
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

PUBLISH_WINDOW = 256  # publishes in flight at once; acks are awaited in order
DUPLICATE_WINDOW_SECONDS = 3600.0  # a pump restarted within the hour re-sends nothing twice
PUBLISH_TIMEOUT = 30.0  # seconds for one batch once connected


async def _quiet(error: Exception) -> None:
    """Connection errors reach the pump as exceptions; nats-py's own report would only repeat them."""


def stream_name(kinesis_name: str) -> str:
    """The JetStream stream for a Kinesis stream name: NATS names allow no dots, so '.' becomes '_'."""
    return kinesis_name.replace(".", "_")


class Publisher:
    """A connection to one NATS server, driven from a synchronous caller (the pump's thread)."""

    def __init__(self, url: str, connect_timeout: float = 2.0) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self._loop = asyncio.new_event_loop()
        self._client = None
        self._known: set[str] = set()

    def publish(self, stream: str, messages: list[tuple[str, str, bytes]]) -> None:
        """Publish (subject, message id, payload) in order to `stream`, created if missing; raises on
        any failure or after `publish_timeout`, after which the caller sends the same messages again."""
        budget = self.connect_timeout + PUBLISH_TIMEOUT
        self._loop.run_until_complete(asyncio.wait_for(self._publish(stream, messages), budget))

    def close(self) -> None:
        if self._client is not None:
            self._loop.run_until_complete(self._client.close())
            self._client = None
        self._loop.close()

    async def _publish(self, stream: str, messages: list[tuple[str, str, bytes]]) -> None:
        try:
            js = await self._jetstream()
            await self._ensure(js, stream)
            for start in range(0, len(messages), PUBLISH_WINDOW):
                window = messages[start:start + PUBLISH_WINDOW]
                await asyncio.gather(*(js.publish(subject, payload, stream=stream, headers={"Nats-Msg-Id": msg_id})
                                       for subject, msg_id, payload in window))
        except Exception:
            await self._reset()
            raise

    async def _jetstream(self):
        if self._client is None or not self._client.is_connected:
            await self._reset()
            # nats-py keeps retrying a first connection on its own; the pump retries on its schedule.
            self._client = await asyncio.wait_for(
                nats.connect(self.url, connect_timeout=self.connect_timeout, allow_reconnect=False,
                             max_reconnect_attempts=0, error_cb=_quiet),
                self.connect_timeout)
        return self._client.jetstream()

    async def _ensure(self, js, stream: str) -> None:
        if stream in self._known:
            return
        try:
            await js.stream_info(stream)
        except NotFoundError:
            await js.add_stream(StreamConfig(name=stream, subjects=[f"{stream}.>"],
                                             duplicate_window=DUPLICATE_WINDOW_SECONDS))
        self._known.add(stream)

    async def _reset(self) -> None:
        client, self._client = self._client, None
        self._known.clear()
        if client is not None:
            try:
                await client.close()
            except Exception:  # closing a broken connection may fail too; it is gone either way
                pass
