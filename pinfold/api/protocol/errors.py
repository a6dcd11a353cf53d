"""Render typed Pinfold errors in each service's own AWS error shape (the one place codes become HTTP)."""

from __future__ import annotations

import functools

import orjson

from pinfold.api.protocol.models import ServiceSpec, WireResponse
from pinfold.core.errors import AuthFailure, NotFound, PinfoldError


class UnknownOperation(NotFound):
    """No operation of the service matches the request's method and path, or its X-Amz-Target."""


_PINPOINT = {
    "invalid_input": ("BadRequestException", 400),
    "limit_exceeded": ("BadRequestException", 400),
    "not_found": ("NotFoundException", 404),
    "conflict": ("ConflictException", 409),
    "forbidden": ("ForbiddenException", 403),
    "payload_too_large": ("PayloadTooLargeException", 413),
    "throttled": ("TooManyRequestsException", 429),
    "not_implemented": ("NotImplementedException", 501),
    "internal": ("InternalServerErrorException", 500),
}
_SESV2 = {
    "invalid_input": ("BadRequestException", 400),
    "limit_exceeded": ("LimitExceededException", 400),
    "not_found": ("NotFoundException", 404),
    "conflict": ("AlreadyExistsException", 400),
    "forbidden": ("AccessDeniedException", 403),
    "payload_too_large": ("BadRequestException", 400),
    "throttled": ("TooManyRequestsException", 429),
    "not_implemented": ("NotImplementedException", 501),
    "internal": ("InternalServiceErrorException", 500),
    "message_rejected": ("MessageRejected", 400),
    "sending_paused": ("SendingPausedException", 400),
    "mail_from_not_verified": ("MailFromDomainNotVerifiedException", 400),
}
_SMS_VOICE_V2 = {
    "invalid_input": ("ValidationException", 400),
    "limit_exceeded": ("ServiceQuotaExceededException", 400),
    "not_found": ("ResourceNotFoundException", 404),
    "conflict": ("ConflictException", 400),
    "forbidden": ("AccessDeniedException", 403),
    "payload_too_large": ("ValidationException", 400),
    "throttled": ("ThrottlingException", 400),
    "not_implemented": ("NotImplementedException", 501),
    "internal": ("InternalServerException", 500),
}
_BY_SERVICE = {"pinpoint": _PINPOINT, "sesv2": _SESV2, "pinpoint-sms-voice-v2": _SMS_VOICE_V2}
# When the service is unknown there is no error vocabulary to borrow; these names are the common ones.
_GENERIC = {
    "invalid_input": ("ValidationException", 400),
    "not_found": ("UnknownOperationException", 404),
    "internal": ("InternalFailure", 500),
}


def error_code_and_status(spec: ServiceSpec | None, error: PinfoldError) -> tuple[str, int]:
    """The AWS error code and HTTP status this service answers with for `error`."""
    if isinstance(error, AuthFailure):
        return error.aws_code, 403
    if isinstance(error, UnknownOperation) and spec is not None and spec.protocol == "json":
        # AWS's JSON front door answers an unknown X-Amz-Target this way, not with a resource 404.
        return "UnknownOperationException", 400
    table = _BY_SERVICE.get(spec.name, _GENERIC) if spec is not None else _GENERIC
    # A specific error (MessageRejected) falls back to its parent's code where the service has no name for it.
    for kind in type(error).__mro__:
        code = getattr(kind, "code", None)
        if code in table:
            return table[code]
    return table.get("internal") or _GENERIC["internal"]


@functools.lru_cache(maxsize=8)
def _error_member_names(spec: ServiceSpec) -> frozenset[str]:
    """Member names that the service's modelled error shapes carry (e.g. Message, RequestID)."""
    names: set[str] = set()
    for shape in spec.model.error_shapes:
        names.update(shape.members)
    return frozenset(names)


def _rest_json_body(spec: ServiceSpec | None, message: str, request_id: str) -> dict:
    body: dict = {"message": message}
    members = _error_member_names(spec) if spec is not None else frozenset()
    if "Message" in members:
        body["Message"] = message
    if "RequestID" in members:
        body["RequestID"] = request_id
    return body


def _json_body(code: str, error: PinfoldError) -> dict:
    body: dict = {"__type": code, "message": error.message, "Message": error.message}
    if code == "ValidationException" and error.field:
        body["Reason"] = "FIELD_VALIDATION_FAILED"
        body["Fields"] = [{"Name": error.field, "Message": error.message}]
    body.update(error.details)
    return body


def serialize_error(spec: ServiceSpec | None, error: PinfoldError, request_id: str) -> WireResponse:
    """Render a typed error in the service's own error shape; never HTML, never a stack trace."""
    code, status = error_code_and_status(spec, error)
    if spec is not None and spec.protocol == "json":
        version = spec.model.metadata.get("jsonVersion", "1.0")
        content_type = f"application/x-amz-json-{version}"
        body = _json_body(code, error)
    else:
        content_type = "application/json"
        body = _rest_json_body(spec, error.message, request_id)
    headers = [
        ("Content-Type", content_type),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", code),
    ]
    return WireResponse(status, headers, orjson.dumps(body))
