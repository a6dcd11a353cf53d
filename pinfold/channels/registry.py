"""Which adapter delivers email, from one setting (PINFOLD_EMAIL_RELAY).

Empty: the built-in mailbox simulator, which keeps mail under `<data dir>/mailbox` and answers SES's
simulator addresses. Otherwise an SMTP relay URL:

    smtp://[user:password@]host[:port][?starttls=require|opportunistic|off&connections=N]

(`smtps://` is not offered: relays take STARTTLS on the submission port.) The password is read from
the URL and never logged; prefer a relay that trusts the host over credentials in the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit

from pinfold.channels.base import EmailAdapter, Feedback
from pinfold.config import Settings
from pinfold.domain.errors import InvalidInput

_STARTTLS = ("require", "opportunistic", "off")


def email_adapter(settings: Settings, on_feedback: Callable[[Feedback], None] | None = None) -> EmailAdapter:
    if not settings.email_relay:
        from pinfold.channels.mailbox import Mailbox

        return Mailbox(settings.data_dir / "mailbox", on_feedback)
    return smtp_relay(settings.email_relay)


def smtp_relay(url: str) -> EmailAdapter:
    from pinfold.channels.smtp import SmtpRelay

    parts = urlsplit(url)
    if parts.scheme != "smtp" or not parts.hostname:
        raise InvalidInput("PINFOLD_EMAIL_RELAY must look like smtp://[user:password@]host[:port]")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    starttls = options.get("starttls", "opportunistic")
    if starttls not in _STARTTLS:
        raise InvalidInput(f"starttls must be one of {', '.join(_STARTTLS)}")
    return SmtpRelay(parts.hostname, parts.hostname, parts.port or 25,
                     username=unquote(parts.username) if parts.username else None,
                     password=unquote(parts.password) if parts.password else None,
                     starttls=starttls, max_connections=int(options.get("connections", "4")))
