"""SES account state per account and region: sandbox or production quota, the sending switch, and
the quota every send path takes from (`take_quota`), correct across requests and processes.

An account has no row until something changes it or sends; until then `settings` answers with the
sandbox defaults every new account starts with.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.core.errors import SendingPaused
from pinfold.db.tables import email_accounts as accounts
from pinfold.db.tables import email_send_counts as counts
from pinfold.sending.quota_store import RollingQuota

SANDBOX_MAX_24H = 200
SANDBOX_MAX_RATE = 1.0
PRODUCTION_MAX_24H = 50_000
PRODUCTION_MAX_RATE = 14.0
DEFAULT_SUPPRESSED_REASONS = ["BOUNCE", "COMPLAINT"]
_SETTINGS = ("production_access", "sending_enabled", "max_24h", "max_rate", "suppressed_reasons", "details")


def _defaults(account_id: str, region: str, now: float) -> dict:
    return {"account_id": account_id, "region": region, "production_access": False, "sending_enabled": True,
            "max_24h": SANDBOX_MAX_24H, "max_rate": SANDBOX_MAX_RATE,
            "suppressed_reasons": list(DEFAULT_SUPPRESSED_REASONS), "details": None, "rate_tat": 0.0,
            "sent_in_window": 0, "updated_at": now}


def _where(table: sa.Table, account_id: str, region: str):
    return sa.and_(table.c.account_id == account_id, table.c.region == region)


_ROW = sa.select(accounts).where(accounts.c.account_id == sa.bindparam("a"), accounts.c.region == sa.bindparam("r"))
_QUOTA = RollingQuota(accounts, counts, ("account_id", "region"),
                      lambda key, now: _defaults(key[0], key[1], now))


def settings(conn: Connection, account_id: str, region: str) -> dict:
    """production_access, sending_enabled, max_24h, max_rate, suppressed_reasons and details (or None)."""
    row = conn.execute(_ROW, {"a": account_id, "r": region}).mappings().first()
    source = dict(row) if row else _defaults(account_id, region, 0.0)
    return {name: source[name] for name in _SETTINGS}


def _locked_row(conn: Connection, account_id: str, region: str, now: float) -> dict:
    """The account's row, created with defaults if missing, locked until the transaction ends."""
    return _QUOTA.locked(conn, (account_id, region), now)


def update(conn: Connection, account_id: str, region: str, now: float, **values) -> dict:
    """Change settings (any of production_access, sending_enabled, max_24h, max_rate,
    suppressed_reasons, details); returns the settings after the change."""
    _locked_row(conn, account_id, region, now)
    conn.execute(accounts.update().where(_where(accounts, account_id, region)).values(updated_at=now, **values))
    return settings(conn, account_id, region)


def sent_last_24h(conn: Connection, account_id: str, region: str, now: float) -> int:
    return _QUOTA.sent_last_24h(conn, (account_id, region), now)


def take_quota(conn: Connection, account_id: str, region: str, count: int, now: float, *,
               wait: bool = False) -> float:
    """Take `count` messages from the account's quota inside the caller's write transaction.

    Raises SendingPaused when sending is disabled and LimitExceeded past the rolling 24 h quota.
    Over the sending rate it raises Throttled, or with `wait` takes nothing and returns the seconds
    to wait before trying again; otherwise it records the messages and returns 0.0.
    """
    row = _locked_row(conn, account_id, region, now)
    if not row["sending_enabled"]:
        raise SendingPaused(f"Email sending is disabled for account {account_id} in {region}")
    return _QUOTA.take(conn, (account_id, region), row, count, now, max_24h=row["max_24h"],
                       max_rate=row["max_rate"], wait=wait)
