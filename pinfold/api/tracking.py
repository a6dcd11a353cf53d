"""The tracking edge: open pixels, click redirects and one-click unsubscribes (RFC 8058).

Tokens come from `domain.tracking`; what a link was and what an event means are the caller's
(`resolve_link`, `record`), run in a worker thread because they touch the database.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route, Router

from pinfold.core.errors import InvalidInput
from pinfold.email.rules import tracking

log = logging.getLogger("pinfold.tracking")

# A 1x1 transparent GIF: header, 1x1 screen with a 2-colour table, a graphic control extension
# marking colour 0 transparent, one image of one pixel, trailer.
PIXEL_GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
             + b"\x21\xf9\x04\x01\x00\x00\x00\x00" + b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00"
             + b"\x02\x02\x44\x01\x00" + b"\x3b")
_NO_STORE = {"Cache-Control": "no-store, no-cache, must-revalidate, private", "Pragma": "no-cache"}
_MAX_FORM_BYTES = 16 * 1024

ResolveLink = Callable[[str, int], str | None]
Record = Callable[[str, str, str | None, str, str], None]

_CONFIRM_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Unsubscribe</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto">
<h1>Unsubscribe</h1><p>Stop receiving these emails?</p>
<form method="post" action="{action}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form></body></html>
"""
_DONE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Unsubscribed</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto"><h1>You are unsubscribed</h1>
<p>You will no longer receive these emails.</p></body></html>
"""


def _token(request: Request, key: bytes, kind: str) -> tuple[str, int | None] | None:
    """(message_id, link) when the path token is genuine and of this route's kind."""
    try:
        message_id, token_kind, link = tracking.read_token(key, request.path_params["token"])
    except InvalidInput:
        return None
    return (message_id, link) if token_kind == kind else None


def _who(request: Request) -> tuple[str, str]:
    return request.headers.get("user-agent", ""), request.client.host if request.client else ""


async def _one_click_form(request: Request) -> bool:
    """True when the body carries List-Unsubscribe=One-Click (urlencoded or multipart, per RFC 8058)."""
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        return False
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        text = body.decode("utf-8", "replace")
        return 'name="List-Unsubscribe"' in text and "One-Click" in text
    values = parse_qs(body.decode("utf-8", "replace"))
    return values.get("List-Unsubscribe") == ["One-Click"]


def tracking_routes(key: bytes, resolve_link: ResolveLink, record: Record) -> Router:
    """An ASGI router for /t/o, /t/c and /t/u; unknown or forged tokens are 404."""

    async def record_quietly(kind: str, message_id: str, link: str | None, request: Request) -> None:
        # An open or click is a measurement: losing one must not break the reader's image or link.
        try:
            await run_in_threadpool(record, kind, message_id, link, *_who(request))
        except Exception:
            log.exception("recording %s of %s failed", kind, message_id)

    async def opened(request: Request) -> Response:
        found = _token(request, key, "open")
        if found is None:
            return Response(status_code=404)
        if request.method == "GET":  # HEAD is a prefetch or a link checker, not a reader
            await record_quietly("open", found[0], None, request)
        return Response(PIXEL_GIF, media_type="image/gif", headers=_NO_STORE)

    async def clicked(request: Request) -> Response:
        found = _token(request, key, "click")
        link = await run_in_threadpool(resolve_link, *found) if found else None
        if found is None or not link or not link.lower().startswith(("http://", "https://")):
            return Response(status_code=404)
        if request.method == "GET":
            await record_quietly("click", found[0], link, request)
        return RedirectResponse(link, status_code=302, headers=_NO_STORE)

    async def confirm(request: Request) -> Response:
        if _token(request, key, "unsubscribe") is None:
            return Response(status_code=404)
        page = _CONFIRM_PAGE.format(action=html.escape(request.url.path, quote=True))
        return HTMLResponse(page, headers=_NO_STORE)

    async def unsubscribe(request: Request) -> Response:
        found = _token(request, key, "unsubscribe")
        if found is None:
            return Response(status_code=404)
        if not await _one_click_form(request):
            return Response("Expected List-Unsubscribe=One-Click", status_code=400)
        # Unlike opens and clicks, an unsubscribe must not be lost: a failure is a 5xx the sender can retry.
        await run_in_threadpool(record, "unsubscribe", found[0], None, *_who(request))
        return HTMLResponse(_DONE_PAGE, headers=_NO_STORE)

    return Router(routes=[
        Route("/t/o/{token}", opened, methods=["GET"]),
        Route("/t/c/{token}", clicked, methods=["GET"]),
        Route("/t/u/{token}", confirm, methods=["GET"]),
        Route("/t/u/{token}", unsubscribe, methods=["POST"]),
    ])
