"""The AWS front door: authenticate, route, parse, call one handler, serialize.

Everything that is specific to one AWS API lives in that API's handler table; this module is the
same for all three.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio

from pinfold.api import pinpoint, sesv2, sms_voice
from pinfold.api.protocol import (
    ServiceSpec,
    SignedRequest,
    UnknownOperation,
    WireResponse,
    check_scope,
    detect_service,
    load_services,
    parse_authorization,
    parse_query,
    parse_request,
    refuse_session_token,
    serialize_error,
    serialize_response,
    verify_signature,
)
from pinfold.context import Context
from pinfold.core import logs, metrics
from pinfold.core.access import Caller
from pinfold.core.errors import AuthFailure, InvalidSignature, NotImplementedOperation, PayloadTooLarge, PinfoldError
from pinfold.core.ids import new_request_id
from pinfold.tenancy import identity

log = logging.getLogger("pinfold.api")
# One line per AWS call: service, operation, account, tenant, status, error code, latency, request id.
access_log = logging.getLogger("pinfold.access")
MAX_PAYLOAD = 7 * 1024 * 1024  # Pinpoint's documented request limit; larger bodies are not even buffered

HANDLER_TABLES: dict[str, dict[str, Callable]] = {
    "pinpoint": pinpoint.HANDLERS,
    "sesv2": sesv2.HANDLERS,
    "pinpoint-sms-voice-v2": sms_voice.HANDLERS,
}
# Operations whose work grows with the data (they walk a whole project) run in the thread pool.
LONG_OPERATIONS: dict[str, frozenset[str]] = {
    "pinpoint": pinpoint.LONG_OPERATIONS,
    "sesv2": sesv2.LONG_OPERATIONS,
    "pinpoint-sms-voice-v2": frozenset(),
}


class Request:
    """The parts of an HTTP request the AWS protocols need (header names lower-cased)."""

    __slots__ = ("method", "raw_path", "raw_query", "headers", "body", "_signed")

    def __init__(self, method: str, raw_path: str, raw_query: str, headers: dict[str, str], body: bytes | None):
        self.method, self.raw_path, self.raw_query = method, raw_path, raw_query
        self.headers, self.body = headers, body  # body None: over the payload limit
        self._signed: SignedRequest | AuthFailure | None = None

    def signed(self) -> SignedRequest:
        """The parsed Authorization header (parsed once; a malformed one raises every time)."""
        if self._signed is None:
            try:
                self._signed = parse_authorization(self.headers)
            except AuthFailure as error:
                self._signed = error
        if isinstance(self._signed, AuthFailure):
            raise self._signed
        return self._signed


def authenticate(ctx: Context, request: Request, request_id: str, *, service: str) -> Caller:
    """Verify the SigV4 signature for signing name `service` and return the Caller.

    The scope and token are checked before the key is looked up, so a request for a region Pinfold
    does not serve never reaches a handler (it would start fresh quotas and lists there).
    """
    signed = request.signed()
    check_scope(signed, regions=ctx.settings.served_regions, service=service)
    refuse_session_token(request.headers, request.raw_query)
    secret, principal = identity.lookup_key(ctx, signed.access_key_id)
    verify_signature(
        signed, secret_key=secret, method=request.method, raw_path=request.raw_path,
        raw_query=request.raw_query, headers=request.headers, body=request.body,
        now=datetime.now(UTC),
    )
    return identity.caller_for(principal, region=signed.region, request_id=request_id)


def unserved(services: dict[str, ServiceSpec], request: Request) -> tuple[ServiceSpec | None, PinfoldError]:
    """Why a request that names none of our services is refused, and whose error shape says it (4xx)."""
    by_path = detect_service(services, signing_name=None, target=request.headers.get("x-amz-target"),
                             path=request.raw_path)
    try:
        signed = request.signed()
    except AuthFailure as error:  # unsigned or malformed: AWS's front door answers 403 for these
        return by_path, error
    if by_path is not None:
        return by_path, InvalidSignature(
            f"Credential should be scoped to correct service: '{by_path.signing_name}'.")
    return None, UnknownOperation(
        f"Credential scope names service '{signed.service[:64]}', which Pinfold does not serve; "
        f"it serves {', '.join(sorted(services))}")


@dataclass
class _Call:
    """What the access line tells about one request, filled in as the request is understood."""

    request_id: str
    service: str | None = None
    operation: str | None = None
    caller: Caller | None = None


class AwsGateway:
    """An ASGI app serving the three AWS APIs from their botocore models."""

    def __init__(self, ctx: Context, services: dict[str, ServiceSpec] | None = None) -> None:
        self.ctx = ctx
        self.services = services or load_services()

    def handle(self, request: Request) -> WireResponse:
        """Answer one AWS request, and write its access line."""
        started = time.perf_counter()
        call = _Call(new_request_id())
        response = self._answer(request, call)
        metrics.observe_request(call.service, call.operation, response.status, time.perf_counter() - started)
        if access_log.isEnabledFor(logging.INFO):
            error = next((value for name, value in response.headers if name == "x-amzn-ErrorType"), None)
            caller = call.caller
            logs.access(f"{call.operation or '-'} {response.status}", {
                "service": call.service, "operation": call.operation, "status": response.status, "error": error,
                "account": caller.account_id if caller else None, "tenant": caller.tenant_id if caller else None,
                "ms": round((time.perf_counter() - started) * 1000, 1), "request_id": call.request_id})
        return response

    def _answer(self, request: Request, call: _Call) -> WireResponse:
        request_id = call.request_id
        spec = self._service_of(request)
        if spec is None:
            shape, refusal = unserved(self.services, request)
            return serialize_error(shape, refusal, request_id)
        call.service = spec.name
        try:
            if request.body is None:
                raise PayloadTooLarge(f"Request payload exceeds the {MAX_PAYLOAD // (1024 * 1024)} MB limit")
            caller = call.caller = authenticate(self.ctx, request, request_id, service=spec.signing_name)
            query = parse_query(request.raw_query)
            operation, labels = spec.router.match(
                request.method, request.raw_path, query, request.headers.get("x-amz-target")
            )
            call.operation = operation.name
            handler = HANDLER_TABLES[spec.name].get(operation.name)
            if handler is None:
                raise NotImplementedOperation(f"Pinfold does not implement {spec.name}:{operation.name} yet")
            params = parse_request(spec, operation, labels, query, request.headers, request.body)
            return serialize_response(spec, operation, handler(self.ctx, caller, params), request_id)
        except PinfoldError as error:
            return serialize_error(spec, error, request_id)
        except Exception:
            log.exception("unhandled error in request %s", request_id)
            return serialize_error(spec, PinfoldError(f"Internal error; request id {request_id}"), request_id)

    def _service_of(self, request: Request) -> ServiceSpec | None:
        try:
            signing_name = request.signed().service
        except AuthFailure:
            signing_name = None
        return detect_service(
            self.services, signing_name=signing_name, target=request.headers.get("x-amz-target"),
            path=request.raw_path,
        )

    def _is_long(self, request: Request) -> bool:
        spec = self._service_of(request)
        if spec is None:
            return False
        try:
            operation, _ = spec.router.match(request.method, request.raw_path, parse_query(request.raw_query),
                                             request.headers.get("x-amz-target"))
        except PinfoldError:
            return False
        return operation.name in LONG_OPERATIONS[spec.name]

    async def __call__(self, scope, receive, send) -> None:
        request = await read_request(scope, receive)
        # Most requests are a few short queries: handling them on the event loop costs half the CPU
        # of a hop to a worker thread (measured: 0.54 vs 0.98 ms per GetEndpoint, see docs/decisions.md).
        if self._is_long(request):
            response = await anyio.to_thread.run_sync(self.handle, request)
        else:
            response = self.handle(request)
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(k.encode(), v.encode()) for k, v in response.headers]
                    + [(b"content-length", str(len(response.body)).encode())]})
        await send({"type": "http.response.body", "body": response.body})


async def read_request(scope, receive) -> Request:
    """Buffer the request; a body over MAX_PAYLOAD is dropped as it streams and marked None."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_PAYLOAD:
            chunks.append(chunk)
        if not message.get("more_body"):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    body = b"".join(chunks) if size <= MAX_PAYLOAD else None
    return Request(scope["method"], raw_path, scope["query_string"].decode("latin-1"), headers, body)
