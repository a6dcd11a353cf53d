"""Push providers on loopback for the push tests, built from the protocol facts (docs research
channels-sms-push.md §3.4, §3.5), each an ASGI app served by hypercorn on a thread of its own.

- `FakeApns`: Apple's provider API over TLS with ALPN h2 only (certificates from trustme). It checks
  what APNs checks (HTTP/2, `POST /3/device/<hex token>`, apns-topic, the ES256 provider token or,
  configured so, a client certificate; the payload limit) and answers by token prefix: `invalid` 410
  Unregistered, `bad` 400 BadDeviceToken, `throttle` 429 TooManyRequests, `down` 503
  ServiceUnavailable; any other hex token 200 with an apns-id.
- `FakeFcm`: Google's token endpoint (the JWT-bearer grant, checked against the service account's
  public key; like Google it does not insist that `aud` is its own URL) and FCM's
  `/v1/projects/<project>/messages:send`, over plain HTTP/1.1, answering by token prefix as above
  with FCM's error shapes.

Both record what they accepted. The JWT checks are written here with `cryptography` directly, so
they test the adapters' signing rather than share it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import orjson
import trustme
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID
from hypercorn.asyncio import serve
from hypercorn.config import Config

from tests.conftest import free_port

TEAM_ID = "TEAM123456"
KEY_ID = "KEY1234567"
BUNDLE_ID = "com.example.pinfold"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_DEVICE = re.compile(r"/3/device/([^/]+)")
_SEND = re.compile(r"/v1/projects/([^/]+)/messages:send")


def ec_key() -> tuple[str, ec.EllipticCurvePublicKey]:
    """A P-256 key as Apple issues one (.p8, PKCS#8 PEM), and its public half."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


def service_account(token_uri: str = "") -> tuple[dict, rsa.RSAPublicKey]:
    """A Google service-account JSON (as a dict) with a fresh RSA 2048 key, and its public half."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    account = {
        "type": "service_account", "project_id": "pinfold-test", "private_key_id": uuid.uuid4().hex,
        "private_key": pem, "client_email": "pinfold@pinfold-test.iam.gserviceaccount.com",
        "client_id": "1234567890", "token_uri": token_uri,
    }
    return account, key.public_key()


def self_signed(subject: x509.Name) -> tuple[str, str]:
    """A self-signed client certificate for `subject` and its key, both PEM (Apple's push certificates
    carry the bundle id as the subject's UID)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
                   .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), pem


def pem(key) -> str:
    """A private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def apple_key() -> str:
    """Apple's .p8 token key, as UpdateApnsChannel's TokenKey."""
    return ec_key()[0]


def certificate_and_key() -> tuple[str, str]:
    """An APNs client certificate for BUNDLE_ID and its key, as UpdateApnsChannel's Certificate and PrivateKey."""
    return self_signed(x509.Name([x509.NameAttribute(NameOID.USER_ID, BUNDLE_ID)]))


def service_json(**changes) -> str:
    """A service account's JSON key as UpdateGcmChannel's ServiceJson, with `changes` over its members."""
    account, _public = service_account("https://oauth2.googleapis.com/token")
    return orjson.dumps({**account, **changes}).decode()


def verified_jwt(token: str, public_key) -> tuple[dict, dict] | None:
    """(header, claims) of a compact JWT whose ES256 or RS256 signature `public_key` verifies; else None."""
    try:
        header_part, claims_part, signature_part = token.split(".")
        header, claims = json.loads(_decode(header_part)), json.loads(_decode(claims_part))
        signature, signed = _decode(signature_part), f"{header_part}.{claims_part}".encode()
        if header.get("alg") == "ES256" and isinstance(public_key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                return None
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            public_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        elif header.get("alg") == "RS256" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        else:
            return None
    except (ValueError, InvalidSignature):
        return None
    return header, claims


def _decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class _App:
    """An ASGI app answering each request from `answer(scope, body)`; lifespan events are acknowledged."""

    delay = 0.0  # seconds each request takes, so a test can see how many are in flight at once

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            status, headers, answer = self.answer(scope, {k.decode().lower(): v.decode() for k, v in scope["headers"]},
                                                  body)
        finally:
            self.in_flight -= 1
        content = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode(), v.encode()) for k, v in headers.items()]})
        await send({"type": "http.response.body", "body": content})

    def answer(self, scope, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes | dict]:
        raise NotImplementedError


class FakeApns(_App):
    """APNs: by provider token (verified with `public_key`) unless `certificates` (then TLS checks the
    client certificate). `pushes` holds each accepted push; `tokens` each distinct provider token seen."""

    def __init__(self, public_key=None, *, certificates: bool = False) -> None:
        super().__init__()
        self.public_key = public_key
        self.certificates = certificates
        self.pushes: list[dict] = []
        self.tokens: set[str] = set()
        self._verified: dict[str, dict] = {}  # the claims of each provider token that verified
        self.refused: list[tuple[int, str]] = []

    def answer(self, scope, headers, body):
        if scope["http_version"] != "2":
            return self._refuse(505, "HTTPVersionNotSupported")
        if scope["method"] != "POST":
            return self._refuse(405, "MethodNotAllowed")
        path = _DEVICE.fullmatch(scope["path"])
        if path is None:
            return self._refuse(404, "BadPath")
        if not self.certificates:
            problem = self._provider_token_problem(headers.get("authorization", ""))
            if problem:
                return self._refuse(403, problem)
        if not headers.get("apns-topic"):
            return self._refuse(400, "MissingTopic")
        if len(body) > (5120 if headers.get("apns-push-type") == "voip" else 4096):
            return self._refuse(413, "PayloadTooLarge")
        if not body:
            return self._refuse(400, "PayloadEmpty")
        device = path.group(1)
        if device.startswith("invalid"):
            return self._refuse(410, "Unregistered", timestamp=int(time.time() * 1000))
        if device.startswith("throttle"):
            return self._refuse(429, "TooManyRequests")
        if device.startswith("down"):
            return self._refuse(503, "ServiceUnavailable")
        if device.startswith("bad") or not re.fullmatch(r"[0-9a-fA-F]+", device):
            return self._refuse(400, "BadDeviceToken")
        apns_id = headers.get("apns-id") or str(uuid.uuid4()).upper()
        self.pushes.append({"token": device, "headers": headers, "payload": json.loads(body), "apns_id": apns_id,
                            "client": tuple(scope["client"])})
        return 200, {"apns-id": apns_id}, b""

    def _provider_token_problem(self, authorization: str) -> str | None:
        if not authorization.startswith("bearer "):
            return "MissingProviderToken"
        token = authorization.removeprefix("bearer ")
        claims = self._verified.get(token)  # a token is checked once, as a connection's is at Apple
        if claims is None:
            verified = verified_jwt(token, self.public_key)
            if verified is None:
                return "InvalidProviderToken"
            header, claims = verified
            if header.get("kid") != KEY_ID or claims.get("iss") != TEAM_ID or not isinstance(claims.get("iat"), int):
                return "InvalidProviderToken"
            self._verified[token] = claims
        if claims["iat"] < time.time() - 3600:
            return "ExpiredProviderToken"
        if claims["iat"] > time.time() + 60:
            return "InvalidProviderToken"
        self.tokens.add(token)
        return None

    def _refuse(self, status: int, reason: str, **more):
        self.refused.append((status, reason))
        return status, {"content-type": "application/json"}, {"reason": reason, **more}

    def reset(self) -> None:
        self.pushes.clear()
        self.tokens.clear()
        self._verified.clear()
        self.refused.clear()
        self.most_in_flight = 0


class FakeFcm(_App):
    """FCM HTTP v1 and the OAuth2 token endpoint of one service account. `messages` holds each
    accepted message; `issued` each access token given, in order; `lifetime` is their expires_in."""

    def __init__(self, account: dict, public_key: rsa.RSAPublicKey, *, lifetime: int = 3600) -> None:
        super().__init__()
        self.account = account
        self.public_key = public_key
        self.lifetime = lifetime
        self.messages: list[dict] = []
        self.issued: list[str] = []
        self.assertions: list[dict] = []  # the claims of each accepted assertion

    def answer(self, scope, headers, body):
        if scope["method"] == "POST" and scope["path"] == "/token":
            return self._grant(parse_qs(body.decode()))
        project = _SEND.fullmatch(scope["path"])
        if scope["method"] != "POST" or project is None:
            return 404, {}, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}}
        if headers.get("authorization", "").removeprefix("Bearer ") not in self.issued:
            return _google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if project.group(1) != self.account["project_id"]:
            return _google_error(403, "PERMISSION_DENIED", "Permission denied on the project.")
        message = json.loads(body).get("message", {})
        token = message.get("token", "")
        if token.startswith("invalid"):
            return _google_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        if token.startswith("bad") or not token:
            return _google_error(400, "INVALID_ARGUMENT",
                                 "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT")
        if token.startswith("throttle"):
            status, answer_headers, answer = _google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.",
                                                           "QUOTA_EXCEEDED")
            return status, {**answer_headers, "retry-after": "30"}, answer
        if token.startswith("down"):
            return _google_error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE")
        self.messages.append(message)
        return 200, {"content-type": "application/json"}, {
            "name": f"projects/{self.account['project_id']}/messages/0:{len(self.messages)}"}

    def _grant(self, form: dict[str, list[str]]):
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return 400, {}, {"error": "unsupported_grant_type"}
        verified = verified_jwt(form.get("assertion", [""])[0], self.public_key)
        if verified is None:
            return 400, {}, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        header, claims = verified
        good = (header.get("kid") == self.account["private_key_id"]
                and claims.get("iss") == self.account["client_email"]
                and "https://www.googleapis.com/auth/firebase.messaging" in claims.get("scope", "").split()
                and isinstance(claims.get("aud"), str) and claims["aud"]
                and isinstance(claims.get("iat"), int) and isinstance(claims.get("exp"), int)
                and 0 < claims["exp"] - claims["iat"] <= 3600 and abs(claims["iat"] - time.time()) < 3600)
        if not good:
            return 400, {}, {"error": "invalid_grant", "error_description": "Invalid JWT claims."}
        self.assertions.append(claims)
        self.issued.append(f"ya29.fake-{uuid.uuid4().hex}")
        return 200, {"content-type": "application/json"}, {
            "access_token": self.issued[-1], "expires_in": self.lifetime, "token_type": "Bearer"}

    def reset(self) -> None:
        self.messages.clear()
        self.issued.clear()
        self.assertions.clear()
        self.most_in_flight = 0


def _google_error(code: int, status: str, message: str, fcm_code: str | None = None):
    details = [{"@type": FCM_ERROR, "errorCode": fcm_code}] if fcm_code else []
    return code, {"content-type": "application/json"}, {
        "error": {"code": code, "message": message, "status": status, "details": details}}


@contextmanager
def serving(app: _App, *, ca: trustme.CA | None = None, clients: bytes | None = None) -> Iterator[str]:
    """Serve `app` on a free loopback port until the block ends; yields its base URL. With `ca`, over
    TLS (a certificate for 127.0.0.1 from it) offering only h2; with `clients` (PEM certificates) as
    well, only to clients presenting a certificate they issued."""
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.errorlog = None
    config.graceful_timeout = 1
    config.keep_alive_max_requests = 10**9
    with tempfile.TemporaryDirectory(prefix="pinfold-push-fake-") as folder:
        if ca is not None:
            certificate = ca.issue_cert("127.0.0.1", "localhost")
            certificate.cert_chain_pems[0].write_to_path(config_path := str(Path(folder) / "server.pem"))
            certificate.private_key_pem.write_to_path(key_path := str(Path(folder) / "server.key"))
            config.certfile, config.keyfile = config_path, key_path
            config.alpn_protocols = ["h2"]
        if clients is not None:
            (Path(folder) / "clients.pem").write_bytes(clients)
            config.ca_certs, config.verify_mode = str(Path(folder) / "clients.pem"), ssl.CERT_REQUIRED
        loop = asyncio.new_event_loop()
        stopping = asyncio.Event()
        thread = threading.Thread(target=loop.run_until_complete, daemon=True, name="push-fake",
                                  args=(serve(app, config, shutdown_trigger=stopping.wait),))
        thread.start()
        try:
            _wait_for(port)
            yield f"{'https' if ca else 'http'}://127.0.0.1:{port}"
        finally:
            loop.call_soon_threadsafe(stopping.set)
            thread.join(10)
            if thread.is_alive():  # hypercorn waits for its connections to close
                raise RuntimeError("the fake did not stop: close the adapters that use it first")
            loop.close()


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
