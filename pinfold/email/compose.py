"""Turn a queued email (its batch's definition plus one recipient) into the bytes a relay receives.

A batch's definition is what the request asked for, resolved once when it was accepted: the sender,
Simple content or a template's parts (with their default substitutions), or Raw bytes; the DKIM key
to sign with; whether to track opens and clicks and to offer one-click unsubscribe. Composing a
message renders it for its recipient, adds tracking, builds the MIME message and signs it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from pinfold.email import mime
from pinfold.email.adapters.base import OutgoingEmail
from pinfold.email.rules import dkim, tracking
from pinfold.email.store import messages
from pinfold.templating.engine import compile_template

# SES's placeholder for the unsubscribe link in the body of a send with ListManagementOptions.
UNSUBSCRIBE_PLACEHOLDER = "amazonSESUnsubscribeUrl"


@dataclass(frozen=True)
class Composer:
    """What every message needs besides its own definition: names, keys and where Pinfold is reached."""

    mail_domain: str
    public_url: str
    tracking_key: bytes = field(repr=False)
    decrypt: object = field(repr=False)  # ciphertext -> text, for DKIM keys


@dataclass(frozen=True)
class Composed:
    email: OutgoingEmail
    mail: dict  # the facts event records repeat: from, to, subject, headers, links


def compose(composer: Composer, definition: dict, message_id: str, recipient: dict) -> Composed:
    """The signed message for one recipient; raises TemplateError when the content cannot be rendered."""
    if definition["kind"] == "raw":
        return _raw(composer, definition, message_id, recipient)
    data = recipient.get("data") or {}
    managed = definition.get("list_management")  # an SES send naming a contact list: its link opts out
    unsubscribe_url = None
    if definition.get("list_unsubscribe") and (recipient.get("endpoint_id") or managed):
        unsubscribe_url = tracking.unsubscribe_url(composer.public_url, composer.tracking_key, message_id)
    if managed and unsubscribe_url:
        data = {**data, UNSUBSCRIBE_PLACEHOLDER: unsubscribe_url}
    defaults = definition.get("defaults") or {}
    subject = _render(definition.get("subject") or "", data, defaults, escape=False)
    html = _render(definition.get("html"), data, defaults, escape=True)
    text = _render(definition.get("text"), data, defaults, escape=False)
    links: list[str] = []
    track = definition.get("tracking") or {}
    if html and (track.get("opens") or track.get("clicks")):
        html, links = tracking.instrument_html(html, base_url=composer.public_url, key=composer.tracking_key,
                                               message_id=message_id, opens=bool(track.get("opens")),
                                               clicks=bool(track.get("clicks")))
    unsubscribe = None
    if unsubscribe_url:  # it opts the endpoint out, or the contact out of the send's topic
        unsubscribe = (unsubscribe_url, f"mailto:unsubscribe@{composer.mail_domain}?subject=unsubscribe%20{message_id}")
    headers = [tuple(pair) for pair in definition.get("headers") or ()]
    data_bytes = mime.build_message(
        message_id=message_id, mail_domain=composer.mail_domain, from_addr=definition["from"],
        to=recipient.get("to") or [], cc=recipient.get("cc") or [], reply_to=definition.get("reply_to") or [],
        subject=subject, html=html, text=text, headers=headers, list_unsubscribe=unsubscribe,
        attachments=definition.get("attachments") or ())
    mail = {"from": definition["from_address"], "to": recipient.get("to") or [], "subject": subject,
            "headers": _summary_headers(definition, recipient, subject, html, text), "links": links}
    return Composed(_signed(composer, definition, message_id, recipient, data_bytes), mail)


def _render(source: str | None, data: dict, defaults: dict, *, escape: bool) -> str | None:
    if not source:
        return source
    return compile_template(source).render(data, defaults, escape=escape)


def _raw(composer: Composer, definition: dict, message_id: str, recipient: dict) -> Composed:
    data, _sender, _listed = mime.prepare_raw(base64.b64decode(definition["raw"]), message_id, composer.mail_domain)
    mail = {"from": definition["from_address"], "to": recipient.get("to") or [],
            "subject": definition.get("subject") or "", "headers": definition.get("summary_headers") or [],
            "links": []}
    return Composed(_signed(composer, definition, message_id, recipient, data), mail)


def _signed(composer: Composer, definition: dict, message_id: str, recipient: dict, data: bytes) -> OutgoingEmail:
    key = definition.get("dkim")
    if key:
        data = dkim.sign(data, domain=key["domain"], selector=key["selector"],
                         private_pem=composer.decrypt(key["private_key"]))
    envelope = messages.envelope(recipient)
    return OutgoingEmail(message_id=message_id, sender=definition["return_path"],
                         recipients=tuple(dict.fromkeys(envelope)), data=data)


def _summary_headers(definition: dict, recipient: dict, subject: str, html: str | None,
                     text: str | None) -> list[list[str]]:
    """The headers event records list (Pinpoint lists From, To, Subject and the MIME ones)."""
    content_type = "multipart/alternative" if html and text else ("text/html" if html else "text/plain")
    headers = [["From", definition["from"]], ["To", ", ".join(recipient.get("to") or [])], ["Subject", subject],
               ["MIME-Version", "1.0"], ["Content-Type", content_type]]
    return headers
