"""Paging as Pinpoint does it: a PageSize string and an opaque Token naming the last item seen."""

from __future__ import annotations

import base64

import orjson

from pinfold.domain.errors import InvalidInput

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_size(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise InvalidInput("PageSize must be a whole number", field="PageSize") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"PageSize must be between 1 and {MAX_PAGE_SIZE}", field="PageSize")
    return size


def encode_token(position: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(position))).decode()


def decode_token(token: str | None) -> tuple[str, str] | None:
    if not token:
        return None
    try:
        created_at, project_id = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        return str(created_at), str(project_id)
    except Exception:
        raise InvalidInput("Token is not a token this service issued", field="Token") from None
