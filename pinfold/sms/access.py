"""Which SMS pools and configuration sets a caller confined to one project may send through and see,
in an account its tenants share (sa-sp, sa-mp).

A tenant onboarded with an SMS pool owns a pool and a configuration set in the shared account. The
tenant registry keeps them in the tenant's metadata under REGISTRY_KEY; the pool's and set's
documents carry the owner in OWNER (so a listing can tell whose a row is without asking the
registry), and both are tagged TENANT_TAG for people and reports.

The rule, for a confined caller (project key, or sa-sp / sa-mp tenant key):
- a pool or configuration set owned by another tenant, or a number in such a pool, looks absent
  (ResourceNotFoundException), exactly as a missing one;
- a tenant with its own pool sends only through it (or a number or sender id in it): naming no
  origination identity sends through its pool, naming anything else the account shares is
  AccessDeniedException; naming no configuration set uses its own, naming another is refused the same way;
- a confined caller whose tenant has no pool shares the account's identities and sets, less those
  owned by tenants.
`Hidden` applies the first point to every lookup and listing of pools, numbers, sender ids and
configuration sets (Describe*, ListPoolOriginationIdentities, DescribeKeywords, the tag operations,
and every operation that names one).
Callers that reach their whole account (account and organization keys, ma-mp tenants) are not
confined: nothing here applies to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinfold.core.access import Caller
from pinfold.core.errors import Forbidden
from pinfold.sms.rules.ids import CONFIGURATION_SET, PHONE_NUMBER, POOL, SENDER_ID
from pinfold.sms.store import resources
from pinfold.tenancy.store import tenants

REGISTRY_KEY = "pinfold:sms"  # the tenant's metadata member: {"pool_id", "configuration_set", ...}
OWNER = "_tenant"  # the private document member naming the tenant that owns a pool or configuration set
TENANT_TAG = "pinfold:tenant"
ALLOWED, HIDDEN, DENIED = "allowed", "hidden", "denied"


@dataclass(frozen=True)
class Scope:
    """What a confined caller may send through: its tenant's pool and configuration set, when it has them."""

    tenant_id: str | None  # None: a project key, which is no tenant
    pool_id: str | None = None
    configuration_set: str | None = None


def scope_of(conn, caller: Caller) -> Scope | None:
    """The caller's confinement among the account's SMS resources; None when it reaches its whole account."""
    if caller.pinned_project() is None:
        return None
    if caller.tenant_id is None:
        return Scope(None)
    row = tenants.get_tenant(conn, caller.tenant_id)
    placed = registered(row["metadata"] if row else None)
    if placed is None or (placed.get("account_id"), placed.get("region")) != (caller.account_id, caller.region):
        return Scope(caller.tenant_id)
    return Scope(caller.tenant_id, placed.get("pool_id"), placed.get("configuration_set"))


def registered(metadata: dict | None) -> dict | None:
    """The SMS placement kept in a tenant's registry metadata, or None."""
    found = (metadata or {}).get(REGISTRY_KEY)
    return found if isinstance(found, dict) else None


def owner_of(document: dict) -> str | None:
    return document.get(OWNER)


def visible(scope: Scope | None, document: dict) -> bool:
    """Whether a pool or configuration set (its document) is one the caller may see: not another tenant's."""
    owner = owner_of(document)
    return scope is None or owner is None or owner == scope.tenant_id


def verdict(scope: Scope | None, holders: dict[str, str | None]) -> str:
    """May the caller send through what it named? `holders` are the pools it sends through (the pool
    named, or the one holding the number or sender id named), each with its owning tenant or None."""
    if scope is None:
        return ALLOWED
    if any(owner is not None and owner != scope.tenant_id for owner in holders.values()) and (
            scope.pool_id not in holders):
        return HIDDEN
    if scope.pool_id is None or scope.pool_id in holders:
        return ALLOWED
    return DENIED


def set_verdict(scope: Scope | None, name: str, owner: str | None) -> str:
    """May the caller send with the configuration set `name` (owned by `owner`)?"""
    if scope is None:
        return ALLOWED
    if owner is not None and owner != scope.tenant_id:
        return HIDDEN
    if scope.configuration_set is None or scope.configuration_set == name:
        return ALLOWED
    return DENIED


def denied(scope: Scope, what: str) -> Forbidden:
    """The refusal for a tenant that sends only through its own pool and configuration set."""
    return Forbidden(f"These credentials send only through tenant {scope.tenant_id}'s own pool {scope.pool_id} and "
                     f"configuration set {scope.configuration_set}: they cannot use {what}; name those or "
                     "none at all")


@dataclass(frozen=True)
class Hidden:
    """What one confined caller must not see: other tenants' pools, the numbers in them, and the
    sender ids they hold (unless the caller's own pool holds them too), as `verdict` judges sends."""

    scope: Scope | None = None
    pools: frozenset[str] = frozenset()
    sender_ids: frozenset[str] = frozenset()

    def shows(self, row: dict) -> bool:
        """Whether an `sms_resources` row is one the caller may see."""
        if self.scope is None:
            return True
        if row["kind"] == POOL:
            return row["id"] not in self.pools
        if row["kind"] == PHONE_NUMBER:
            return row.get("pool_id") not in self.pools
        if row["kind"] == SENDER_ID:
            return row["id"] not in self.sender_ids
        return visible(self.scope, row["document"])


NOTHING_HIDDEN = Hidden()


def hidden_from(conn, caller: Caller) -> Hidden:
    """What the caller may not see in its account and region: nothing, without a query, when it is not
    confined; otherwise one read of the tenant registry and one of the account's pools (at most 100)."""
    scope = scope_of(conn, caller)
    if scope is None:
        return NOTHING_HIDDEN
    pools = resources.listing(conn, caller.account_id, caller.region, POOL)
    others = [row for row in pools if not visible(scope, row["document"])]
    own = next((row for row in pools if row["id"] == scope.pool_id), None)
    kept = set(own["document"].get("_sender_ids", [])) if own else set()
    held = {key for row in others for key in row["document"].get("_sender_ids", [])}
    return Hidden(scope, frozenset(row["id"] for row in others), frozenset(held - kept))


def pool_owners(conn, caller: Caller) -> dict[str, str | None]:
    """Every pool of the caller's account and region with its owning tenant (bounded by the pool quota)."""
    return {row["id"]: owner_of(row["document"])
            for row in resources.listing(conn, caller.account_id, caller.region, POOL)}


def claim(conn, account_id: str, region: str, tenant_id: str, *, pool_id: str, configuration_set: str) -> None:
    """Mark a pool and a configuration set as the tenant's own (onboarding, in its transaction)."""
    for kind, key in ((POOL, pool_id), (CONFIGURATION_SET, configuration_set)):
        row = resources.get(conn, account_id, region, kind, key)
        if row is not None:
            resources.update(conn, account_id, region, kind, key, document={**row["document"], OWNER: tenant_id})
