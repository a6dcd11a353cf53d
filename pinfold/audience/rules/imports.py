"""Pinpoint segment import files (CSV or JSON lines) parsed into EndpointBatchItem-shaped rows.

Pure and streaming: `parse_file` takes raw byte lines and yields one result per non-blank line, so
memory stays bounded however large the file. Whole-file problems raise InvalidInput at call time;
a bad row becomes a RowFailure and the import goes on. Name and value lengths and the 250-attribute
limit are not checked here: the service applies the endpoint limits to each row when it writes it.
CSV and JSON lines build rows through the same column rules, so both formats live here.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import chain

from pinfold.core.errors import InvalidInput

CHANNEL_TYPES = ("PUSH", "GCM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "ADM",
                 "SMS", "VOICE", "EMAIL", "BAIDU", "CUSTOM", "IN_APP")
OPT_OUT_VALUES = ("ALL", "NONE")
DEMOGRAPHIC_FIELDS = ("AppVersion", "Locale", "Make", "Model", "ModelVersion", "Platform", "PlatformVersion",
                      "Timezone")
LOCATION_FIELDS = ("City", "Country", "Latitude", "Longitude", "PostalCode", "Region")
_COORDINATE_RANGES = {"Latitude": 90.0, "Longitude": 180.0}
_SCALARS = ("Id", "ChannelType", "Address", "OptOut", "RequestId", "EffectiveDate")
_ENDPOINT_MEMBERS = _SCALARS + ("Attributes", "Metrics", "User", "Demographic", "Location")
_USER_ID_HEADER = ["User.UserId"]
_SINGLE_GROUPS = ("scalar", "User", "Metrics", "Demographic", "Location")
_REPEATABLE_GROUPS = ("Attributes", "UserAttributes")
_SUPPORTED_COLUMNS = (
    "Id, ChannelType, Address, User.UserId, Attributes.<name>, User.UserAttributes.<name>, "
    "Metrics.<name>, Demographic.{" + ",".join(DEMOGRAPHIC_FIELDS) + "}, Location.{"
    + ",".join(LOCATION_FIELDS) + "}, OptOut, RequestId, EffectiveDate"
)
# [0-9], not \d: \d and float() also accept non-ASCII digits, which Pinpoint would not.
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_COMPRESSION_MAGIC = (
    (b"\x1f\x8b", "gzip"), (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"),
)
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f]")


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """An endpoint to create or update: `item` is EndpointBatchItem-shaped, "Id" may be absent."""

    file: str
    line: int
    item: dict


@dataclass(frozen=True, slots=True)
class UserIdsRow:
    """A row of a User.UserId-only file: the endpoints of these users."""

    file: str
    line: int
    user_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RowFailure:
    """A row that cannot be imported; `reason` names the column or member and what is wrong."""

    file: str
    line: int
    reason: str


Result = ParsedRow | UserIdsRow | RowFailure


class _Reject(ValueError):
    """One row cannot be imported; the message is the RowFailure reason."""


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each endpoint field sits in a CSV row, compiled once from the header."""

    width: int
    scalars: tuple[tuple[int, str], ...]
    user_id: int | None
    attributes: tuple[tuple[str, tuple[int, ...]], ...]
    user_attributes: tuple[tuple[str, tuple[int, ...]], ...]
    metrics: tuple[tuple[str, int], ...]
    demographic: tuple[tuple[str, int], ...]
    location: tuple[tuple[str, int], ...]


def parse_file(name: str, lines: Iterable[bytes], fmt: str) -> Iterator[Result]:
    """Stream a CSV or JSON-lines import file; raise InvalidInput (before yielding anything) when the
    file as a whole is unusable."""
    if fmt not in ("CSV", "JSON"):
        raise InvalidInput(f"{name}: Format must be CSV or JSON, not {fmt!r}", field="Format")
    numbered = enumerate(lines, start=1)
    line, raw = _first_content_line(name, numbered)
    if fmt == "JSON":
        _check_json_lines(name, line, raw)
        return _stream(name, chain([(line, raw)], numbered), _json_row)
    header = _csv_header(name, line, raw)
    if header == _USER_ID_HEADER:
        return _stream(name, numbered, _user_ids_row)
    return _stream(name, numbered, partial(_csv_row, _layout(name, header)))


def _first_content_line(name: str, numbered: Iterator[tuple[int, bytes]]) -> tuple[int, bytes]:
    """The first non-blank line (BOM removed), after rejecting empty, compressed and binary files."""
    for line, raw in numbered:
        if line == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        if raw.strip():
            break
    else:
        raise InvalidInput(f"{name}: the file is empty")
    for magic, kind in _COMPRESSION_MAGIC:
        if raw.startswith(magic):
            raise InvalidInput(f"{name}: compressed files are not supported (this looks like {kind}); "
                               "upload the uncompressed CSV or JSON file")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InvalidInput(f"{name}: the file is UTF-16; Pinpoint imports UTF-8 only")
    if _CONTROL_BYTES.search(raw):
        raise InvalidInput(f"{name}: line {line} holds NUL or other control bytes; this looks like a binary "
                           "file, and Pinpoint imports UTF-8 text only")
    return line, raw


def _check_json_lines(name: str, line: int, raw: bytes) -> None:
    """Reject a JSON file whose first line is not one complete JSON object (an array, pretty-printed...)."""
    try:
        first = json.loads(raw.decode())
    except (ValueError, RecursionError):
        first = None
    if not isinstance(first, dict):
        raise InvalidInput(f"{name}: not JSON lines: line {line} is not a JSON object; a JSON import file holds "
                           "one endpoint object per line (no arrays, no pretty-printing)")


def _csv_header(name: str, line: int, raw: bytes) -> list[str]:
    """The header's column names, or InvalidInput when it is not UTF-8 or not one line of CSV."""
    try:
        text = raw.decode().rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"{name}: the header (line {line}) is not valid UTF-8 "
                           f"(byte {error.start + 1}); Pinpoint imports UTF-8 only") from None
    if "\r" in text or "\n" in text:
        raise InvalidInput(f"{name}: the header (line {line}) holds a line break; lines must end with \\n or \\r\\n")
    try:
        return next(csv.reader([text], strict=True))
    except csv.Error as error:
        raise InvalidInput(f"{name}: the header (line {line}) is not valid CSV: {error}") from None


def _layout(name: str, header: list[str]) -> _Layout:
    """Compile the header into a _Layout, or raise InvalidInput naming the columns that are wrong."""
    places: dict[str, dict[str, list[int]]] = {group: {} for group in _SINGLE_GROUPS + _REPEATABLE_GROUPS}
    unknown = []
    for index, column in enumerate(header):
        kind = _classify(column)
        if kind is None:
            unknown.append(column)
        else:
            places[kind[0]].setdefault(kind[1], []).append(index)
    _check_columns(name, header, unknown, places)
    single = {group: tuple((key, indexes[0]) for key, indexes in places[group].items()) for group in _SINGLE_GROUPS}
    multi = {group: tuple((key, tuple(indexes)) for key, indexes in places[group].items())
             for group in _REPEATABLE_GROUPS}
    return _Layout(
        width=len(header),
        scalars=tuple((index, key) for key, index in single["scalar"]),
        user_id=single["User"][0][1] if single["User"] else None,
        attributes=multi["Attributes"], user_attributes=multi["UserAttributes"],
        metrics=single["Metrics"], demographic=single["Demographic"], location=single["Location"],
    )


def _classify(column: str) -> tuple[str, str] | None:
    """(group, key) for a supported column name, None for an unknown one."""
    if column in _SCALARS:
        return "scalar", column
    if column == "User.UserId":
        return "User", "UserId"
    for prefix, group in (("Attributes.", "Attributes"), ("User.UserAttributes.", "UserAttributes"),
                          ("Metrics.", "Metrics")):
        if column.startswith(prefix) and len(column) > len(prefix):
            return group, column[len(prefix):]
    head, _, field = column.partition(".")
    if (head == "Demographic" and field in DEMOGRAPHIC_FIELDS) or (head == "Location" and field in LOCATION_FIELDS):
        return head, field
    return None


def _check_columns(name: str, header: list[str], unknown: list[str], places: dict[str, dict[str, list[int]]]) -> None:
    """Reject unknown columns, repeats of single-valued ones, and a header that identifies no endpoint."""
    if unknown and len(unknown) == len(header):
        # Nothing in the first line is a Pinpoint column, so it may not be an import file at all (any
        # file the server can read): say so without repeating a byte of it.
        hint = " (this looks like JSON: use Format JSON)" if header[0].startswith("{") else ""
        raise InvalidInput(f"{name}: the first line names none of the supported columns, so this is not a CSV "
                           f"endpoint file{hint}. Supported: {_SUPPORTED_COLUMNS}")
    if unknown:
        listed = ", ".join(repr(column[:60]) for column in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        hint = " (this looks like JSON: use Format JSON)" if header[0].startswith("{") else ""
        raise InvalidInput(f"{name}: unknown column(s) {listed}{more}{hint}. Supported: {_SUPPORTED_COLUMNS}")
    # A second Address or Metrics.x column would be ambiguous; only custom attributes are multi-valued.
    repeated = sorted({header[indexes[0]] for group in _SINGLE_GROUPS
                       for indexes in places[group].values() if len(indexes) > 1})
    if repeated:
        raise InvalidInput(f"{name}: column(s) {', '.join(repeated)} appear more than once; only "
                           "Attributes.<name> and User.UserAttributes.<name> columns may repeat")
    if not (places["scalar"].keys() & {"Id", "ChannelType", "Address"} or places["User"]):
        raise InvalidInput(f"{name}: the header has none of Id, ChannelType, Address or User.UserId")


def _stream(
    name: str, numbered: Iterable[tuple[int, bytes]], parse_row: Callable[[str, int, str], Result | None],
) -> Iterator[Result]:
    """Decode each line and parse it; blank lines are skipped, a rejected row becomes a RowFailure."""
    for line, raw in numbered:
        try:
            text = raw.decode()
        except UnicodeDecodeError as error:
            yield RowFailure(name, line, f"the line is not valid UTF-8 (byte {error.start + 1})")
            continue
        text = text.rstrip("\r\n")
        if not text or text.isspace():
            continue
        try:
            result = parse_row(name, line, text)
        except _Reject as error:
            result = RowFailure(name, line, str(error))
        if result is not None:
            yield result


def _cells(text: str) -> list[str]:
    """One physical line split into cells with the csv module's quoting rules."""
    if "\x00" in text:
        raise _Reject("the line holds a NUL byte")
    if "\r" in text or "\n" in text:
        raise _Reject("the line holds a line break; Pinpoint does not support line breaks in values")
    if '"' not in text:
        return text.split(",")  # the common case, several times faster than csv.reader
    try:
        return next(csv.reader([text], strict=True))
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise _Reject("a quoted value does not close on this line; "
                          "Pinpoint does not support line breaks in values") from None
        raise _Reject(f"invalid CSV quoting: {error}") from None


def _user_ids_row(name: str, line: int, text: str) -> UserIdsRow | None:
    """A row of a User.UserId-only file: one or more user ids separated by spaces."""
    cells = _cells(text)
    if len(cells) != 1:
        raise _Reject(f"the row has {len(cells)} cells; a User.UserId file has one column "
                      "(separate several user ids with spaces)")
    user_ids = tuple(cells[0].split())
    return UserIdsRow(name, line, user_ids) if user_ids else None


def _csv_row(layout: _Layout, name: str, line: int, text: str) -> ParsedRow | None:
    """The endpoint a CSV row describes; a row of empty cells counts as blank."""
    cells = _cells(text)
    if not any(cells):
        return None
    if len(cells) != layout.width:
        raise _Reject(f"the row has {len(cells)} cells; the header has {layout.width} columns")
    item = {key: cells[index] for index, key in layout.scalars if cells[index]}
    user = {"UserId": cells[layout.user_id]} if layout.user_id is not None and cells[layout.user_id] else {}
    # Only the groups the header has columns for are visited: most files have one or two.
    if layout.attributes and (values := _multi_valued(layout.attributes, cells)):
        item["Attributes"] = values
    if layout.user_attributes and (values := _multi_valued(layout.user_attributes, cells)):
        user["UserAttributes"] = values
    if user:
        item["User"] = user
    if layout.metrics and (values := {k: _number(f"Metrics.{k}", cells[i]) for k, i in layout.metrics if cells[i]}):
        item["Metrics"] = values
    if layout.demographic and (values := {key: cells[i] for key, i in layout.demographic if cells[i]}):
        item["Demographic"] = values
    if layout.location and (values := {key: _location_value(key, cells[i]) for key, i in layout.location if cells[i]}):
        item["Location"] = values
    _check_item(item)
    return ParsedRow(name, line, item)


def _multi_valued(columns: tuple[tuple[str, tuple[int, ...]], ...], cells: list[str]) -> dict[str, list[str]]:
    """Each repeated column's non-empty cells, in column order; an attribute with none is left out."""
    values = {}
    for key, indexes in columns:  # plain loops: a comprehension per attribute cost a frame per row
        found = None
        for index in indexes:
            cell = cells[index]
            if cell:
                if found is None:
                    found = values[key] = [cell]
                else:
                    found.append(cell)
    return values


def _number(field: str, text: str) -> float:
    """A CSV cell as a finite float (plain decimal notation only, no inf, nan or 1_000)."""
    value = float(text) if _DECIMAL.fullmatch(text.strip()) else math.nan
    if not math.isfinite(value):
        raise _Reject(f"{field} must be a finite number, not {text[:60]!r}")
    return value


def _location_value(key: str, value: str | float) -> str | float:
    """A Location field: Latitude and Longitude must be numbers within range, the rest text."""
    if key not in _COORDINATE_RANGES:
        return value
    number = _number(f"Location.{key}", value) if isinstance(value, str) else value
    if abs(number) > _COORDINATE_RANGES[key]:
        limit = _COORDINATE_RANGES[key]
        raise _Reject(f"Location.{key} must be between -{limit:g} and {limit:g}, not {number:g}")
    return number


def _check_item(item: dict) -> None:
    """Raise _Reject when the endpoint's values break one of the import rules."""
    channel = item.get("ChannelType")
    if channel is not None and channel not in CHANNEL_TYPES:
        raise _Reject(f"ChannelType {channel[:60]!r} is not one of {', '.join(CHANNEL_TYPES)}")
    if item.get("OptOut", "NONE") not in OPT_OUT_VALUES:
        raise _Reject(f"OptOut {item['OptOut'][:60]!r} must be ALL or NONE")
    if "EffectiveDate" in item:
        try:
            datetime.fromisoformat(item["EffectiveDate"])
        except ValueError:
            raise _Reject(f"EffectiveDate {item['EffectiveDate'][:60]!r} is not an ISO 8601 date") from None
    if "Id" not in item and not (item.get("ChannelType") and item.get("Address")):
        raise _Reject("new endpoints need ChannelType and Address; updates need Id")
    if channel in ("SMS", "VOICE") and "Address" in item and not _E164.fullmatch(item["Address"]):
        raise _Reject(f"Address {item['Address'][:60]!r} is not an E.164 phone number "
                      f"(+ then 2 to 15 digits, e.g. +16045550182), which {channel} needs")


def _json_row(name: str, line: int, text: str) -> ParsedRow:
    """The endpoint one JSON line describes; null and empty values count as absent, like empty cells."""
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise _Reject(f"the line is not valid JSON: {str(error)[:200]}") from None
    obj = _object("the endpoint", document, _ENDPOINT_MEMBERS)
    item = {key: value for key in _SCALARS if (value := _string(key, obj.get(key)))}
    metrics = _object("Metrics", obj.get("Metrics"), None)
    demographic = _object("Demographic", obj.get("Demographic"), DEMOGRAPHIC_FIELDS)
    location = _object("Location", obj.get("Location"), LOCATION_FIELDS)
    groups = {
        "Attributes": _json_attributes("Attributes", obj.get("Attributes")),
        "Metrics": {key: _json_number(f"Metrics.{key}", value) for key, value in metrics.items() if value is not None},
        "User": _json_user(obj.get("User")),
        "Demographic": {key: value for key, value in demographic.items() if _string(f"Demographic.{key}", value)},
        "Location": {key: _json_location(key, value) for key, value in location.items() if value not in (None, "")},
    }
    item.update((group, values) for group, values in groups.items() if values)
    _check_item(item)
    return ParsedRow(name, line, item)


def _json_user(value: object) -> dict:
    user = _object("User", value, ("UserId", "UserAttributes"))
    found = {"UserId": _string("User.UserId", user.get("UserId")),
             "UserAttributes": _json_attributes("User.UserAttributes", user.get("UserAttributes"))}
    return {key: value for key, value in found.items() if value}


def _no_constant(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON number")


def _json_type(value: object) -> str:
    kinds = ((bool, "a boolean"), (str, "a string"), (int | float, "a number"), (list, "an array"), (dict, "an object"))
    return next((name for kind, name in kinds if isinstance(value, kind)), "null")


def _object(path: str, value: object, members: tuple[str, ...] | None) -> dict:
    """`value` as a JSON object (null: empty) whose members are all in `members` (None: any)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Reject(f"{path} must be a JSON object, not {_json_type(value)}")
    unknown = [key for key in value if key not in members] if members is not None else []
    if unknown:
        listed = ", ".join(repr(key[:60]) for key in unknown[:10])
        raise _Reject(f"{path} has unknown member(s) {listed}; supported: {', '.join(members)}")
    if "" in value:
        raise _Reject(f"{path} has a member with an empty name")
    return value


def _string(path: str, value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _Reject(f"{path} must be a string, not {_json_type(value)}")
    return value


def _json_attributes(path: str, value: object) -> dict[str, list[str]]:
    """A name -> list-of-strings map; empty strings and empty lists are left out, as empty cells are."""
    attributes = {}
    for key, values in _object(path, value, None).items():
        if values is None:
            continue
        if not isinstance(values, list) or not all(isinstance(one, str) for one in values):
            raise _Reject(f"{path}.{key[:60]} must be an array of strings")
        if found := [one for one in values if one]:
            attributes[key] = found
    return attributes


def _json_number(path: str, value: object) -> float:
    """A JSON number as a finite float (a numeric string is not accepted, as in the Pinpoint API)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Reject(f"{path} must be a number, not {_json_type(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise _Reject(f"{path} must be a finite number")
    return number


def _json_location(key: str, value: object) -> object:
    if key in _COORDINATE_RANGES:
        return _location_value(key, _json_number(f"Location.{key}", value))
    return _string(f"Location.{key}", value)
