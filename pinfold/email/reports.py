"""Bounces and complaints that come back by mail, turned into `Feedback` records.

Understands delivery status notifications (RFC 3464), abuse feedback reports (RFC 5965) and the
plain-text bounces some MTAs still send (an SMTP reply line with the original headers attached).
`parse` never raises: mail arriving at a feedback address can be anything.
"""

from __future__ import annotations

import logging
import re
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr

from pinfold.email.adapters.base import Feedback

log = logging.getLogger("pinfold.feedback")

# Reports put the machine-readable parts first; the returned original (which may be huge) comes last,
# and only its headers matter. Reading a prefix bounds time and memory whatever arrives.
MAX_PARSE_BYTES = 2 * 1024 * 1024
_MAX_PARTS = 100
_MAX_RECIPIENTS = 1000
_MAX_TEXT = 64 * 1024

_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
_VERP = re.compile(r"bounce\+([A-Za-z0-9-]{1,128})@", re.IGNORECASE)
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
_ORIGINAL_TYPES = ("message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers")


def parse(data: bytes, envelope_recipients: list[str] = ()) -> list[Feedback]:
    """The bounces and complaints a received message reports; [] when it reports none or is not mail."""
    try:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        return _parse(bytes(data[:MAX_PARSE_BYTES]), list(envelope_recipients))
    except Exception:  # noqa: BLE001 - garbage in (or parser recursion on hostile nesting) means "no feedback"
        log.debug("feedback: unparseable message ignored", exc_info=True)
        return []


def _parse(data: bytes, envelope_recipients: list[str]) -> list[Feedback]:
    message = BytesParser(policy=compat32).parsebytes(data)
    parts = _parts(message)
    verp = _verp_id(envelope_recipients)
    for part in parts:
        content_type = part.get_content_type()
        if content_type in _DSN_TYPES:
            return _from_dsn(part, parts, verp)
        if content_type == "message/feedback-report":
            return _from_arf(part, parts, verp)
    return _from_plain_bounce(message, parts, verp, envelope_recipients)


def _parts(message: Message) -> list[Message]:
    """Leaf parts in document order; attached messages count as leaves (their insides are not the report)."""
    found, stack = [], [message]
    while stack and len(found) < _MAX_PARTS:
        part = stack.pop()
        if part.get_content_maintype() == "multipart" and part.is_multipart():
            stack.extend(reversed(part.get_payload()))
        else:
            found.append(part)
    return found


# --- fields -------------------------------------------------------------------------------------


def _collapse(value: object) -> str:
    return " ".join(str(value).split())


def _unescape(text: str) -> str:
    """The parser keeps 8-bit bytes as surrogates; reports in the `global` types are UTF-8."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _block_from_headers(message: Message) -> dict[str, list[str]]:
    block: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        block.setdefault(name.strip().lower(), []).append(_collapse(_unescape(value)))
    return block


def _blocks_from_text(text: str) -> list[dict[str, list[str]]]:
    """RFC 822-style field groups separated by blank lines (continuation lines are unfolded)."""
    blocks = []
    for chunk in _BLANK_LINE.split(text):
        block: dict[str, list[str]] = {}
        name = None
        for line in chunk.splitlines():
            if line[:1] in (" ", "\t") and name is not None:
                block[name][-1] = _collapse(block[name][-1] + " " + line)
            elif ":" in line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                block.setdefault(name, []).append(_collapse(value))
        if block:
            blocks.append(block)
    return blocks


def _field_blocks(part: Message) -> list[dict[str, list[str]]]:
    """The field groups of a report part, however the parser chose to split it."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _blocks_from_text(_text(part))
    blocks = []
    for sub in payload:  # the parser turned each group (or the first group) into a header block
        if isinstance(sub, Message):
            blocks.append(_block_from_headers(sub))
            rest = sub.get_payload(decode=True)  # bytes as received: the `global` report types are UTF-8
            if isinstance(rest, bytes) and rest.strip():
                blocks.extend(_blocks_from_text(rest.decode("utf-8", "replace")))
    return [block for block in blocks if block]


def _first(block: dict[str, list[str]], *names: str) -> str | None:
    for name in names:
        values = block.get(name)
        if values and values[0]:
            return values[0]
    return None


def _text(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset, "replace")
    except LookupError:  # an unknown charset name
        return raw.decode("utf-8", "replace")


def _typed_value(value: str | None) -> str | None:
    """`rfc822; a@b` -> `a@b`, `dns; mx.example.com` -> `mx.example.com`."""
    if not value:
        return None
    if ";" in value:
        value = value.split(";", 1)[1]
    return value.strip().strip("<>").strip() or None


def _address(value: str | None) -> str | None:
    value = _typed_value(value)
    if not value or "@" not in value or " " in value:
        return None
    return value


# --- the original message's id ------------------------------------------------------------------


def _verp_id(envelope_recipients: list[str]) -> str | None:
    for recipient in envelope_recipients:
        match = _VERP.match(recipient.strip().strip("<>"))
        if match:
            return match.group(1)
    return None


def _original_headers(parts: list[Message]) -> Message | None:
    for part in parts:
        if part.get_content_type() not in _ORIGINAL_TYPES:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            return payload[0] if payload and isinstance(payload[0], Message) else None
        return HeaderParser(policy=compat32).parsestr(_text(part), headersonly=True)
    return None


def _id_from_headers(headers: Message | None) -> str | None:
    """X-Pinfold-Message-Id, else the local part of our Message-ID."""
    if headers is None:
        return None
    explicit = _collapse(headers.get("X-Pinfold-Message-Id", ""))
    if _ID.fullmatch(explicit):
        return explicit
    local = _collapse(headers.get("Message-ID", "")).strip("<>").partition("@")[0]
    return local if _ID.fullmatch(local) else None


def _unique(values) -> tuple[str, ...]:
    """Addresses in order, each once (compared without case)."""
    seen: dict[str, str] = {}
    for value in values:
        if value:
            seen.setdefault(value.lower(), value)
    return tuple(seen.values())


# --- RFC 3464 delivery status notifications ----------------------------------------------------


def _from_dsn(report: Message, parts: list[Message], verp: str | None) -> list[Feedback]:
    blocks = _field_blocks(report)
    if blocks and _first(blocks[0], "final-recipient", "original-recipient") is None:
        per_message, per_recipient = blocks[0], blocks[1:]
    else:  # no per-message group (not conforming, but seen)
        per_message, per_recipient = {}, blocks
    envelope_id = _typed_value(_first(per_message, "original-envelope-id"))
    message_id = _id_from_headers(_original_headers(parts)) or verp
    if message_id is None and envelope_id and _ID.fullmatch(envelope_id):
        message_id = envelope_id
    reporting_mta = _typed_value(_first(per_message, "reporting-mta"))
    found = []
    for block in per_recipient[:_MAX_RECIPIENTS]:
        feedback = _recipient_bounce(block, message_id, reporting_mta)
        if feedback is not None:
            found.append(feedback)
    return found


def _recipient_bounce(block: dict[str, list[str]], message_id: str | None, reporting_mta: str | None):
    action = (_first(block, "action") or "").split(" ")[0].lower()
    if action not in ("failed", "delayed"):
        return None  # delivered, relayed and expanded are not bounces
    recipient = _address(_first(block, "original-recipient")) or _address(_first(block, "final-recipient"))
    if recipient is None:
        return None
    diagnostic = _first(block, "diagnostic-code") or ""
    match = _STATUS.search(_first(block, "status") or "") or _STATUS.search(diagnostic)
    status = match.group(0) if match else None
    permanent = action == "failed" and not (status or "").startswith("4")
    return Feedback(kind="bounce", recipients=(recipient,), message_id=message_id,
                    bounce_type="Permanent" if permanent else "Transient", status=status,
                    detail=diagnostic or (_first(block, "status") or ""), reporting_mta=reporting_mta)


# --- RFC 5965 abuse reports ---------------------------------------------------------------------


def _from_arf(report: Message, parts: list[Message], verp: str | None) -> list[Feedback]:
    fields: dict[str, list[str]] = {}
    for block in _field_blocks(report):
        for name, values in block.items():
            fields.setdefault(name, []).extend(values)
    if _first(fields, "feedback-type") is None:
        return []  # required by RFC 5965: without it this is not a report
    original = _original_headers(parts)
    recipients = [_address(value) for value in fields.get("original-rcpt-to", [])[:_MAX_RECIPIENTS]]
    if not any(recipients) and original is not None:
        recipients = [address for _, address in getaddresses(original.get_all("To", []))]
    feedback_type = _first(fields, "feedback-type").split(" ")[0].lower()
    reporting = _typed_value(_first(fields, "reporting-mta")) or _first(fields, "user-agent")
    return [Feedback(kind="complaint", recipients=_unique(r for r in recipients if r and "@" in r),
                     message_id=_id_from_headers(original) or verp, detail=feedback_type,
                     feedback_type=feedback_type, reporting_mta=reporting)]


# --- plain-text bounces (qmail, old Exim and Exchange, hosted filters) --------------------------

_BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery (sub)?system", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(r"undeliver|non.?deliver|delivery (status notification|failure|has failed|problem)"
                             r"|mail delivery failed|failure notice|returned mail|delayed mail", re.IGNORECASE)
# A reply with an enhanced status anywhere, or a bare code where MTAs print replies (line start, after "said:").
_REPLY_ENHANCED = re.compile(r"(?<![\d.])([45][0-5]\d)[ -]#?([45]\.\d{1,3}\.\d{1,3})\b")
_REPLY_BARE = re.compile(r"(?:^[ \t>]*|said:[ \t]*|\]:[ \t]*)([45][0-5]\d)[ -]", re.MULTILINE | re.IGNORECASE)
_ADDRESS = re.compile(r"[A-Za-z0-9._%+'=-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}")
_ORIGINAL_START = re.compile(r"^(?:Return-Path|Received|Message-ID|X-Pinfold-Message-Id|DKIM-Signature"
                             r"|MIME-Version|Subject|Date|From|To):", re.MULTILINE | re.IGNORECASE)


def _looks_like_bounce(message: Message) -> bool:
    # Not the VERP address alone: vacation auto-replies go to the return path too (RFC 3834).
    sender = _collapse(message.get("From", ""))
    return bool(_BOUNCE_SENDER.search(sender) or _BOUNCE_SUBJECT.search(_collapse(message.get("Subject", ""))))


def _human_text(parts: list[Message]) -> str:
    texts = [_text(part) for part in parts if part.get_content_type() == "text/plain"]
    return "\n".join(texts)[:_MAX_TEXT]


def _reply(text: str) -> tuple[str, str | None, str] | None:
    """The first SMTP reply in the text: (basic code, enhanced status, the line it is on)."""
    match = _REPLY_ENHANCED.search(text)
    code, status = (match.group(1), match.group(2)) if match else (None, None)
    if match is None:
        match = _REPLY_BARE.search(text)
        code = match.group(1) if match else None
    if match is None:
        return None
    start = text.rfind("\n", 0, match.start(1)) + 1
    end = text.find("\n", match.end(1))
    return code, status, _collapse(text[start:end if end >= 0 else len(text)])[:500]


def _from_plain_bounce(message: Message, parts: list[Message], verp: str | None,
                       envelope_recipients: list[str]) -> list[Feedback]:
    if not _looks_like_bounce(message):
        return []
    text = _human_text(parts)
    cut = _ORIGINAL_START.search(text)
    diagnostic, inline_original = (text[:cut.start()], text[cut.start():]) if cut else (text, "")
    reply = _reply(diagnostic)
    if reply is None:
        return []
    original = _original_headers(parts)
    if original is None and inline_original:
        original = HeaderParser(policy=compat32).parsestr(inline_original.lstrip(), headersonly=True)
    recipients = _plain_recipients(message, diagnostic, original, envelope_recipients)
    code, status, line = reply
    bounce_type = "Permanent" if code.startswith("5") else "Transient"
    message_id = _id_from_headers(original) or verp
    return [Feedback(kind="bounce", recipients=(recipient,), message_id=message_id, bounce_type=bounce_type,
                     status=status, detail=line) for recipient in recipients]


def _plain_recipients(message: Message, diagnostic: str, original: Message | None,
                      envelope_recipients: list[str]) -> tuple[str, ...]:
    """Addresses the diagnostic names, preferring those the original was sent to."""
    own = {parseaddr(_collapse(message.get(name, "")))[1].lower() for name in ("From", "To")}
    own.update(recipient.strip("<>").lower() for recipient in envelope_recipients)
    named = [a for a in _ADDRESS.findall(diagnostic) if a.lower() not in own and not _BOUNCE_SENDER.search(a)]
    sent_to = []
    if original is not None:
        sent_to = [a for _, a in getaddresses(original.get_all("To", []) + original.get_all("Cc", [])) if "@" in a]
    wanted = {a.lower() for a in sent_to}
    chosen = [a for a in named if a.lower() in wanted] or named or sent_to
    return _unique(chosen[:_MAX_RECIPIENTS])
