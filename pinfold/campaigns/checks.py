"""The HEAD check Pinpoint makes of a web URL a campaign will call (a custom delivery URI, a FILTER
hook's WebUrl): the URL must answer a HEAD request, within 5 seconds and without a redirect, with
the header `X-Amz-Pinpoint-AccountId` set to the project's account id. It proves the service at the
URL expects this account's calls."""

from __future__ import annotations

import http.client
import ssl
from urllib.parse import urlsplit

from pinfold.core.errors import InvalidInput

ACCOUNT_HEADER = "X-Amz-Pinpoint-AccountId"
TIMEOUT_SECONDS = 5.0


def check_web_url(url: str, account_id: str, field: str) -> None:
    """InvalidInput saying what was wrong unless `url` answers HEAD with this account's id."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    extra = {"context": ssl.create_default_context()} if parts.scheme == "https" else {}
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS, **extra)
    try:
        connection.request("HEAD", path, headers={"User-Agent": "Pinfold campaign URL check"})
        response = connection.getresponse()
        status, found = response.status, response.getheader(ACCOUNT_HEADER)
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise InvalidInput(f"{field}: the HEAD request to {url} failed ({_reason(error)})", field=field) from None
    finally:
        connection.close()
    if 300 <= status < 400:
        raise InvalidInput(f"{field}: {url} answered HEAD with a redirect ({status}); give the final URL",
                           field=field)
    if found is None:
        raise InvalidInput(f"{field}: {url} answered HEAD ({status}) without the {ACCOUNT_HEADER} header; it must "
                           f"carry the account id {account_id}", field=field)
    if found.strip() != account_id:
        raise InvalidInput(f"{field}: {url} answered HEAD with {ACCOUNT_HEADER} {found.strip()[:32]!r}, not this "
                           f"project's account id {account_id}", field=field)


def _reason(error: Exception) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {TIMEOUT_SECONDS:g} seconds"
    return str(error)[:200] or type(error).__name__
