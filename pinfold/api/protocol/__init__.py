"""The AWS wire protocols (rest-json and json 1.0), driven by botocore's service models.

Routing, request parsing and validation, response and error serialization, and SigV4 checking.
"""

from pinfold.api.protocol.errors import UnknownOperation, error_code_and_status, serialize_error
from pinfold.api.protocol.models import ServiceSpec, WireResponse, detect_service, load_services
from pinfold.api.protocol.parsing import parse_query, parse_request
from pinfold.api.protocol.routing import Router
from pinfold.api.protocol.serialization import serialize_response
from pinfold.api.protocol.sigv4 import (
    SignedRequest,
    check_scope,
    parse_authorization,
    refuse_session_token,
    verify_signature,
)

__all__ = [
    "Router",
    "ServiceSpec",
    "SignedRequest",
    "UnknownOperation",
    "WireResponse",
    "check_scope",
    "detect_service",
    "error_code_and_status",
    "load_services",
    "parse_authorization",
    "parse_query",
    "parse_request",
    "refuse_session_token",
    "serialize_error",
    "serialize_response",
    "verify_signature",
]
