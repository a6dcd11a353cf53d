"""Which adapter delivers email, from two settings.

PINFOLD_EMAIL_RELAY is the default. Empty: the built-in mailbox simulator, which keeps mail under
`<data dir>/mailbox` and answers SES's simulator addresses. Otherwise an SMTP relay URL:

    smtp://[user:password@]host[:port][?starttls=require|opportunistic|off&connections=N]

PINFOLD_EMAIL_POOLS names more relays, `pool=url` separated by spaces or commas. A configuration
set whose DeliveryOptions name a SendingPoolName sends through that pool's relay; a name no pool
has falls back to the default (and is logged once). TlsPolicy REQUIRE makes a relay insist on
STARTTLS for that set's mail, whatever its URL says.

(`smtps://` is not offered: relays take STARTTLS on the submission port.) Passwords are read from
the URLs and never logged; prefer relays that trust the host over credentials in the environment.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit

from pinfold.config import Settings
from pinfold.core.errors import InvalidInput
from pinfold.email.adapters.base import EmailAdapter, Feedback

_STARTTLS = ("require", "opportunistic", "off")
log = logging.getLogger("pinfold.sending")


class Relays:
    """The adapters mail leaves through: the default one, one per named pool, each made when first used."""

    def __init__(self, settings: Settings, on_feedback: Callable[[Feedback], None] | None = None) -> None:
        self.settings, self.on_feedback = settings, on_feedback
        self.urls = parse_pools(settings.email_pools)
        self._made: dict[tuple[str | None, bool], EmailAdapter] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def pick(self, pool: str | None, *, require_tls: bool = False) -> EmailAdapter:
        if pool is not None and pool not in self.urls:
            if pool not in self._warned:
                self._warned.add(pool)
                log.warning("sending pool %r is not configured (PINFOLD_EMAIL_POOLS); using the default relay", pool)
            pool = None
        url = self.urls[pool] if pool else self.settings.email_relay
        require_tls = require_tls and bool(url)  # the mailbox simulator has no TLS to require
        with self._lock:
            key = (pool, require_tls)
            if key not in self._made:
                if not url:
                    self._made[key] = email_adapter(self.settings, self.on_feedback)
                else:
                    self._made[key] = smtp_relay(url, starttls="require" if require_tls else None)
            return self._made[key]

    def close(self) -> None:
        for adapter in self._made.values():
            adapter.close()


def parse_pools(text: str) -> dict[str, str]:
    pools = {}
    for entry in filter(None, re.split(r"[\s,]+", text.strip())):
        name, sep, url = entry.partition("=")
        if not sep or not name or not url:
            raise InvalidInput(f"PINFOLD_EMAIL_POOLS entries look like pool=smtp://host:port, not {entry!r}")
        pools[name] = url
    return pools


def email_adapter(settings: Settings, on_feedback: Callable[[Feedback], None] | None = None) -> EmailAdapter:
    if not settings.email_relay:
        from pinfold.email.adapters.mailbox import Mailbox

        return Mailbox(settings.data_dir / "mailbox", on_feedback)
    return smtp_relay(settings.email_relay)


def smtp_relay(url: str, *, starttls: str | None = None) -> EmailAdapter:
    from pinfold.email.adapters.smtp import SmtpRelay

    parts = urlsplit(url)
    if parts.scheme != "smtp" or not parts.hostname:
        raise InvalidInput("PINFOLD_EMAIL_RELAY must look like smtp://[user:password@]host[:port]")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    starttls = starttls or options.get("starttls", "opportunistic")
    if starttls not in _STARTTLS:
        raise InvalidInput(f"starttls must be one of {', '.join(_STARTTLS)}")
    return SmtpRelay(parts.hostname, parts.hostname, parts.port or 25,
                     username=unquote(parts.username) if parts.username else None,
                     password=unquote(parts.password) if parts.password else None,
                     starttls=starttls, max_connections=int(options.get("connections", "4")))
