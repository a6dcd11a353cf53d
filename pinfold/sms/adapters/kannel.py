"""Kannel as the SMS gateway: each text is one request to smsbox's HTTP `sendsms` interface, with a
delivery-report URL back into Pinfold.

PINFOLD_SMS_GATEWAY names it: `http://user:password@host:port/cgi-bin/sendsms`, with any query
parameters Kannel should get on every request (`smsc=` to route), and Pinfold's own `connections=N`
(requests in flight at once, default 8) and `reports=off`.

Delivery reports cost: Kannel 1.4.5 with its internal DLR store carried about 190 texts/s on a
2-core machine when each asked for a report, against about 790 without (benchmarks/sms.py measures
both). `reports=off` asks for none: texts then stay `sent` (the carrier took them) and no
`_SMS.SUCCESS` follows, for deployments that need the throughput more than the handset's answer.

Kannel answers 202 once it has taken a text ("0: Accepted for delivery", or "3: Queued for later
delivery" while no SMSC is up) and tells nothing more then: its reply carries no id. What happened
after comes as delivery reports to the `dlr-url` each request names, which carries Pinfold's message
id (so the reports find their message) and a token only Pinfold can make (so nobody else can forge
one). A 4xx other than a refused login means the text itself was refused; a refused login, a 5xx or
no answer leaves the text to be tried again.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from pinfold.sending.channel import Acknowledged, Outcome
from pinfold.sms.adapters.base import OutgoingText

DEFAULT_CONNECTIONS = 8
MAX_CONNECTIONS = 64
TIMEOUT_SECONDS = 10.0
# The reports asked for: 1 delivered to the phone, 2 not delivered to the phone, 4 queued at the
# SMSC, 16 not delivered to the SMSC. Not 8 (delivered to the SMSC): the 202 already said the text was
# taken, and that report would be one more request per text for nothing.
DLR_MASK = 1 | 2 | 4 | 16
_CODING = {"GSM": "0", "Unicode": "2"}  # Kannel's 7-bit and UCS-2 codings


class KannelGateway:
    """Sends through one Kannel smsbox; `report_url(message_id)` is the delivery-report URL for a text."""

    name = "kannel"

    def __init__(self, url: str, report_url: Callable[[str], str]) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the Kannel gateway is an http(s)://user:password@host:port/cgi-bin/sendsms URL")
        query = dict(parse_qsl(parts.query))
        connections = int(query.pop("connections", DEFAULT_CONNECTIONS))
        if not 1 <= connections <= MAX_CONNECTIONS:
            raise ValueError(f"connections must be 1 to {MAX_CONNECTIONS}")
        reports = query.pop("reports", "on")
        if reports not in ("on", "off"):
            raise ValueError("reports must be on or off")
        self.reports = reports == "on"
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.endpoint = urlunsplit((parts.scheme, netloc, parts.path or "/cgi-bin/sendsms", "", ""))
        self.fixed = {**query, "username": parts.username or "", "password": parts.password or ""}
        self.report_url = report_url
        self.connections = connections
        self._client = httpx.Client(timeout=TIMEOUT_SECONDS,
                                    limits=httpx.Limits(max_connections=connections,
                                                        max_keepalive_connections=connections))
        self._pool = ThreadPoolExecutor(max_workers=connections, thread_name_prefix="pinfold-kannel")

    def __repr__(self) -> str:  # the URL holds a password
        return f"KannelGateway({self.endpoint})"

    def deliver(self, texts: list[OutgoingText], acknowledged: Acknowledged | None = None) -> list[Outcome]:
        """Up to `connections` requests in flight; each outcome is told as it comes. Once `acknowledged`
        answers False, no more texts are sent (those in flight finish)."""
        outcomes: list[Outcome | None] = [None] * len(texts)
        pending: dict = {}
        stopped = False
        queue = iter(enumerate(texts))
        while True:
            while not stopped and len(pending) < self.connections:
                position, text = next(queue, (None, None))
                if text is None:
                    break
                pending[self._pool.submit(self._send, text)] = position
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                position = pending.pop(future)
                outcomes[position] = future.result()
                if acknowledged is not None and acknowledged(position, outcomes[position]) is False:
                    stopped = True
        return [outcome for outcome in outcomes if outcome is not None]

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()

    def _send(self, text: OutgoingText) -> Outcome:
        params = {**self.fixed, "from": text.origination, "to": text.destination, "text": text.body,
                  "charset": "UTF-8", "coding": _CODING.get(text.encoding, "0")}
        if self.reports:
            params.update({"dlr-mask": str(DLR_MASK), "dlr-url": self.report_url(text.message_id)})
        try:
            answer = self._client.get(self.endpoint, params=params)
        except httpx.HTTPError as error:
            return Outcome("transient", f"Kannel did not answer: {type(error).__name__}",
                           enhanced="CARRIER_UNREACHABLE")
        reply = answer.text.strip()[:200]
        if answer.status_code == 202:
            return Outcome("delivered", reply, 202, "SUCCESSFUL", text.message_id)
        if answer.status_code in (401, 403):  # Pinfold's credentials for Kannel are wrong: the texts are fine
            return Outcome("transient", f"Kannel refused Pinfold's login: {reply}", answer.status_code, "UNKNOWN")
        if 400 <= answer.status_code < 500:
            return Outcome("permanent", reply, answer.status_code, "INVALID")
        return Outcome("transient", reply or f"HTTP {answer.status_code}", answer.status_code, "CARRIER_UNREACHABLE")
