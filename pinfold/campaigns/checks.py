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
    """InvalidInput unless `url` answers HEAD with this account's id.

    A failed connection, a timeout, a redirect and a missing header are refused in the same words,
    without the remote's status or error text: a tenant must not be able to use the check to map
    what answers on the server's networks. Only a header naming another account is said so."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    extra = {"context": ssl.create_default_context()} if parts.scheme == "https" else {}
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS, **extra)
    try:
        connection.request("HEAD", path, headers={"User-Agent": "Pinfold campaign URL check"})
        response = connection.getresponse()
        status, found = response.status, response.getheader(ACCOUNT_HEADER)
    except (OSError, http.client.HTTPException, ValueError):
        status, found = None, None
    finally:
        connection.close()
    if status is None or 300 <= status < 400 or found is None:
        raise InvalidInput(f"{field}: {url} must answer a HEAD request within {TIMEOUT_SECONDS:g} seconds, without "
                           f"a redirect, with the header {ACCOUNT_HEADER}: {account_id}", field=field)
    if found.strip() != account_id:
        raise InvalidInput(f"{field}: {url} answered HEAD with {ACCOUNT_HEADER} {found.strip()[:32]!r}, not this "
                           f"project's account id {account_id}", field=field)
