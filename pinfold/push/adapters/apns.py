"""APNs through Apple's provider API: each push is `POST /3/device/<token>` on one HTTP/2 connection
per environment (production for APNS and APNS_VOIP, sandbox for the _SANDBOX platforms), up to
`streams` at once.

Authentication is a provider token (an ES256 JWT made with the team's `.p8` key) or a client
certificate. The provider token goes in every request but is signed again only every
`renew_after` seconds (40 minutes by default): Apple refuses one older than an hour, and answers
TooManyProviderTokenUpdates when a provider changes it more often than every 20 minutes.

What Apple's answers mean here: 200 delivered (the `apns-id` it returns is the remote id); 429, 5xx
and no answer transient; every other refusal permanent, including the credential ones (403) Apple
says not to retry, except ExpiredProviderToken (only a clock that is off here causes it): transient,
as a later token may be taken.
"""

from __future__ import annotations

import os
import ssl
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import orjson
from cryptography import x509
from cryptography.x509.oid import NameOID

from pinfold.push.adapters import jwt
from pinfold.push.adapters.base import APNS_PLATFORMS, ConcurrentSender, OutgoingPush, refused
from pinfold.sending.channel import Acknowledged, Outcome

PRODUCTION_URL = "https://api.push.apple.com"
SANDBOX_URL = "https://api.sandbox.push.apple.com"
DEFAULT_STREAMS = 100  # also the most streams httpx opens on one HTTP/2 connection
TIMEOUT_SECONDS = 10.0
RENEW_AFTER_SECONDS = 40 * 60
EARLIEST_RENEWAL_SECONDS = 20 * 60  # Apple's floor between two provider tokens
_SANDBOX = frozenset({"APNS_SANDBOX", "APNS_VOIP_SANDBOX"})
_VOIP = frozenset({"APNS_VOIP", "APNS_VOIP_SANDBOX"})


class ApnsGateway:
    """Sends to APNs for one app (`topic`, its bundle id), by provider token (`team_id`, `key_id`,
    `token_key` the `.p8` PEM) or by client certificate (`certificate` and `certificate_key`, PEM).
    With a certificate the topic may be left out: Apple's push certificates name the bundle id as
    their subject's UID."""

    name = "apns"

    def __init__(self, topic: str | None = None, *, team_id: str | None = None, key_id: str | None = None,
                 token_key: str | None = None, certificate: str | None = None, certificate_key: str | None = None,
                 production_url: str = PRODUCTION_URL, sandbox_url: str = SANDBOX_URL,
                 ca_bundle: str | None = None, streams: int = DEFAULT_STREAMS, timeout: float = TIMEOUT_SECONDS,
                 renew_after: float = RENEW_AFTER_SECONDS, clock: Callable[[], float] = time.time) -> None:
        signing = (team_id, key_id, token_key)
        if any(signing) and not all(signing):
            raise ValueError("token authentication needs the team id, the key id and the .p8 signing key")
        if not token_key and not certificate:
            raise ValueError("APNs needs a .p8 signing key or a client certificate")
        topic = topic or (_certificate_topic(certificate) if certificate else None)
        if not topic:
            raise ValueError("APNs needs the app's bundle id as its topic")
        if not EARLIEST_RENEWAL_SECONDS <= renew_after < 3600:
            raise ValueError("renew_after must be from 20 minutes to less than an hour")
        self.topic = topic
        self.auth = "token" if token_key else "certificate"
        self.production_url = production_url.rstrip("/")
        self.sandbox_url = sandbox_url.rstrip("/")
        self.renew_after = renew_after
        self.clock = clock
        self._team_id, self._key_id = team_id, key_id
        self._key = jwt.load_key(token_key, "ES256", "APNs signing key") if token_key else None
        self._token: tuple[float, str] | None = None  # (signed at, JWT), used only on the sender's loop
        self._client = httpx.AsyncClient(http1=False, http2=True, timeout=timeout,
                                         verify=_tls_context(ca_bundle, certificate, certificate_key))
        self._sender = ConcurrentSender("pinfold-apns", streams)

    def __repr__(self) -> str:  # the key, the certificate and the token stay out of it
        return f"ApnsGateway(topic={self.topic!r}, auth={self.auth!r})"

    def deliver(self, pushes: list[OutgoingPush], acknowledged: Acknowledged | None = None) -> list[Outcome]:
        return self._sender.deliver(pushes, self._send, acknowledged)

    def close(self) -> None:
        self._sender.close(self._client.aclose)

    async def _send(self, push: OutgoingPush) -> Outcome:
        if push.platform not in APNS_PLATFORMS:
            return refused("permanent", push, code=None, error=None,
                           message=f"APNs does not carry {push.platform} pushes")
        base = self.sandbox_url if push.platform in _SANDBOX else self.production_url
        headers = httpx.Headers(push.headers)
        if "apns-topic" not in headers:
            voip = push.platform in _VOIP and not self.topic.endswith(".voip")  # a VoIP certificate's is already
            headers["apns-topic"] = f"{self.topic}.voip" if voip else self.topic
        if self._key is not None:
            headers["authorization"] = f"bearer {self._provider_token()}"
        try:
            answer = await self._client.post(f"{base}/3/device/{quote(push.token, safe='')}",
                                             content=orjson.dumps(push.payload), headers=headers)
        except httpx.HTTPError as error:
            return refused("transient", push, code=None, error=None,
                           message=f"APNs did not answer: {type(error).__name__} {error}".strip())
        if answer.status_code == 200:
            return Outcome("delivered", "accepted by APNs", 200, remote_id=answer.headers.get("apns-id"))
        reason = _reason(answer.content)
        status = "transient" if answer.status_code == 429 or answer.status_code >= 500 \
            or reason == "ExpiredProviderToken" else "permanent"
        return refused(status, push, code=answer.status_code, error=reason, response=answer.text,
                       message=f"APNs refused the push: {reason or f'HTTP {answer.status_code}'}")

    def _provider_token(self) -> str:
        """The current provider token, signed again once it is `renew_after` old."""
        now = self.clock()
        if self._token is None or now - self._token[0] >= self.renew_after:
            self._token = (now, jwt.sign({"iss": self._team_id, "iat": int(now)}, self._key, self._key_id))
        return self._token[1]


def _reason(body: bytes) -> str | None:
    """The `reason` of an APNs error body, if it has one."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    reason = answer.get("reason") if isinstance(answer, dict) else None
    return reason if isinstance(reason, str) else None


def _certificate_topic(certificate: str) -> str | None:
    """The bundle id an Apple push certificate is for: its subject's UID."""
    try:
        subject = x509.load_pem_x509_certificate(certificate.encode()).subject
    except ValueError:
        raise ValueError("the APNs certificate is not a PEM certificate") from None
    uids = subject.get_attributes_for_oid(NameOID.USER_ID)
    return str(uids[0].value) if uids else None


def _tls_context(ca_bundle: str | None, certificate: str | None, key: str | None) -> ssl.SSLContext:
    """TLS to APNs: verified against `ca_bundle` (else the usual roots), presenting the client
    certificate when there is one. ssl reads a certificate only from a file, so it is written to a
    private temporary folder and removed as soon as it is read."""
    context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else httpx.create_ssl_context()
    if not certificate:
        return context
    with tempfile.TemporaryDirectory(prefix="pinfold-apns-") as folder:
        path = Path(folder) / "client.pem"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(f"{(key or '').strip()}\n{certificate.strip()}\n")
        try:
            context.load_cert_chain(path)
        except ssl.SSLError:
            raise ValueError("the APNs certificate and its private key are not a matching PEM pair") from None
    return context
