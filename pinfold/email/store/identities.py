"""SES email identities (domains and addresses) per account and region, and what the sender asks of them.

Identity names are stored lowercased: SES compares them without regard to case.
"""

from __future__ import annotations

from email.utils import parseaddr

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.tables import email_identities as identities

VERIFIED = "SUCCESS"


def _key(account_id: str, region: str):
    return sa.and_(identities.c.account_id == account_id, identities.c.region == region)


def insert(conn: Connection, row: dict) -> None:
    conn.execute(identities.insert().values(**row))


def get(conn: Connection, account_id: str, region: str, identity: str) -> dict | None:
    query = sa.select(identities).where(_key(account_id, region), identities.c.identity == identity.lower())
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def update(conn: Connection, account_id: str, region: str, identity: str, **values) -> None:
    conn.execute(identities.update().where(_key(account_id, region), identities.c.identity == identity.lower())
                 .values(**values))


def delete(conn: Connection, account_id: str, region: str, identity: str) -> None:
    conn.execute(identities.delete().where(_key(account_id, region), identities.c.identity == identity.lower()))


def count(conn: Connection, account_id: str, region: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(identities).where(_key(account_id, region))).scalar()


def list_page(conn: Connection, account_id: str, region: str, *, after: str | None, limit: int,
              only: set[str] | None = None, name_contains: str | None = None, identity_type: str | None = None,
              status: str | None = None) -> list[dict]:
    """Identities in name order after `after`; `only` confines them to those names (None: all)."""
    query = sa.select(identities).where(_key(account_id, region))
    if after is not None:
        query = query.where(identities.c.identity > after)
    if only is not None:
        query = query.where(identities.c.identity.in_(sorted(only)))
    if name_contains:
        query = query.where(identities.c.identity.contains(name_contains.lower(), autoescape=True))
    if identity_type:
        query = query.where(identities.c.identity_type == identity_type)
    if status:
        query = query.where(identities.c.verification_status == status)
    rows = conn.execute(query.order_by(identities.c.identity).limit(limit)).mappings()
    return [dict(row) for row in rows]


def covering_names(address: str) -> list[str]:
    """The identities that cover an address, most specific first: itself, its domain, parent domains."""
    _name, parsed = parseaddr(address)
    address = (parsed or address).strip().lower()
    if "@" not in address:
        return [address]
    domain = address.rsplit("@", 1)[1]
    labels = domain.split(".")
    # A top-level label alone ("com") is never an identity worth a lookup.
    return [address] + [".".join(labels[i:]) for i in range(len(labels) - 1)]


_COVERING = sa.select(identities).where(identities.c.account_id == sa.bindparam("a"),
                                         identities.c.region == sa.bindparam("r"),
                                         identities.c.identity.in_(sa.bindparam("names", expanding=True)))


def _covering(conn: Connection, account_id: str, region: str, address: str) -> list[dict]:
    names = covering_names(address)
    found = {row["identity"]: dict(row)
             for row in conn.execute(_COVERING, {"a": account_id, "r": region, "names": names}).mappings()}
    return [found[name] for name in names if name in found]


def sending_identity(conn: Connection, account_id: str, region: str, from_address: str) -> dict | None:
    """The most specific identity covering a From address, as the sender needs it; None when none does.

    `verified` holds when any covering identity is verified (a verified domain covers its addresses
    and subdomains); `dkim` is the signing key of the most specific verified domain that signs.
    """
    rows = _covering(conn, account_id, region, from_address)
    if not rows:
        return None
    chosen = rows[0]
    configuration_set = next((row["configuration_set"] for row in rows if row["configuration_set"]), None)
    return {
        "identity": chosen["identity"],
        "type": chosen["identity_type"],
        "verified": any(row["verification_status"] == VERIFIED for row in rows),
        "configuration_set": configuration_set,
        "dkim": _signing_key(rows),
    }


def covering_domains(conn: Connection, account_id: str, region: str, address: str) -> list[dict]:
    """The domain identities that cover an address, most specific first."""
    return [row for row in _covering(conn, account_id, region, address) if row["identity_type"] == "DOMAIN"]


def domain_signing_key(conn: Connection, account_id: str, region: str, address: str) -> dict | None:
    """The key the address's domains would sign it with, whatever the address identity itself says."""
    return _signing_key(covering_domains(conn, account_id, region, address))


def _signing_key(rows: list[dict]) -> dict | None:
    for row in rows:
        if row["identity_type"] == "EMAIL_ADDRESS" and not row["dkim_signing_enabled"]:
            return None  # the address has opted out of its domain's signing
        if (row["identity_type"] == "DOMAIN" and row["verification_status"] == VERIFIED
                and row["dkim_signing_enabled"] and row["dkim_status"] == VERIFIED
                and row["dkim_private_ciphertext"]):
            return {"domain": row["identity"], "selector": row["dkim_selector"],
                    "private_pem_ciphertext": row["dkim_private_ciphertext"]}
    return None


def verified_recipient(conn: Connection, account_id: str, region: str, address: str) -> bool:
    """True when the address, its domain or a parent domain is a verified identity (the sandbox rule)."""
    return any(row["verification_status"] == VERIFIED for row in _covering(conn, account_id, region, address))
