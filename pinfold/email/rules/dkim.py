"""DKIM (RFC 6376) keys, the DNS records that publish them, and rsa-sha256 relaxed/relaxed signing.

SES's Easy DKIM publishes three CNAME tokens that point into amazonses.com, where AWS serves the
public keys and rotates them. Pinfold runs no DNS zone of its own to point at, so a domain owner
publishes the public key itself: one TXT record at `<selector>._domainkey.<domain>` (as with SES's
bring-your-own-DKIM). Signing is done here with `cryptography` rather than dkimpy: dkimpy's
pure-Python RSA measured about 6 ms per message against 0.3 ms, too slow for bulk sends.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pinfold.core.errors import InvalidInput

# Signed when present, in this order; From is listed once more than it occurs ("oversigned") so a
# second From added in transit breaks the signature instead of riding on it.
SIGNED_HEADERS = ("from", "to", "cc", "reply-to", "subject", "date", "message-id", "mime-version",
                  "content-type", "list-unsubscribe", "list-unsubscribe-post")
_TXT_CHUNK = 255  # a DNS TXT character-string holds at most 255 bytes
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_WSP_RUN = re.compile(rb"[ \t]+")
# Only runs that change: rewriting every single space costs ~4x as much on a typical body.
_WSP_CHANGING_RUN = re.compile(rb"\t[ \t]*| [ \t]+")


def generate_key(bits: int = 2048) -> tuple[str, str]:
    """A new RSA key pair: (private key PEM, public key as base64 DER for the p= tag)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _private_pem(key), _public_b64(key)


def import_key(text: str) -> tuple[str, str, int]:
    """(PEM, public base64, bits) of an RSA private key given as PEM or base64 DER; ValueError if it is not one."""
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = serialization.load_der_private_key(base64.b64decode("".join(text.split())), password=None)
    except (ValueError, TypeError, binascii.Error):
        raise ValueError("not a PEM or base64 DER private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return _private_pem(key), _public_b64(key), key.key_size


def _public_b64(key: rsa.RSAPrivateKey) -> str:
    """The key's public half as base64 DER (SubjectPublicKeyInfo), as the p= tag holds it."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def txt_record(domain: str, selector: str, public_b64: str) -> dict:
    """The TXT record (name, type, value) that publishes a public key; the names are not checked here."""
    return {"name": f"{selector}._domainkey.{domain.rstrip('.').lower()}", "type": "TXT",
            "value": f"v=DKIM1; k=rsa; p={public_b64}"}


def txt_strings(value: str) -> list[str]:
    """The value cut into the character-strings a TXT record holds: each at most 255 bytes of UTF-8.

    Cut by bytes, not characters, and never inside a character; a DKIM value is ASCII, where the two agree.
    """
    strings: list[str] = []
    start = size = 0
    for index, char in enumerate(value):
        width = len(char.encode())
        if size + width > _TXT_CHUNK:
            strings.append(value[start:index])
            start, size = index, 0
        size += width
    if start < len(value):
        strings.append(value[start:])
    return strings


def dns_records(domain: str, selector: str, public_b64: str) -> list[dict]:
    """The TXT record to publish, with `strings`: its value split into the 255-byte pieces DNS needs."""
    _check_names(domain, selector)
    record = txt_record(domain, selector, public_b64)
    return [{**record, "strings": txt_strings(record["value"])}]


def record_matches(txt: str, public_b64: str) -> bool:
    """Whether a TXT record's text (pieces already joined) publishes this public key."""
    tags = dict(part.strip().partition("=")[::2] for part in txt.split(";") if "=" in part)
    published = "".join(tags.get("p", "").split())
    return tags.get("v", "DKIM1").strip() == "DKIM1" and published == public_b64


def sign(data: bytes, *, domain: str, selector: str, private_pem: str) -> bytes:
    """The message (CRLF line endings) with a DKIM-Signature header (rsa-sha256, relaxed/relaxed) in front."""
    _check_names(domain, selector)
    head, body = _split(data)
    fields = _fields(head)
    present = [name for name in SIGNED_HEADERS if any(field_name == name for field_name, _ in fields)]
    if "from" not in present:
        raise InvalidInput("a message without a From header cannot be DKIM-signed")
    names = []
    for name in present:
        names += [name] * sum(1 for field_name, _ in fields if field_name == name)
    names.append("from")
    body_hash = base64.b64encode(hashlib.sha256(_body(body)).digest()).decode()
    header = (f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s={selector};\r\n"
              f"\tt={int(time.time())}; h={':'.join(names)};\r\n\tbh={body_hash};\r\n\tb=")
    signed = b"".join(_relaxed_header(raw) for raw in _pick(fields, names))
    signed += _relaxed_header(header.encode())[:-2]  # the signature header itself, without its CRLF
    signature = _load_key(private_pem).sign(signed, padding.PKCS1v15(), hashes.SHA256())
    return header.encode() + base64.b64encode(signature) + b"\r\n" + data


def _check_names(domain: str, selector: str) -> None:
    labels = domain.rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidInput(f"not a domain name DKIM can sign for: {domain!r}")
    if not all(_LABEL.match(label) for label in selector.split(".")):
        raise InvalidInput(f"not a valid DKIM selector: {selector!r}")


@lru_cache(maxsize=256)
def _load_key(private_pem: str) -> rsa.RSAPrivateKey:
    """Parsing a PEM key costs ~30 ms, a hundred signatures' worth: keep the parsed keys."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidInput("the DKIM private key is not an RSA key")
    return key


def _split(data: bytes) -> tuple[bytes, bytes]:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return data if data.endswith(b"\r\n") else data + b"\r\n", b""
    return data[:end + 2], data[end + 4:]


def _fields(head: bytes) -> list[tuple[str, bytes]]:
    """(lower-case name, raw field with continuation lines) for every header field, in order."""
    fields: list[tuple[str, bytes]] = []
    for line in head.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + b"\r\n" + line)
        else:
            fields.append((line.split(b":", 1)[0].strip().lower().decode("ascii", "replace"), line))
    return fields


def _pick(fields: list[tuple[str, bytes]], names: list[str]) -> list[bytes]:
    """For each name in h=, the next occurrence from the bottom (RFC 6376 5.4.2); none signs as empty."""
    used: dict[str, int] = {}
    picked = []
    for name in names:
        occurrences = [raw for field_name, raw in fields if field_name == name]
        count = used.get(name, 0)
        used[name] = count + 1
        if count < len(occurrences):
            picked.append(occurrences[-1 - count])
    return picked


def _relaxed_header(raw: bytes) -> bytes:
    """RFC 6376 3.4.2: lower-case name, unfold, collapse whitespace, trim around the colon and the end."""
    name, _, value = raw.partition(b":")
    value = _WSP_RUN.sub(b" ", value.replace(b"\r\n", b"")).strip(b" ")
    return name.strip().lower() + b":" + value + b"\r\n"


def _body(body: bytes) -> bytes:
    """RFC 6376 3.4.4: trailing whitespace dropped, runs collapsed, trailing empty lines removed."""
    if body and not body.endswith(b"\r\n"):
        body += b"\r\n"
    if b"\t" in body or b"  " in body:
        body = _WSP_CHANGING_RUN.sub(b" ", body)
    body = body.replace(b" \r\n", b"\r\n").rstrip(b"\r\n")  # runs are single spaces by now
    return body + b"\r\n" if body else b""
