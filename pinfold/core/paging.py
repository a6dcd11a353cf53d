"""Paging as Pinpoint does it: a PageSize string and an opaque Token naming the last item seen."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TypeVar

import orjson

from pinfold.core.errors import InvalidInput
from pinfold.core.numbers import whole_number

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
T = TypeVar("T")


def page_size(raw: str | None) -> int:
    """Pinpoint's PageSize (a string in the model): the default when absent, else 1 to MAX_PAGE_SIZE."""
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    return whole_number(raw, field="PageSize", high=MAX_PAGE_SIZE)


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


# SES v2 pages: an integer PageSize and a NextToken naming the operation and the last key shown. A
# page is read one row longer than it is shown, so an exactly full last page carries no token.

def limit_of(size: int | None, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """An SES PageSize: `default` when absent, else 1 to `maximum`."""
    if size is None:
        return default
    if not 1 <= size <= maximum:
        raise InvalidInput(f"PageSize must be between 1 and {maximum}", field="PageSize")
    return size


def after_key(token: str | None, kind: str) -> str | None:
    """The last key the previous page showed, from a NextToken this `kind` of listing issued."""
    position = decode_token(token)
    if position is None:
        return None
    if position[0] != kind:
        raise InvalidInput("NextToken is not a token this operation issued", field="NextToken")
    return position[1]


def page_of(rows: list[T], limit: int, kind: str, key: Callable[[T], str]) -> tuple[list[T], str | None]:
    """The rows to show and the next page's token, given up to `limit` + 1 rows read."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_token((kind, key(rows[limit - 1])))
