"""Typed errors with stable codes.

The domain and services raise these and never know about HTTP. Each edge (the AWS wire, the admin
API, the CLI) translates a code into its own shape exactly once.
"""

from __future__ import annotations


class PinfoldError(Exception):
    """Base class: `code` is stable and machine-readable, the message is for people."""

    code = "internal"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # Members an AWS error shape carries beside its message (SMS-Voice v2's Reason, ResourceType,
        # ResourceId), which the JSON services put at the top level of the error body.
        self.details = details or {}


class InvalidInput(PinfoldError):
    """The request is malformed or breaks a documented rule (names the field when there is one)."""

    code = "invalid_input"


class LimitExceeded(PinfoldError):
    """A documented quota or size limit would be exceeded; the message names the limit."""

    code = "limit_exceeded"


class NotFound(PinfoldError):
    """The resource does not exist, or the caller may not know that it exists."""

    code = "not_found"


class Conflict(PinfoldError):
    """The change collides with existing state (an address already held, a duplicate name)."""

    code = "conflict"


class Forbidden(PinfoldError):
    """The caller is known but its scope or status does not allow the action."""

    code = "forbidden"


class PayloadTooLarge(PinfoldError):
    code = "payload_too_large"


class Throttled(PinfoldError):
    code = "throttled"


class NotImplementedOperation(PinfoldError):
    """An operation in the service model that Pinfold does not implement yet."""

    code = "not_implemented"


class MessageRejected(InvalidInput):
    """The message itself cannot be sent (unverified sender or recipient in the sandbox, bad content)."""

    code = "message_rejected"


class SendingPaused(Forbidden):
    """Sending is paused for the account, configuration set or tenant the request names."""

    code = "sending_paused"


class MailFromDomainNotVerified(InvalidInput):
    code = "mail_from_not_verified"


class AuthFailure(PinfoldError):
    """Request authentication failed; `aws_code` is the error AWS's front door returns."""

    code = "auth_failure"
    aws_code = "AccessDeniedException"


class MissingAuthentication(AuthFailure):
    aws_code = "MissingAuthenticationTokenException"


class IncompleteSignature(AuthFailure):
    aws_code = "IncompleteSignatureException"


class UnrecognizedClient(AuthFailure):
    aws_code = "UnrecognizedClientException"


class InvalidSignature(AuthFailure):
    aws_code = "InvalidSignatureException"
