"""Serialize a handler's output dict into the service's wire response by walking the output shape.

Only modelled members go out, with wire names and wire types; encoders are compiled per shape once.
"""

from __future__ import annotations

import base64
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import orjson
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from pinfold.api.protocol.models import ServiceSpec, WireResponse
from pinfold.api.protocol.timestamps import to_epoch, to_iso8601, to_rfc822

Encoder = Callable[[Any], Any]
_LOCATED = ("header", "headers", "statusCode")


def _string(value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, datetime):
        # Pinpoint models its dates as strings; AWS renders them as ISO 8601 with milliseconds.
        return to_iso8601(value, millis=True)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _blob(value: bytes | str) -> str:
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode("ascii")


def _passthrough(value: Any) -> Any:
    return value


def _timestamp(form: str | None) -> Encoder:
    if form == "iso8601":
        return to_iso8601
    if form == "rfc822":
        return to_rfc822
    return to_epoch


_SCALARS: dict[str, Encoder] = {
    "string": _string,
    "integer": int,
    "long": int,
    "float": float,
    "double": float,
    "boolean": bool,
    "blob": _blob,
}


class ShapeEncoders:
    """Encoders for one service model, keyed by shape name and timestamp format (a member may override it)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str | None], Encoder] = {}
        self._building: set[tuple[str, str | None]] = set()

    def for_shape(self, shape: Shape) -> Encoder:
        key = (shape.name, shape.serialization.get("timestampFormat"))
        encoder = self._cache.get(key)
        if encoder is not None:
            return encoder
        if key in self._building:
            cache = self._cache
            return lambda value: cache[key](value)
        self._building.add(key)
        try:
            encoder = self._compile(shape)
        finally:
            self._building.discard(key)
        self._cache[key] = encoder
        return encoder

    def _compile(self, shape: Shape) -> Encoder:
        kind = shape.type_name
        if kind == "structure":
            return self.structure(shape)
        if kind == "list":
            item = self.for_shape(shape.member)
            return lambda value: [item(x) for x in value if x is not None]
        if kind == "map":
            entry = self.for_shape(shape.value)
            return lambda value: {str(k): entry(v) for k, v in value.items() if v is not None}
        if kind == "timestamp":
            return _timestamp(shape.serialization.get("timestampFormat"))
        return _SCALARS.get(kind, _passthrough)

    def structure(self, shape: StructureShape, names: Iterable[str] | None = None) -> Encoder:
        """An encoder emitting `names` (default: all members) under their wire names, dropping Nones."""
        if shape.is_document_type:
            return _passthrough
        members = shape.members
        fields = {
            name: (members[name].serialization.get("name", name), self.for_shape(members[name]))
            for name in (members if names is None else names)
        }

        def encode(value: dict) -> dict:
            out = {}
            for key, item in value.items():
                field = fields.get(key)
                if field is not None and item is not None:
                    out[field[0]] = field[1](item)
            return out

        return encode


@dataclass(frozen=True)
class _Plan:
    status: int
    headers: tuple[tuple[str, str, Encoder], ...] = ()  # (member, header name, value encoder)
    header_maps: tuple[tuple[str, str], ...] = ()  # (member, header prefix)
    status_member: str | None = None
    payload: str | None = None
    payload_kind: str | None = None
    body: Encoder | None = None


def _header_encoder(encoders: ShapeEncoders, shape: Shape) -> Encoder:
    if shape.serialization.get("jsonvalue"):
        return lambda value: base64.b64encode(orjson.dumps(value)).decode("ascii")
    if shape.type_name == "timestamp":
        return _timestamp(shape.serialization.get("timestampFormat", "rfc822"))
    if shape.type_name == "boolean":
        return lambda value: "true" if value else "false"
    if shape.type_name == "list":
        return lambda value: ",".join(_string(x) for x in value)
    encode = encoders.for_shape(shape)
    return lambda value: str(encode(value))


def _build_plan(op: OperationModel) -> _Plan:
    status = op.http.get("responseCode", 200)
    shape = op.output_shape
    if shape is None:
        return _Plan(status)
    encoders = encoders_for(op.service_model)
    if op.service_model.protocol == "json":
        return _Plan(status, body=encoders.structure(shape))
    headers, header_maps, status_member, body_members = [], [], None, []
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "header":
            headers.append((name, wire, _header_encoder(encoders, member)))
        elif location == "headers":
            header_maps.append((name, wire))
        elif location == "statusCode":
            status_member = name
        elif location is None:
            body_members.append(name)
    payload = shape.serialization.get("payload")
    kind = shape.members[payload].type_name if payload else None
    if payload:
        body = encoders.for_shape(shape.members[payload]) if kind == "structure" else None
    else:
        body = encoders.structure(shape, body_members)
    return _Plan(status, tuple(headers), tuple(header_maps), status_member, payload, kind, body)


_PLANS: weakref.WeakKeyDictionary[OperationModel, _Plan] = weakref.WeakKeyDictionary()
_ENCODERS: weakref.WeakKeyDictionary[ServiceModel, ShapeEncoders] = weakref.WeakKeyDictionary()


def encoders_for(model: ServiceModel) -> ShapeEncoders:
    """The encoder cache belonging to `model` (created on first use, dropped with the model)."""
    encoders = _ENCODERS.get(model)
    if encoders is None:
        encoders = _ENCODERS.setdefault(model, ShapeEncoders())
    return encoders


def _plan_for(op: OperationModel) -> _Plan:
    plan = _PLANS.get(op)
    if plan is None:
        plan = _PLANS.setdefault(op, _build_plan(op))
    return plan


def serialize_response(
    spec: ServiceSpec, op: OperationModel, output: dict | None, request_id: str
) -> WireResponse:
    """Serialize a handler's output (output-shape member names, None values dropped) per the protocol."""
    plan = _plan_for(op)
    output = output or {}
    headers = [("x-amzn-RequestId", request_id)]
    if spec.protocol == "json":
        version = spec.model.metadata.get("jsonVersion", "1.0")
        headers.append(("Content-Type", f"application/x-amz-json-{version}"))
        body = orjson.dumps(plan.body(output)) if plan.body is not None else b"{}"
        return WireResponse(plan.status, headers, body)
    status = plan.status
    if plan.status_member is not None and output.get(plan.status_member) is not None:
        status = int(output[plan.status_member])
    _add_headers(plan, output, headers)
    body, content_type = _rest_body(plan, op, output)
    if content_type:
        headers.append(("Content-Type", content_type))
    return WireResponse(status, headers, body)


def _add_headers(plan: _Plan, output: dict, headers: list[tuple[str, str]]) -> None:
    for name, wire, encode in plan.headers:
        value = output.get(name)
        if value is not None:
            headers.append((wire, encode(value)))
    for name, prefix in plan.header_maps:
        for key, value in (output.get(name) or {}).items():
            if value is not None:
                headers.append((prefix + key, _string(value)))


def _rest_body(plan: _Plan, op: OperationModel, output: dict) -> tuple[bytes, str | None]:
    if op.output_shape is None:
        return b"", None
    if plan.payload_kind in ("blob", "string"):
        raw = output.get(plan.payload)
        if raw is None:
            return b"", None
        return (raw.encode() if isinstance(raw, str) else bytes(raw)), "application/octet-stream"
    if plan.payload is not None:
        value = output.get(plan.payload)
        return orjson.dumps(plan.body(value) if value is not None else {}), "application/json"
    return orjson.dumps(plan.body(output)), "application/json"
