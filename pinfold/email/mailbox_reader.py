"""Reading what the mailbox simulator stored (`adapters/mailbox.py`): newest first, paged by a key, and one
message by its id, `YYYY-MM-DD/<name>.eml`. Listing reads only each file's header block, so it stays cheap
however large the messages are. An id never reaches outside the mailbox directory.
"""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from html.parser import HTMLParser
from pathlib import Path

from pinfold.core import dayfiles
from pinfold.core.errors import InvalidInput, NotFound
from pinfold.core.ids import iso
from pinfold.core.paging import decode_token, encode_token

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
SHOWN_HEADERS = ("From", "To", "Subject", "Date", "X-Pinfold-Message-Id")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,200}\.eml")
_HEAD_CHUNK = 64 * 1024
_HEAD_LIMIT = 1024 * 1024  # a header block longer than this is cut there: the listing shows what it has read
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_MTIME = re.compile(r"[0-9]{1,20}")


def list_messages(directory: Path, *, to: str | None = None, message_id: str | None = None,
                  limit: int = DEFAULT_LIMIT, next_token: str | None = None) -> tuple[list[dict], str | None]:
    """Summaries of the stored messages, newest first (by modification time, then id), and the token of
    the next page, if any. `to` matches an envelope recipient (any case), `message_id` Pinfold's id."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    older_than = _position(next_token)
    stored = [s for s in dayfiles.kept(Path(directory), _NAME) if older_than is None or s.key < older_than]
    stored.sort(key=lambda s: s.key, reverse=True)
    wanted = to.strip().casefold() if to else None
    shown: list[tuple[dayfiles.Kept, dict]] = []
    for item in stored:
        summary = _summary(item)
        if summary is None or (message_id and summary["message_id"] != message_id):
            continue
        if wanted and wanted not in (address.casefold() for address in summary["to"]):
            continue
        shown.append((item, summary))
        if len(shown) > limit:  # one more than shown: an exactly full last page carries no token
            return [s for _, s in shown[:limit]], _token(shown[limit - 1][0])
    return [s for _, s in shown], None


def read(directory: Path, message: str) -> bytes:
    """The stored bytes of message `message` (`YYYY-MM-DD/<name>.eml`). InvalidInput for any other shape,
    NotFound unless it is a regular file inside `directory` reached without a symlink."""
    path = _path_of(Path(directory), message)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        raise NotFound(f"No message {message} in the mailbox") from None
    with os.fdopen(fd, "rb") as source:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotFound(f"No message {message} in the mailbox")
        return source.read()


def readable(raw: bytes) -> tuple[list[tuple[str, str]], str]:
    """The headers people read first (those present, in SHOWN_HEADERS order) and the text body: the
    text/plain part, else the HTML part as text, else an empty string."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    headers = [(name, _text(message, name)) for name in SHOWN_HEADERS if name in message]
    return headers, _body_text(message)


def _path_of(directory: Path, message: str) -> Path:
    """Where id `message` lives under `directory`: InvalidInput for a malformed id, NotFound past a symlink."""
    day, slash, name = message.partition("/")
    if not slash or dayfiles.DAY.fullmatch(day) is None or _NAME.fullmatch(name) is None:
        raise InvalidInput(f"{message[:80]!r} is not a mailbox message id (YYYY-MM-DD/<name>.eml)", field="id")
    root = directory.resolve()
    path = root / day / name
    if path.resolve() != path:  # a symlink on the way: the listing never shows one, and it may lead out
        raise NotFound(f"No message {message} in the mailbox")
    return path


def _summary(item: dayfiles.Kept) -> dict | None:
    """What the listing shows of one message, from its header block only; None if it is gone."""
    try:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(_head(item.path))
    except OSError:
        return None
    envelope = _text(headers, "X-Pinfold-Envelope-To")
    return {
        "id": item.id,
        "received": iso(datetime.fromtimestamp(item.mtime_ns / 1e9, UTC)),
        "from": _text(headers, "From"),
        "to": [address.strip() for address in envelope.split(",") if address.strip()],
        "subject": _text(headers, "Subject"),
        "message_id": _text(headers, "X-Pinfold-Message-Id"),
        "size": item.size,
    }


def _head(path: Path) -> bytes:
    """The file's header block, up to the first empty line (at most _HEAD_LIMIT bytes)."""
    with open(path, "rb") as source:
        data = b""
        while len(data) < _HEAD_LIMIT:
            chunk = source.read(_HEAD_CHUNK)
            if not chunk:
                break
            searched_from = max(0, len(data) - 3)
            data += chunk
            blank = _BLANK_LINE.search(data, searched_from)
            if blank is not None:
                return data[:blank.end()]
        return data[:_HEAD_LIMIT]


def _text(headers, name: str) -> str:
    """A header decoded (RFC 2047) on one line; empty when absent or unreadable."""
    try:
        value = headers[name]
    except Exception:  # a tenant's raw message may hold a header the parser cannot read
        return ""
    return "" if value is None else " ".join(str(value).split())


def _body_text(message: EmailMessage) -> str:
    for kind in ("plain", "html"):
        part = message.get_body(preferencelist=(kind,))
        if part is None:
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError):  # an unknown charset or a broken encoding: show what decodes
            content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
        return content if kind == "plain" else _html_text(content)
    return ""


class _TextOf(HTMLParser):
    """The visible text of an HTML document: tags dropped, script and style skipped, blocks on new lines."""

    _SKIPPED = {"script", "style", "head", "title"}
    _BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _token(item: dayfiles.Kept) -> str:
    return encode_token((str(item.mtime_ns), item.id))


def _position(token: str | None) -> tuple[int, str] | None:
    """The (mtime_ns, id) a next_token names: the next page holds only messages older than it."""
    try:
        position = decode_token(token)
    except InvalidInput:
        position = ("", "")
    if position is None:
        return None
    mtime, message = position
    day, _, name = message.partition("/")
    if _MTIME.fullmatch(mtime) is None or dayfiles.DAY.fullmatch(day) is None or _NAME.fullmatch(name) is None:
        raise InvalidInput("next_token is not a token this mailbox listing issued", field="next_token")
    return int(mtime), message


# --- for callers of the admin API ------------------------------------------------------------------
# The mailbox holds every tenant's mail: only organization administrators read it through the API.
# (The CLI reads the files of the data directory it is given, as whoever may read them.)

def list_for(ctx, caller, **options) -> tuple[list[dict], str | None]:
    """`list_messages` of this installation's mailbox, for an organization administrator."""
    caller.require_organization_admin()
    return list_messages(ctx.settings.data_dir / "mailbox", **options)


def read_for(ctx, caller, message: str) -> bytes:
    """`read` of one message of this installation's mailbox, for an organization administrator."""
    caller.require_organization_admin()
    return read(ctx.settings.data_dir / "mailbox", message)
