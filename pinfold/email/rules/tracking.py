"""Signed tracking tokens and the HTML rewriting that puts them into outgoing mail.

A token names a message, what happened (open, click, unsubscribe) and, for clicks, which link; an
HMAC makes it unforgeable. It holds no secret and no address: the original links stay with Pinfold,
and the token only says which one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
from typing import Literal

from pinfold.core.errors import InvalidInput

Kind = Literal["open", "click", "unsubscribe"]

_CODES: dict[str, str] = {"open": "o", "click": "c", "unsubscribe": "u"}
_KINDS = {code: kind for kind, code in _CODES.items()}
_MESSAGE_ID = re.compile(r"[A-Za-z0-9-]{1,200}")
_TOKEN = re.compile(r"([ocu])(\d{0,6})\.([A-Za-z0-9-]{1,200})\.([A-Za-z0-9_-]{22})")
_SIGNATURE_BYTES = 16  # 128 bits: forging one needs ~2^128 tries, and the token stays short in URLs
_DOMAIN = b"pinfold-tracking-v1\x00"  # keeps these MACs apart from anything else the same key signs


def _sign(key: bytes, body: str) -> str:
    digest = hmac.new(key, _DOMAIN + body.encode("ascii"), hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_token(key: bytes, message_id: str, kind: Kind, link: int | None = None) -> str:
    """A URL-safe token for one message and event kind (and link number, for clicks)."""
    if not key:
        raise InvalidInput("The tracking key is empty")
    if kind not in _CODES:
        raise InvalidInput(f"Unknown tracking kind {kind!r}")
    if not _MESSAGE_ID.fullmatch(message_id or ""):
        raise InvalidInput("A tracked message id is 1-200 letters, digits or hyphens", field="message_id")
    if (kind == "click") != (link is not None) or (link is not None and not 0 <= link < 1_000_000):
        raise InvalidInput("A click token names a link number (0-999999); other tokens name none", field="link")
    body = f"{_CODES[kind]}{'' if link is None else link}.{message_id}"
    return f"{body}.{_sign(key, body)}"


def read_token(key: bytes, token: str) -> tuple[str, Kind, int | None]:
    """(message_id, kind, link) of a token made with `key`; InvalidInput when it is malformed or forged."""
    match = _TOKEN.fullmatch(token or "")
    if match is None or not key:
        raise InvalidInput("Invalid tracking token")
    code, link, message_id, signature = match.groups()
    body, _, _ = token.rpartition(".")
    if not hmac.compare_digest(_sign(key, body), signature):
        raise InvalidInput("Invalid tracking token")
    if (code == "c") != bool(link) or (link and link != str(int(link))):
        raise InvalidInput("Invalid tracking token")  # only reachable with a valid MAC on a bad body
    return message_id, _KINDS[code], int(link) if link else None


def unsubscribe_url(base_url: str, key: bytes, message_id: str) -> str:
    """The one-click (RFC 8058) unsubscribe URL for a message, for List-Unsubscribe and templates."""
    return f"{base_url.rstrip('/')}/t/u/{make_token(key, message_id, 'unsubscribe')}"


# An <a ...> start tag; quoted values may hold ">", and the alternatives never overlap (linear time).
_ANCHOR = re.compile(r"""<a\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_HREF = re.compile(r"""(\shref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_NO_TRACK = re.compile(r"\sses:no-track\b", re.IGNORECASE)
_TRACKED_SCHEME = re.compile(r"\s*https?://", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def instrument_html(html_text: str, *, base_url: str, key: bytes, message_id: str, opens: bool,
                    clicks: bool) -> tuple[str, list[str]]:
    """Rewrite http(s) links to click redirects and add an open pixel; returns (html, original links by number)."""
    base = base_url.rstrip("/")
    links: list[str] = []
    if clicks:
        def rewrite(anchor: re.Match) -> str:
            tag = anchor.group(0)
            href = _HREF.search(tag)
            if href is None or _NO_TRACK.search(tag):
                return tag
            raw = next(value for value in href.group(2, 3, 4) if value is not None)
            if not _TRACKED_SCHEME.match(raw):
                return tag  # mailto:, tel:, #anchors, relative and template links stay as they are
            token = make_token(key, message_id, "click", len(links))
            links.append(html.unescape(raw).strip())
            return f'{tag[:href.start()]}{href.group(1)}"{base}/t/c/{token}"{tag[href.end():]}'

        html_text = _ANCHOR.sub(rewrite, html_text)
    if opens:
        html_text = _with_pixel(html_text, f"{base}/t/o/{make_token(key, message_id, 'open')}")
    return html_text, links


def _with_pixel(html_text: str, url: str) -> str:
    pixel = f'<img src="{url}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">'
    end = html_text.rfind("</body>")
    if end < 0:
        matches = list(_BODY_END.finditer(html_text))
        end = matches[-1].start() if matches else len(html_text)
    return html_text[:end] + pixel + html_text[end:]
