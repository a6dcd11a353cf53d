"""Turn an HTTP request into the operation's input dict, exactly as a boto3 caller passed it, validated.

Each operation gets a plan on first use: where every input member lives on the wire and the
compiled decoder that converts and validates it. Per request only the plan runs.
"""

from __future__ import annotations

import base64
import binascii
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import orjson
from botocore.model import OperationModel, Shape

from pinfold.api.protocol.models import ServiceSpec
from pinfold.api.protocol.validation import Decoder, FieldError, ShapeDecoders, decoders_for, missing
from pinfold.core.errors import InvalidInput


@dataclass(frozen=True)
class _Located:
    """An input member bound to a URI label, query key, header or header prefix."""

    name: str
    wire: str
    decode: Callable[[Any], Any]
    many: bool = False  # a list member bound to a query key takes every repeated value


@dataclass(frozen=True)
class _Plan:
    uri: tuple[_Located, ...] = ()
    query: tuple[_Located, ...] = ()
    query_map: _Located | None = None
    headers: tuple[_Located, ...] = ()
    header_maps: tuple[_Located, ...] = ()
    payload: str | None = None
    payload_kind: str | None = None  # "structure" is a JSON document; "blob"/"string" the raw body
    body: Decoder | None = None  # the non-located members, read from a JSON object body
    required: tuple[str, ...] = ()


def _text_converter(shape: Shape) -> Callable[[str], Any]:
    """Turn a label, query or header string into the JSON-like value the shape's decoder expects."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        return _number(int, " must be an integer")
    if kind in ("float", "double"):
        return _number(float, " must be a number")
    if kind == "boolean":
        return _boolean_text
    return _identity


def _identity(text: str) -> str:
    return text


def _number(kind: type, complaint: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            raise FieldError("", complaint) from None

    return convert


def _boolean_text(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise FieldError("", " must be a boolean (true or false)")


def _json_header(text: str) -> Any:
    """A jsonvalue header carries base64-encoded JSON."""
    try:
        return orjson.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise FieldError("", " must be base64-encoded JSON") from None


def _scalar_reader(decoders: ShapeDecoders, shape: Shape) -> Callable[[str], Any]:
    if shape.serialization.get("jsonvalue"):
        return _json_header
    convert, decode = _text_converter(shape), decoders.for_shape(shape)
    return lambda text: decode(convert(text))


def _list_reader(decoders: ShapeDecoders, shape: Shape) -> Callable[[list[str]], list]:
    convert, decode = _text_converter(shape.member), decoders.for_shape(shape)
    return lambda texts: decode([convert(text) for text in texts])


def _map_reader(decoders: ShapeDecoders, shape: Shape) -> Callable[[dict[str, list[str]]], dict]:
    decode = decoders.for_shape(shape)
    if shape.value.type_name == "list":
        convert = _text_converter(shape.value.member)
        return lambda found: decode({k: [convert(t) for t in v] for k, v in found.items()})
    convert = _text_converter(shape.value)
    return lambda found: decode({k: convert(v[0]) for k, v in found.items()})


def _header_list_reader(decoders: ShapeDecoders, shape: Shape) -> Callable[[str], list]:
    read = _list_reader(decoders, shape)
    return lambda text: read([part.strip() for part in text.split(",") if part.strip()])


def _locate(decoders: ShapeDecoders, name: str, member: Shape) -> tuple[str, _Located] | None:
    """Which plan slot a located member fills and how it is read; None for body members."""
    location = member.serialization.get("location")
    wire = member.serialization.get("name", name)
    kind = member.type_name
    if location is None or location == "statusCode":
        return None
    if location == "uri":
        return "uri", _Located(name, wire, _scalar_reader(decoders, member))
    if location == "querystring":
        if kind == "map":
            return "query_map", _Located(name, wire, _map_reader(decoders, member))
        if kind == "list":
            return "query", _Located(name, wire, _list_reader(decoders, member), many=True)
        return "query", _Located(name, wire, _scalar_reader(decoders, member))
    if location == "headers":
        return "header_maps", _Located(name, wire.lower(), decoders.for_shape(member))
    reader = _header_list_reader if kind == "list" else _scalar_reader
    return "headers", _Located(name, wire.lower(), reader(decoders, member))


def _build_plan(op: OperationModel) -> _Plan:
    shape = op.input_shape
    if shape is None:
        return _Plan()
    decoders = decoders_for(op.service_model)
    if op.service_model.protocol == "json":
        return _Plan(body=decoders.structure(shape))
    slots: dict[str, list[_Located]] = {"uri": [], "query": [], "headers": [], "header_maps": []}
    query_map, body_members = None, []
    for name, member in shape.members.items():
        located = _locate(decoders, name, member)
        if located is None:
            if "location" not in member.serialization:
                body_members.append(name)
        elif located[0] == "query_map":
            query_map = located[1]
        else:
            slots[located[0]].append(located[1])
    payload = shape.serialization.get("payload")
    kind = shape.members[payload].type_name if payload else None
    body = None
    if kind == "structure":
        body = decoders.for_shape(shape.members[payload])
    elif payload is None and body_members:
        body = decoders.structure(shape, body_members, check_required=False)
    return _Plan(
        **{slot: tuple(items) for slot, items in slots.items()},
        query_map=query_map,
        payload=payload,
        payload_kind=kind,
        body=body,
        required=tuple(shape.required_members),
    )


_PLANS: weakref.WeakKeyDictionary[OperationModel, _Plan] = weakref.WeakKeyDictionary()


def _plan_for(op: OperationModel) -> _Plan:
    plan = _PLANS.get(op)
    if plan is None:
        plan = _PLANS.setdefault(op, _build_plan(op))
    return plan


def _load_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("Request body is not valid JSON") from None


def _read(located: _Located, raw: Any, params: dict) -> None:
    try:
        params[located.name] = located.decode(raw)
    except FieldError as err:
        err.at(located.name)
        raise


def _read_located(
    plan: _Plan,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    params: dict,
) -> None:
    for located in plan.uri:
        if located.wire in labels:
            _read(located, labels[located.wire], params)
    for located in plan.query:
        values = query.get(located.wire)
        if values:
            _read(located, values if located.many else values[0], params)
    if plan.query_map is not None:
        bound = {located.wire for located in plan.query}
        rest = {key: values for key, values in query.items() if key not in bound and values}
        if rest:
            _read(plan.query_map, rest, params)
    if plan.headers or plan.header_maps:
        _read_headers(plan, headers, params)


def _read_headers(plan: _Plan, headers: Mapping[str, str], params: dict) -> None:
    lowered = {name.lower(): value for name, value in headers.items()}
    for located in plan.headers:
        if located.wire in lowered:
            _read(located, lowered[located.wire], params)
    for located in plan.header_maps:
        found = {
            name[len(located.wire) :]: value
            for name, value in lowered.items()
            if name.startswith(located.wire)
        }
        if found:
            _read(located, found, params)


def _read_body(plan: _Plan, body: bytes, params: dict) -> None:
    if plan.payload_kind in ("blob", "string"):
        if body:
            params[plan.payload] = body if plan.payload_kind == "blob" else _utf8(body)
        return
    if plan.body is None:
        return
    if not body.strip():
        if plan.payload is None or plan.payload not in plan.required:
            return
        body = b"{}"  # so a required payload reports its own missing members, not itself
    document = _load_json(body)
    if plan.payload is not None:
        try:
            params[plan.payload] = plan.body(document)
        except FieldError as err:
            err.at(plan.payload)
            raise
        return
    if type(document) is not dict:
        raise InvalidInput("Request body must be a JSON object")
    params.update(plan.body(document))


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("Request body is not valid UTF-8") from None


def parse_query(raw_query: str) -> dict[str, list[str]]:
    """Every value of every query key, percent-decoded; '+' stays a plus (AWS clients send %20)."""
    query: dict[str, list[str]] = {}
    for part in raw_query.split("&"):
        if part:
            key, _, value = part.partition("=")
            query.setdefault(unquote(key), []).append(unquote(value))
    return query


def parse_request(
    spec: ServiceSpec,
    op: OperationModel,
    labels: dict[str, str],
    query: dict[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict:
    """The operation's input keyed by model member names, validated.

    Raises InvalidInput naming the first bad field.
    """
    plan = _plan_for(op)
    try:
        if spec.protocol == "json":
            return _parse_json_protocol(plan, body)
        params: dict = {}
        _read_located(plan, labels, query, headers, params)
        _read_body(plan, body, params)
        for name in plan.required:
            if name not in params:
                raise missing(name)
        return params
    except FieldError as err:
        raise err.to_invalid_input() from None


def _parse_json_protocol(plan: _Plan, body: bytes) -> dict:
    if plan.body is None:
        return {}
    document = _load_json(body) if body.strip() else {}
    if type(document) is not dict:
        raise InvalidInput("Request body must be a JSON object")
    return plan.body(document)
