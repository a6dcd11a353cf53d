"""Tenants' own shares of a shared account's email quota: set by the operator, taken on every send of
the tenant's beside the account's (email/accept.take_quota), in the same transaction."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.core.errors import LimitExceeded, Throttled
from pinfold.db.database import upsert
from pinfold.db.tables import tenant_quotas as quotas
from pinfold.db.tables import tenant_send_counts as counts
from pinfold.sending.quota_store import RollingQuota

_QUOTA = RollingQuota(quotas, counts, ("tenant_id",), lambda key, now: None)


def get(conn: Connection, tenant_id: str) -> dict | None:
    row = conn.execute(sa.select(quotas).where(quotas.c.tenant_id == tenant_id)).mappings().first()
    return dict(row) if row else None


def put(conn: Connection, tenant_id: str, *, max_24h: int, max_rate: float, now: float) -> None:
    """Set the tenant's caps; what it sent in the window so far still counts."""
    held = get(conn, tenant_id)
    upsert(conn, quotas, [{"tenant_id": tenant_id, "max_24h": max_24h, "max_rate": max_rate,
                           "sent_in_window": held["sent_in_window"] if held else 0,
                           "rate_tat": held["rate_tat"] if held else 0.0, "updated_at": now}], ["tenant_id"])


def clear(conn: Connection, tenant_id: str) -> None:
    conn.execute(quotas.delete().where(quotas.c.tenant_id == tenant_id))
    conn.execute(counts.delete().where(counts.c.tenant_id == tenant_id))


def take(conn: Connection, tenant_id: str, count: int, now: float) -> None:
    """Take `count` from the tenant's own quota, when it has one: LimitExceeded past its 24 h cap,
    Throttled over its rate, both naming the tenant (its account's quota is taken after)."""
    row = _QUOTA.locked(conn, (tenant_id,), now)
    if row is None:
        return
    try:
        _QUOTA.take(conn, (tenant_id,), row, count, now, max_24h=row["max_24h"], max_rate=row["max_rate"])
    except LimitExceeded:
        raise LimitExceeded(f"Daily message quota exceeded for tenant {tenant_id}") from None
    except Throttled:
        raise Throttled(f"Maximum sending rate exceeded for tenant {tenant_id}") from None


def sent_last_24h(conn: Connection, tenant_id: str, now: float) -> int:
    return _QUOTA.sent_last_24h(conn, (tenant_id,), now)
