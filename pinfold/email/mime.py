"""RFC 5322 / MIME messages from SES-style Simple content, and the clean-up of Raw content.

Messages are assembled as bytes rather than through `email.message`: a bulk send builds one per
recipient, and the email package was measured at several times the cost (benchmarks/smtp_adapter.py).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import mimetypes
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from pinfold.core.errors import InvalidInput

# Headers the builder writes itself; a caller's copy would make the message ambiguous.
_OWN_HEADERS = frozenset({
    "date", "from", "to", "cc", "bcc", "reply-to", "subject", "message-id", "x-pinfold-message-id",
    "mime-version", "content-type", "content-transfer-encoding",
})
_UNSUBSCRIBE_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
_HEADER_NAME = re.compile(r"^[!-9;-~]{1,126}$")  # printable ASCII except the colon
_ASCII = bytes(range(128))
_MAX_LINE = 998
_QP_LINE = 76  # RFC 2045's longest quoted-printable line
# A soft-broken line's pieces: at most 75 bytes (the break's `=` makes 76), never ending inside an escape.
_QP_PIECE = re.compile(rb"(?s).{0,72}(?:=..|[^=]{1,3})")
_QP_SIMPLE = bytes(range(32, 127)) + b"\t\r\n"  # text of only these needs no escape but `=`
_ENCODED_WORD_BYTES = 45  # 45 bytes -> 60 base64 chars -> a 72-char encoded word, under RFC 2047's 75
_date_cache: tuple[int, str] = (0, "")


def build_message(*, message_id: str, mail_domain: str, from_addr: str, to: list[str], cc: list[str],
                  reply_to: list[str], subject: str, html: str | None, text: str | None,
                  headers: Iterable[tuple[str, str]] = (), list_unsubscribe: tuple[str, str] | None = None,
                  attachments: Sequence[Mapping] = ()) -> bytes:
    """The complete message, CRLF line endings; recipients are never listed in a Bcc header.

    `attachments` take the SES v2 `Attachment` members (RawContent as bytes or base64 text, FileName, ...).
    """
    lines = [f"Date: {_date_now()}", f"From: {format_addresses([from_addr])}"]
    if to:
        lines.append(f"To: {format_addresses(to)}")
    if cc:
        lines.append(f"Cc: {format_addresses(cc)}")
    if reply_to:
        lines.append(f"Reply-To: {format_addresses(reply_to)}")
    lines.append(f"Subject: {encode_header(' '.join(subject.split()))}")
    lines.append(f"Message-ID: <{message_id}@{mail_domain}>")
    lines.append(f"X-Pinfold-Message-Id: {message_id}")
    if list_unsubscribe is not None:
        url, mailto = list_unsubscribe
        mailto = mailto if mailto.lower().startswith("mailto:") else f"mailto:{mailto}"
        lines.append(f"List-Unsubscribe: <{_no_breaks(url)}>, <{_no_breaks(mailto)}>")
        lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    lines.extend(_custom_headers(headers, list_unsubscribe is not None))
    part_headers, body = _content(html, text, attachments)
    head = "\r\n".join(lines).encode() + b"\r\nMIME-Version: 1.0\r\n"
    return head + part_headers + b"\r\n" + body


def prepare_raw(data: bytes, message_id: str, mail_domain: str) -> tuple[bytes, str | None, list[str]]:
    """Raw content ready to send: Bcc removed, Message-ID/Date added if absent, Pinfold's id set.

    Returns (message, the From address or None, envelope recipients from To, Cc and Bcc).
    """
    data = _crlf_bytes(data)
    end = data.find(b"\r\n\r\n")
    if data.startswith(b"\r\n"):  # no header at all
        head, body = b"", data
    elif end < 0:  # headers only: add the empty line that ends them
        head, body = (data if data.endswith(b"\r\n") else data + b"\r\n"), b"\r\n"
    else:
        head, body = data[:end + 2], data[end + 2:]
    kept: list[bytes] = []
    values: dict[str, list[str]] = {}
    for name, field in _fields(head):
        values.setdefault(name, []).append(field.split(b":", 1)[1].decode("utf-8", "replace"))
        # Any X-Pinfold-Message-Id a caller wrote could point feedback at someone else's message.
        if name not in ("bcc", "x-pinfold-message-id"):
            kept.append(field)
    added = [f"X-Pinfold-Message-Id: {message_id}\r\n".encode()]
    if "message-id" not in values:
        added.append(f"Message-ID: <{message_id}@{mail_domain}>\r\n".encode())
    if "date" not in values:
        added.append(f"Date: {_date_now()}\r\n".encode())
    senders = _addresses(values.get("from", []))
    recipients = list(dict.fromkeys(_addresses([*values.get("to", []), *values.get("cc", []),
                                                *values.get("bcc", [])])))
    return b"".join(added + kept) + body, (senders[0] if senders else None), recipients


def format_addresses(addresses: Iterable[str]) -> str:
    """A header value listing the addresses; non-ASCII display names become RFC 2047 encoded words."""
    formatted = [_format_address(address) for address in addresses]
    joined = ", ".join(formatted)
    return joined if len(joined) < 72 else ",\r\n ".join(formatted)


def encode_header(value: str) -> str:
    """A header value as is when it is short ASCII, otherwise as folded UTF-8 encoded words."""
    _no_breaks(value)
    if value.isascii() and len(value) < 900:
        return value
    words, chunk, size = [], [], 0
    for char in value:
        width = len(char.encode())
        if size + width > _ENCODED_WORD_BYTES:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    words.append("".join(chunk))
    return "\r\n ".join(f"=?UTF-8?B?{base64.b64encode(word.encode()).decode()}?=" for word in words)


def _format_address(address: str) -> str:
    _no_breaks(address)
    if address.isascii():
        return address.strip()
    name, addr = email.utils.parseaddr(address)
    if "@" not in addr:
        raise InvalidInput(f"not an email address: {address!r}")
    local, _, domain = addr.rpartition("@")
    try:
        domain = domain.encode("idna").decode() if not domain.isascii() else domain
    except UnicodeError as error:
        raise InvalidInput(f"the domain of {address!r} is not a valid internationalized name") from error
    addr = f"{local}@{domain}"
    if not name:
        return addr
    display = encode_header(name) if not name.isascii() else f'"{email.utils.quote(name)}"'
    return f"{display} <{addr}>"


def _custom_headers(headers: Iterable[tuple[str, str]], own_unsubscribe: bool) -> list[str]:
    lines = []
    for name, value in headers:
        if not _HEADER_NAME.match(name):
            raise InvalidInput(f"invalid header name {name!r}", field="Headers")
        lowered = name.lower()
        if lowered in _OWN_HEADERS or (own_unsubscribe and lowered in _UNSUBSCRIBE_HEADERS):
            raise InvalidInput(f"the {name} header is set by Pinfold and cannot be given", field="Headers")
        lines.append(f"{name}: {encode_header(value.strip())}")
    return lines


def _no_breaks(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise InvalidInput(f"line breaks are not allowed in a header value: {value[:60]!r}")
    return value


def _date_now() -> str:
    """RFC 5322 date in UTC, formatted once per second (every message of a bulk send asks)."""
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, email.utils.format_datetime(datetime.fromtimestamp(second, UTC)))
    return _date_cache[1]


def _content(html: str | None, text: str | None, attachments: Sequence[Mapping]) -> tuple[bytes, bytes]:
    """(Content-* headers, body) of the whole message tree."""
    bodies = [_text_part(text, "plain")] if text is not None else []
    if html is not None:
        bodies.append(_text_part(html, "html"))
    if not bodies:
        bodies.append(_text_part("", "plain"))
    part = bodies[0] if len(bodies) == 1 else _multipart("alternative", bodies)
    inline = [_attachment(a) for a in attachments if str(a.get("ContentDisposition", "")).upper() == "INLINE"]
    regular = [_attachment(a) for a in attachments if str(a.get("ContentDisposition", "")).upper() != "INLINE"]
    if inline:
        part = _multipart("related", [part, *inline])
    if regular:
        part = _multipart("mixed", [part, *regular])
    return part


def _text_part(content: str, subtype: str) -> tuple[bytes, bytes]:
    data = _crlf_bytes(content.encode())
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    if data.isascii() and max(map(len, data.split(b"\r\n"))) <= _MAX_LINE:
        encoding, body = "7bit", data
    elif len(data.translate(None, _ASCII)) * 3 > len(data):  # mostly non-Latin text: base64 is smaller
        encoding, body = "base64", _base64_lines(data)
    else:
        encoding, body = "quoted-printable", quoted_printable(data)
    headers = f"Content-Type: text/{subtype}; charset=UTF-8\r\nContent-Transfer-Encoding: {encoding}\r\n"
    return headers.encode(), body


def stored_attachments(attachments: Sequence[Mapping] | None) -> list[dict]:
    """SES v2 `Attachment` members checked as the builder will use them, RawContent as base64 text.

    A send keeps these in its queued (JSON) definition, so a bad attachment is refused when the send
    is accepted rather than failing every delivery later.
    """
    stored = []
    for attachment in attachments or ():
        if not isinstance(attachment, Mapping) or attachment.get("RawContent") is None \
                or not attachment.get("FileName"):
            raise InvalidInput("each attachment needs RawContent and FileName", field="Attachments")
        _attachment(attachment)
        raw = attachment["RawContent"]
        text = raw if isinstance(raw, str) else base64.b64encode(bytes(raw)).decode()
        stored.append({**attachment, "RawContent": text})
    return stored


def _attachment(attachment: Mapping) -> tuple[bytes, bytes]:
    raw = attachment["RawContent"]
    try:  # bytes are the content; a string is its base64 text, as the wire and JSON documents carry it
        raw = base64.b64decode(raw, validate=True) if isinstance(raw, str) else bytes(raw)
    except (ValueError, TypeError) as error:
        raise InvalidInput("attachment RawContent must be bytes or base64 text", field="Attachments") from error
    filename = _no_breaks(str(attachment["FileName"]))
    kind = attachment.get("ContentType") or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    disposition = "inline" if str(attachment.get("ContentDisposition", "")).upper() == "INLINE" else "attachment"
    encoding = str(attachment.get("ContentTransferEncoding") or "BASE64").upper()
    if encoding == "SEVEN_BIT" and raw.isascii():
        cte, body = "7bit", _crlf_bytes(raw)
    elif encoding == "QUOTED_PRINTABLE":
        cte, body = "quoted-printable", quoted_printable(_crlf_bytes(raw))
    else:
        cte, body = "base64", _base64_lines(raw)
    lines = [f"Content-Type: {_no_breaks(kind)}; {_param('name', filename)}",
             f"Content-Disposition: {disposition}; {_param('filename', filename)}",
             f"Content-Transfer-Encoding: {cte}"]
    if attachment.get("ContentId"):
        lines.append(f"Content-ID: <{_no_breaks(str(attachment['ContentId'])).strip('<>')}>")
    if attachment.get("ContentDescription"):
        lines.append(f"Content-Description: {encode_header(str(attachment['ContentDescription']))}")
    body = body if body.endswith(b"\r\n") or not body else body + b"\r\n"
    return ("\r\n".join(lines) + "\r\n").encode(), body


def _param(name: str, value: str) -> str:
    """A MIME parameter; non-ASCII or awkward values use RFC 2231 extended notation."""
    if value.isascii() and '"' not in value and "\\" not in value:
        return f'{name}="{value}"'
    return f"{name}*=UTF-8''{quote(value, safe='')}"


def _multipart(subtype: str, parts: list[tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
    # "=_" cannot occur in quoted-printable or base64 output, and the rest is random.
    boundary = f"=_pf_{uuid.uuid4().hex}"
    marker = f"--{boundary}\r\n".encode()
    # The CRLF in front of each delimiter belongs to the delimiter (RFC 2046 5.1.1), not to the part.
    body = b"".join(marker + headers + b"\r\n" + content + b"\r\n" for headers, content in parts)
    body += f"--{boundary}--\r\n".encode()
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n'.encode(), body


def quoted_printable(data: bytes) -> bytes:
    """RFC 2045 quoted-printable of text with CRLF line ends.

    The usual case is ASCII text whose lines are too long for 7bit (HTML written on one line): its
    only byte to escape is `=`, and its long lines get soft breaks, cut by one regular expression.
    binascii.b2a_qp goes a byte at a time: for the campaign benchmark's 4 KB message it took 34-54 us
    against 14-20 here, in a process whose sending thread is the campaign's limit. Any other text
    (8-bit bytes, controls, white space ending a line) goes to b2a_qp.
    """
    if (data.translate(None, _QP_SIMPLE) or b" \r\n" in data or b"\t\r\n" in data or data.endswith((b" ", b"\t"))
            or not data.count(b"\r") == data.count(b"\n") == data.count(b"\r\n")):
        return binascii.b2a_qp(data, istext=True)
    lines = []
    for line in data.split(b"\r\n"):
        if b"=" in line:
            line = line.replace(b"=", b"=3D")
        if len(line) > _QP_LINE:
            line = b"=\r\n".join(_QP_PIECE.findall(line))
        lines.append(line)
    return b"\r\n".join(lines)


def _base64_lines(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _crlf_bytes(data: bytes) -> bytes:
    if data.count(b"\n") == data.count(b"\r\n") == data.count(b"\r"):
        return data
    return re.sub(rb"\r\n|\r|\n", b"\r\n", data)


def _fields(head: bytes) -> list[tuple[str, bytes]]:
    """Header fields as (lower-case name, the field's raw bytes with its continuation lines)."""
    fields: list[tuple[str, bytes]] = []
    for line in head.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + line + b"\r\n")
        elif b":" in line:
            fields.append((line.split(b":", 1)[0].strip().decode("ascii", "replace").lower(), line + b"\r\n"))
        else:
            raise InvalidInput(f"the raw message has a malformed header line: {line[:60]!r}")
    return fields


def _addresses(values: list[str]) -> list[str]:
    unfolded = [value.replace("\r\n", "") for value in values]
    return [addr for _, addr in email.utils.getaddresses(unfolded) if "@" in addr]
