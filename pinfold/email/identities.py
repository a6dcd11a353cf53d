"""SES email identities: CreateEmailIdentity, GetEmailIdentity, ListEmailIdentities, DeleteEmailIdentity,
their DKIM and default configuration set, and verification.

A domain gets a DKIM key pair Easy-DKIM style: Pinfold generates it, keeps the private key encrypted
with the master key, and signs the domain's mail with it. Where SES asks for CNAME records pointing
at its own keys, Pinfold asks for one TXT record holding the public key itself:
`<selector>._domainkey.<domain> TXT "v=DKIM1; k=rsa; p=<public key>"` (see `dns_records`). Finding
that record in DNS verifies the domain; an organization administrator may also confirm an identity
(addresses are verified that way: Pinfold does not mail them a link).
"""

from __future__ import annotations

import base64
import re
import secrets
import time

import dns.exception
import dns.resolver

from pinfold.config import Settings
from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from pinfold.core.paging import after_key, limit_of, page_of
from pinfold.db.database import lock_keys
from pinfold.email.access import require_admin, visible_arns
from pinfold.email.rules import dkim
from pinfold.email.store import configuration_sets
from pinfold.email.store import identities as email_identities
from pinfold.email.store import tenants as ses_tenants
from pinfold.email.tenants import identity_arn, tag_list, tags_of
from pinfold.projects import store as tag_store

MAX_IDENTITIES = 10_000
DNS_RECHECK_SECONDS = 60.0
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_KEY_BITS = {"RSA_1024_BIT": 1024, "RSA_2048_BIT": 2048}


def _check_domain(domain: str, field: str = "EmailIdentity") -> None:
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidInput(f"{domain!r} is not a valid domain name", field=field)


def identity_type(name: str) -> str:
    """EMAIL_ADDRESS or DOMAIN for a (lowercased) identity name; InvalidInput if it is neither."""
    if "@" not in name:
        _check_domain(name)
        return "DOMAIN"
    local, _at, domain = name.rpartition("@")
    if not _LOCAL.match(local) or ".." in local or local.startswith(".") or local.endswith("."):
        raise InvalidInput(f"{name!r} is not a valid email address", field="EmailIdentity")
    _check_domain(domain)
    return "EMAIL_ADDRESS"


def _require(conn, caller: Caller, name: str) -> dict:
    """The identity if the caller may see it; confined callers see only their SES tenant's."""
    row = email_identities.get(conn, caller.account_id, caller.region, name)
    visible = visible_arns(conn, caller) if row is not None else None
    if visible is not None and identity_arn(caller.account_id, caller.region, row["identity"]) not in visible:
        row = None
    if row is None:
        raise NotFound(f"Email identity {name} does not exist.")
    return row


def _dkim_columns(signing: dict | None, secrets_box) -> dict:
    """The DKIM columns of a new domain: Pinfold's own key (AWS_SES) or the caller's (EXTERNAL)."""
    signing = signing or {}
    if signing.get("DomainSigningAttributesOrigin") == "EXTERNAL" or signing.get("DomainSigningPrivateKey"):
        selector = (signing.get("DomainSigningSelector") or "").lower()
        if not _LABEL.match(selector):
            raise InvalidInput("DomainSigningSelector must be a DNS label", field="DomainSigningSelector")
        private_pem, public_b64, bits = _load_external_key(signing.get("DomainSigningPrivateKey") or "")
        origin = "EXTERNAL"
    else:
        bits = _KEY_BITS[signing.get("NextSigningKeyLength") or "RSA_2048_BIT"]
        private_pem, public_b64 = dkim.generate_key(bits)
        # Easy DKIM's tokens are 32 base32 characters; the selector plays that part here.
        selector = base64.b32encode(secrets.token_bytes(20)).decode().lower()
        origin = "AWS_SES"
    return {"dkim_origin": origin, "dkim_selector": selector, "dkim_public_key": public_b64,
            "dkim_private_ciphertext": secrets_box.encrypt(private_pem), "dkim_key_length": f"RSA_{bits}_BIT",
            "dkim_key_created_at": time.time(), "dkim_status": "PENDING", "dkim_signing_enabled": True}


def _dkim_attributes(conn, row: dict) -> dict:
    if row["identity_type"] != "DOMAIN":
        # An address is signed with its domain's key when the domain is a verified, signing identity,
        # unless the address has opted out (its own dkim_signing_enabled).
        key = email_identities.domain_signing_key(conn, row["account_id"], row["region"], row["identity"])
        return {"SigningEnabled": bool(key and row["dkim_signing_enabled"]),
                "Status": "SUCCESS" if key else "NOT_STARTED", "Tokens": []}
    attributes = {"SigningEnabled": row["dkim_signing_enabled"], "Status": row["dkim_status"],
                  "Tokens": [row["dkim_selector"]], "SigningAttributesOrigin": row["dkim_origin"],
                  "CurrentSigningKeyLength": row["dkim_key_length"],
                  "LastKeyGenerationTimestamp": row["dkim_key_created_at"]}
    if row["dkim_origin"] == "AWS_SES":
        attributes["NextSigningKeyLength"] = row["dkim_key_length"]
    return attributes


def create(ctx: Context, caller: Caller, request: dict) -> dict:
    require_admin(caller, "create email identities")
    name = request["EmailIdentity"].strip().lower()
    kind = identity_type(name)
    tags = tags_of(request)
    if kind != "DOMAIN" and request.get("DkimSigningAttributes"):
        raise InvalidInput("DKIM signing attributes apply to domain identities", field="DkimSigningAttributes")
    # An address follows its domain's DKIM signing until it opts out (put_dkim_signing).
    row = {"account_id": caller.account_id, "region": caller.region, "identity": name, "identity_type": kind,
           "verification_status": "PENDING", "dkim_signing_enabled": kind != "DOMAIN", "created_at": time.time(),
           "configuration_set": request.get("ConfigurationSetName")}
    if kind == "DOMAIN":
        row.update(_dkim_columns(request.get("DkimSigningAttributes"), ctx.secrets))
    with ctx.db.write() as conn:
        # Serializes creations in the account (PostgreSQL), so the limit and the duplicate check hold.
        lock_keys(conn, "email-identities", [f"{caller.account_id}/{caller.region}"])
        if email_identities.get(conn, caller.account_id, caller.region, name) is not None:
            raise Conflict(f"Email identity {name} already exist.")  # sic: SES's exact words
        if email_identities.count(conn, caller.account_id, caller.region) >= MAX_IDENTITIES:
            raise LimitExceeded(f"Identity limit exceeded: at most {MAX_IDENTITIES} identities per account and region")
        if row["configuration_set"]:
            _require_configuration_set(conn, caller, row["configuration_set"])
        email_identities.insert(conn, row)
        if tags:
            tag_store.put_tags(conn, identity_arn(caller.account_id, caller.region, name), tags)
        return {"IdentityType": kind, "VerifiedForSendingStatus": False, "DkimAttributes": _dkim_attributes(conn, row)}


def _require_configuration_set(conn, caller: Caller, name: str) -> None:
    if configuration_sets.get(conn, caller.account_id, caller.region, name) is None:
        raise NotFound(f"Configuration set {name} does not exist")


def _response(conn, row: dict) -> dict:
    verified = row["verification_status"] == "SUCCESS"
    info = {key: value for key, value in (("LastCheckedTimestamp", row["last_checked_at"]),
                                          ("LastSuccessTimestamp", row["last_success_at"]),
                                          ("ErrorType", row["verification_error"])) if value is not None}
    response = {"IdentityType": row["identity_type"], "FeedbackForwardingStatus": True,
                "VerifiedForSendingStatus": verified, "DkimAttributes": _dkim_attributes(conn, row), "Policies": {},
                "Tags": tag_list(tag_store.get_tags(conn, identity_arn(row["account_id"], row["region"],
                                                                       row["identity"]))),
                "VerificationStatus": row["verification_status"], "VerificationInfo": info}
    if row["configuration_set"]:
        response["ConfigurationSetName"] = row["configuration_set"]
    return response


def get(ctx: Context, caller: Caller, name: str) -> dict:
    """The identity; a pending domain's DNS is looked at again when the last look is a minute old."""
    with ctx.db.read() as conn:
        row = _require(conn, caller, name)
    if (row["identity_type"] == "DOMAIN" and row["verification_status"] == "PENDING"
            and time.time() - (row["last_checked_at"] or 0.0) >= DNS_RECHECK_SECONDS):
        row = _record_dns_check(ctx, row)
    with ctx.db.read() as conn:
        return _response(conn, row)


def list_page(ctx: Context, caller: Caller, filters: dict | None, page_size: int | None, token: str | None) -> dict:
    limit, after = limit_of(page_size or None), after_key(token, "identities")  # PageSize 0: the default
    filters = filters or {}
    with ctx.db.read() as conn:
        only, visible = None, visible_arns(conn, caller)
        if visible is not None:
            prefix = identity_arn(caller.account_id, caller.region, "")
            only = {arn[len(prefix):] for arn in visible if arn.startswith(prefix)}
        rows, next_token = page_of(email_identities.list_page(
            conn, caller.account_id, caller.region, after=after, limit=limit + 1, only=only,
            name_contains=filters.get("IDENTITY_NAME_CONTAINS"), identity_type=filters.get("IDENTITY_TYPE"),
            status=filters.get("VERIFICATION_STATUS")), limit, "identities", lambda row: row["identity"])
    items = [{"IdentityType": row["identity_type"], "IdentityName": row["identity"],
              "SendingEnabled": row["verification_status"] == "SUCCESS",
              "VerificationStatus": row["verification_status"]} for row in rows]
    return {"EmailIdentities": items, "NextToken": next_token}


def delete(ctx: Context, caller: Caller, name: str) -> None:
    require_admin(caller, "delete email identities")
    with ctx.db.write() as conn:
        row = _require(conn, caller, name)
        arn = identity_arn(caller.account_id, caller.region, row["identity"])
        ses_tenants.refuse_if_associated(conn, caller.account_id, caller.region, arn,
                                         f"Email identity {row['identity']}")
        email_identities.delete(conn, caller.account_id, caller.region, row["identity"])
        tag_store.delete_tags(conn, arn)


def put_dkim_signing(ctx: Context, caller: Caller, name: str, enabled: bool) -> None:
    """Turn a domain's signing on or off; an address may opt out of its domain's signing, and back in
    only while one of its domains signs (an address has no key of its own)."""
    require_admin(caller, "change DKIM signing")
    with ctx.db.write() as conn:
        row = _require(conn, caller, name)
        if row["identity_type"] != "DOMAIN" and enabled:
            domains = email_identities.covering_domains(conn, caller.account_id, caller.region, row["identity"])
            if not any(domain["dkim_signing_enabled"] for domain in domains):
                domain = row["identity"].rpartition("@")[2]
                raise InvalidInput(f"{row['identity']} is signed with its domain's DKIM key, and no domain identity "
                                   f"covering it signs: create or enable DKIM signing on {domain} first",
                                   field="EmailIdentity")
        email_identities.update(conn, caller.account_id, caller.region, row["identity"],
                                dkim_signing_enabled=bool(enabled))


def put_configuration_set(ctx: Context, caller: Caller, name: str, configuration_set: str | None) -> None:
    require_admin(caller, "change an identity's default configuration set")
    with ctx.db.write() as conn:
        row = _require(conn, caller, name)
        if configuration_set:
            _require_configuration_set(conn, caller, configuration_set)
        email_identities.update(conn, caller.account_id, caller.region, row["identity"],
                                configuration_set=configuration_set or None)


def _records(row: dict) -> list[dict]:
    if row["identity_type"] != "DOMAIN":
        return []
    return [dkim.txt_record(row["identity"], row["dkim_selector"], row["dkim_public_key"])]


def dns_records(ctx: Context, caller: Caller, name: str) -> list[dict]:
    """The DNS records to publish for a domain identity (none for an address)."""
    with ctx.db.read() as conn:
        return _records(_require(conn, caller, name))


def admin_dns_records(ctx: Context, caller: Caller, name: str, *, account_id: str | None = None,
                      region: str | None = None) -> list[dict]:
    """`dns_records` for an organization administrator, in any account."""
    with ctx.db.read() as conn:
        return _records(_admin_row(conn, caller, name, account_id, region))


def _admin_row(conn, caller: Caller, name: str, account_id: str | None, region: str | None) -> dict:
    caller.require_organization_admin()
    row = email_identities.get(conn, account_id or caller.account_id, region or caller.region, name)
    if row is None:
        raise NotFound(f"Email identity {name} does not exist in account {account_id or caller.account_id}")
    return row


def confirm(ctx: Context, caller: Caller, name: str, *, account_id: str | None = None,
            region: str | None = None) -> dict:
    """An organization administrator vouches for an identity: it (and a domain's DKIM) becomes verified."""
    now = time.time()
    with ctx.db.write() as conn:
        row = _admin_row(conn, caller, name, account_id, region)
        values = {"verification_status": "SUCCESS", "verification_error": None, "last_checked_at": now,
                  "last_success_at": now}
        if row["identity_type"] == "DOMAIN":
            values["dkim_status"] = "SUCCESS"
        email_identities.update(conn, row["account_id"], row["region"], row["identity"], **values)
        row.update(values)
        return _response(conn, row)


def check_dns(ctx: Context, caller: Caller, name: str, *, account_id: str | None = None,
              region: str | None = None) -> dict:
    """Look for a domain's DKIM record now (organization administrators, e.g. from the CLI)."""
    with ctx.db.read() as conn:
        row = _admin_row(conn, caller, name, account_id, region)
    if row["identity_type"] != "DOMAIN":
        raise InvalidInput("Only domain identities are verified through DNS", field="EmailIdentity")
    row = _record_dns_check(ctx, row)
    with ctx.db.read() as conn:
        return _response(conn, row)


def _record_dns_check(ctx: Context, row: dict) -> dict:
    """Look the DKIM record up (outside any transaction: DNS may be slow) and store what was found."""
    outcome = _lookup_dkim_record(ctx.settings, row["identity"], row["dkim_selector"], row["dkim_public_key"])
    now = time.time()
    values = {"last_checked_at": now, "verification_error": outcome}
    if outcome is None:
        values.update(verification_status="SUCCESS", dkim_status="SUCCESS", last_success_at=now)
    with ctx.db.write() as conn:
        current = email_identities.get(conn, row["account_id"], row["region"], row["identity"])
        if current is None:
            raise NotFound(f"Email identity {row['identity']} does not exist.")
        if current["verification_status"] == "SUCCESS":  # confirmed meanwhile: keep it
            return current
        email_identities.update(conn, row["account_id"], row["region"], row["identity"], **values)
    return {**current, **values}


def _load_external_key(text: str) -> tuple[str, str, int]:
    """(PEM, public base64, bits) of a caller's DKIM key: base64 DER as SES takes it, or PEM."""
    try:
        key = dkim.import_key(text)
    except ValueError:
        key = None
    if key is None or key[2] not in (1024, 2048):
        raise InvalidInput("DomainSigningPrivateKey must be a base64-encoded 1024- or 2048-bit RSA private key",
                           field="DomainSigningPrivateKey")
    return key


# --- DNS ------------------------------------------------------------------------------------------

def _nameserver(text: str) -> tuple[str, int]:
    """(address, port) from "host", "host:port" or "[v6 address]:port"."""
    if text.startswith("["):
        host, _bracket, rest = text[1:].partition("]")
        return host, int(rest.lstrip(":") or 53)
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, 53


def _resolver(settings: Settings) -> dns.resolver.Resolver:
    """The system's resolver, or the one PINFOLD_DNS_RESOLVER names."""
    if settings.dns_resolver:
        resolver = dns.resolver.Resolver(configure=False)
        host, resolver.port = _nameserver(settings.dns_resolver)
        resolver.nameservers = [host]
    else:
        resolver = dns.resolver.Resolver()
    resolver.lifetime = settings.dns_timeout
    return resolver


def _lookup_dkim_record(settings: Settings, domain: str, selector: str, public_b64: str) -> str | None:
    """None when the domain publishes its DKIM key, else SES's VerificationError for what was found."""
    try:
        answer = _resolver(settings).resolve(f"{selector}._domainkey.{domain}", "TXT")
    except dns.resolver.NXDOMAIN:
        return "HOST_NOT_FOUND"
    except dns.resolver.NoAnswer:
        return "TYPE_NOT_FOUND"
    except (dns.exception.DNSException, OSError):  # unreachable, timed out, refused: try again later
        return "DNS_SERVER_ERROR"
    for record in answer:
        text = b"".join(record.strings).decode(errors="replace")
        fields = dict(part.strip().split("=", 1) for part in text.split(";") if "=" in part)
        if "".join(fields.get("p", "").split()) == public_b64:
            return None
    return "INVALID_VALUE"
