"""The SMTP listener that receives bounces and complaints and hands each one to a callback.

Runs aiosmtpd in its own thread. A message is acknowledged (250) only after every feedback it
carries was handed over; when the callback fails the reply is 451, so the sending MTA keeps the
message and retries later and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiosmtpd.controller import Controller

from pinfold.email import reports as feedback_parser
from pinfold.email.adapters.base import Feedback

log = logging.getLogger("pinfold.inbound")


class _Controller(Controller):
    """aiosmtpd's controller, able to listen on port 0 (the OS picks a free port)."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Handler:
    def __init__(self, on_feedback: Callable[[Feedback], None]) -> None:
        self._on_feedback = on_feedback

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        data = envelope.original_content or envelope.content or b""
        recipients = list(envelope.rcpt_tos)
        loop = asyncio.get_running_loop()
        # Parsing and the callback (which usually writes to the database) must not block other sessions.
        return await loop.run_in_executor(None, self._process, data, envelope.mail_from, recipients)

    def _process(self, data: bytes, mail_from: str, recipients: list[str]) -> str:
        found = feedback_parser.parse(data, recipients)
        log.info("feedback mail from=%s to=%s bytes=%d: %s", mail_from or "<>", ",".join(recipients), len(data),
                 ", ".join(f"{f.kind}({len(f.recipients)}) of {f.message_id}" for f in found) or "nothing recognised")
        for item in found:
            try:
                self._on_feedback(item)
            except Exception:
                log.exception("feedback callback failed; asking the sender to retry")
                return "451 4.3.0 Feedback could not be recorded, try again later"
        return "250 2.0.0 OK"


class FeedbackListener:
    """An SMTP server for the feedback domain: `start()`, `stop()`, and `.port` once started."""

    def __init__(self, host: str, port: int, on_feedback: Callable[[Feedback], None], *,
                 max_message_bytes: int = 10 * 1024 * 1024) -> None:
        self.host = host
        self._controller = _Controller(_Handler(on_feedback), hostname=host, port=port,
                                       data_size_limit=max_message_bytes, enable_SMTPUTF8=True)

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> None:
        self._controller.start()
        log.info("feedback listener on %s:%d", self.host, self.port)

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> FeedbackListener:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
