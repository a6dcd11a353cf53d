"""FCM through its HTTP v1 API: each push is `POST /v1/projects/<project>/messages:send` with the
message and its token, up to `streams` at once, authorized by an OAuth2 access token.

The access token comes from the project's service account: an RS256 assertion signed with its key,
traded at its `token_uri` (the JWT-bearer grant), and kept until shortly before it expires. A channel
that has only the legacy server key cannot send at all: Google shut that API down in 2024, so every
push is answered with a permanent refusal that says what to configure instead.

What FCM's answers mean here: 200 delivered (the message `name` is the remote id); 429, 5xx and no
answer transient (with Google's Retry-After in the detail); a 401 for Pinfold's own access token
transient (a new one is fetched for the next batch); every other refusal permanent. A service account
Google will not give a token to leaves the pushes transient: they are fine, the credential is not.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable

import httpx
import orjson

from pinfold.push.adapters import jwt
from pinfold.push.adapters.base import ConcurrentSender, OutgoingPush, answer_each, refused
from pinfold.sending.channel import Acknowledged, Outcome

FCM_URL = "https://fcm.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
DEFAULT_STREAMS = 100
TIMEOUT_SECONDS = 10.0
ASSERTION_SECONDS = 3600  # the longest Google accepts
RENEW_BEFORE_SECONDS = 300  # an access token is replaced this long before it expires
LEGACY_SHUT_DOWN = ("Google shut down the FCM legacy API (server keys) in 2024: give the GCM channel a "
                    "service-account JSON (ServiceJson) to send through FCM HTTP v1")
_FIELDS = ("project_id", "client_email", "private_key", "private_key_id", "token_uri")


class FcmGateway:
    """Sends to FCM for one Firebase project, as its service account (the JSON Google gives, as a
    dict). Given only a `legacy_key`, refuses every push (see above)."""

    name = "fcm"

    def __init__(self, service_account: dict | None = None, *, legacy_key: str | None = None,
                 base_url: str = FCM_URL, ca_bundle: str | None = None, streams: int = DEFAULT_STREAMS,
                 timeout: float = TIMEOUT_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._access: tuple[float, str] | None = None  # (expires at, access token), used only on the sender's loop
        self._sender: ConcurrentSender | None = None
        if service_account is None:
            if not legacy_key:
                raise ValueError("FCM needs a service-account JSON")
            self.project_id = None
            return
        missing = [name for name in _FIELDS if not service_account.get(name)]
        if missing:
            raise ValueError(f"the service-account JSON lacks {', '.join(missing)}")
        self.project_id = service_account["project_id"]
        self._email = service_account["client_email"]
        self._key_id = service_account["private_key_id"]
        self._token_uri = service_account["token_uri"]
        self._key = jwt.load_key(service_account["private_key"], "RS256", "service account's private key")
        self._send_url = f"{base_url.rstrip('/')}/v1/projects/{self.project_id}/messages:send"
        self._client = httpx.AsyncClient(http2=True, timeout=timeout,
                                         verify=ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True,
                                         limits=httpx.Limits(max_connections=streams,
                                                             max_keepalive_connections=streams))
        self._sender = ConcurrentSender("pinfold-fcm", streams)

    def __repr__(self) -> str:  # the key and the access token stay out of it
        return f"FcmGateway(project_id={self.project_id!r})" if self.project_id else "FcmGateway(legacy key only)"

    def deliver(self, pushes: list[OutgoingPush], acknowledged: Acknowledged | None = None) -> list[Outcome]:
        if self._sender is None:
            return answer_each(pushes, _legacy_refusal, acknowledged)
        problem = self._sender.run(self._renew_access())
        if problem is not None:
            return answer_each(pushes, problem, acknowledged)
        access_token = self._access[1]  # the whole batch's, even if a 401 drops it meanwhile
        return self._sender.deliver(pushes, lambda push: self._send(push, access_token), acknowledged)

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close(self._client.aclose)

    async def _renew_access(self) -> Callable[[OutgoingPush], Outcome] | None:
        """Have an access token that outlives the batch; None when there is one, else how to answer
        each push."""
        now = self.clock()
        if self._access is not None and now < self._access[0] - RENEW_BEFORE_SECONDS:
            return None
        assertion = jwt.sign({"iss": self._email, "scope": SCOPE, "aud": self._token_uri, "iat": int(now),
                              "exp": int(now) + ASSERTION_SECONDS}, self._key, self._key_id)
        try:
            answer = await self._client.post(self._token_uri, data={"grant_type": GRANT_TYPE, "assertion": assertion})
        except httpx.HTTPError as error:
            return _unauthorized(None, None, f"Google's token endpoint did not answer: {type(error).__name__}", "")
        if answer.status_code != 200:  # an OAuth error body: {"error": ..., "error_description": ...}
            error = _json(answer.content).get("error")
            return _unauthorized(answer.status_code, error if isinstance(error, str) else None,
                                 "Google refused the service account an access token", answer.text)
        granted = _json(answer.content)
        token, lifetime = granted.get("access_token"), granted.get("expires_in", ASSERTION_SECONDS)
        if not isinstance(token, str) or not isinstance(lifetime, int | float):
            return _unauthorized(200, None, "Google's token endpoint gave no access token", "")
        self._access = (now + lifetime, token)
        return None

    async def _send(self, push: OutgoingPush, access_token: str) -> Outcome:
        if push.platform != "GCM":
            return refused("permanent", push, code=None, error=None,
                           message=f"FCM does not carry {push.platform} pushes")
        try:
            answer = await self._client.post(
                self._send_url, content=orjson.dumps({"message": {**push.payload, "token": push.token}}),
                headers={"authorization": f"Bearer {access_token}", "content-type": "application/json"})
        except httpx.HTTPError as error:
            return refused("transient", push, code=None, error=None,
                           message=f"FCM did not answer: {type(error).__name__} {error}".strip())
        if answer.status_code == 200:
            name = _json(answer.content).get("name")
            return Outcome("delivered", "accepted by FCM", 200, remote_id=name if isinstance(name, str) else None)
        error, message = _fcm_error(answer.content)
        code = answer.status_code
        ours = code == 401 and error != "THIRD_PARTY_AUTH_ERROR"  # Pinfold's access token, not the push
        if ours:
            self._access = None
        status = "transient" if ours or code == 429 or code >= 500 else "permanent"
        return refused(status, push, code=code, error=error, response=answer.text,
                       message=f"FCM refused the push: {message or error or f'HTTP {code}'}",
                       retry_after=answer.headers.get("retry-after") if status == "transient" else None)


def _fcm_error(body: bytes) -> tuple[str | None, str]:
    """(FCM's error code, else the error's status; Google's message) from an error body."""
    error = _json(body).get("error")
    if not isinstance(error, dict):
        return None, ""
    details = error.get("details") if isinstance(error.get("details"), list) else []
    code = next((detail.get("errorCode") for detail in details
                 if isinstance(detail, dict) and detail.get("@type") == FCM_ERROR), None)
    message = error.get("message")
    return code or error.get("status"), message if isinstance(message, str) else ""


def _json(body: bytes) -> dict:
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _unauthorized(code: int | None, error: str | None, message: str, response: str):
    return lambda push: refused("transient", push, code=code, error=error, message=message, response=response)


def _legacy_refusal(push: OutgoingPush) -> Outcome:
    return refused("permanent", push, code=None, error=None, message=LEGACY_SHUT_DOWN)
