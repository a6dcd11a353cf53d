"""SES account state per account and region: sandbox or production quota, the sending switch, and
the quota every send path takes from (`take_quota`), correct across requests and processes.

An account has no row until something changes it or sends; until then `settings` answers with the
sandbox defaults every new account starts with.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.core.errors import SendingPaused
from pinfold.db.database import is_unique_violation
from pinfold.db.tables import email_accounts as accounts
from pinfold.db.tables import email_send_counts as counts
from pinfold.sending import quota

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


# Prebuilt statements for the path every send takes (building them per call cost more than running them).
def _keyed(table: sa.Table):
    return sa.and_(table.c.account_id == sa.bindparam("a"), table.c.region == sa.bindparam("r"))


_ROW = sa.select(accounts).where(_keyed(accounts))
_ROW_LOCKED = _ROW.with_for_update()
_EXPIRED = sa.and_(_keyed(counts), counts.c.minute <= sa.bindparam("m"))
_EXPIRED_SUM = sa.select(sa.func.coalesce(sa.func.sum(counts.c.sent), 0)).where(_EXPIRED)
_EXPIRED_DELETE = counts.delete().where(_EXPIRED)
_BUMP = (counts.update().where(_keyed(counts), counts.c.minute == sa.bindparam("m"))
         .values(sent=counts.c.sent + sa.bindparam("n")))
_RECORD = accounts.update().where(_keyed(accounts)).values(sent_in_window=sa.bindparam("in_window"),
                                                           rate_tat=sa.bindparam("tat"))


def settings(conn: Connection, account_id: str, region: str) -> dict:
    """production_access, sending_enabled, max_24h, max_rate, suppressed_reasons and details (or None)."""
    row = conn.execute(_ROW, {"a": account_id, "r": region}).mappings().first()
    source = dict(row) if row else _defaults(account_id, region, 0.0)
    return {name: source[name] for name in _SETTINGS}


def _locked_row(conn: Connection, account_id: str, region: str, now: float) -> dict:
    """The account's row, created with defaults if missing, locked until the transaction ends.

    PostgreSQL takes a row lock (FOR UPDATE); SQLite's write transactions are one at a time already.
    """
    key = {"a": account_id, "r": region}
    row = conn.execute(_ROW_LOCKED, key).mappings().first()
    if row is not None:
        return dict(row)
    try:
        # A savepoint: losing the race to create the row must not abort the caller's transaction.
        with conn.begin_nested():
            conn.execute(accounts.insert().values(**_defaults(account_id, region, now)))
    except sa.exc.IntegrityError as error:
        if not is_unique_violation(error):
            raise
    return dict(conn.execute(_ROW_LOCKED, key).mappings().one())


def update(conn: Connection, account_id: str, region: str, now: float, **values) -> dict:
    """Change settings (any of production_access, sending_enabled, max_24h, max_rate,
    suppressed_reasons, details); returns the settings after the change."""
    _locked_row(conn, account_id, region, now)
    conn.execute(accounts.update().where(_where(accounts, account_id, region)).values(updated_at=now, **values))
    return settings(conn, account_id, region)


def sent_last_24h(conn: Connection, account_id: str, region: str, now: float) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(counts.c.sent), 0)).where(
        _where(counts, account_id, region), counts.c.minute >= quota.first_minute_in_window(now))
    return int(conn.execute(query).scalar())


# The minute in which this process last found nothing to prune in each account's window: buckets
# expire only when the minute turns, so until then the lookup is skipped. A prune that found
# something is not remembered (its transaction may yet roll back), so the next request looks again.
_pruned: dict[tuple[str, str], int] = {}


def _prune_window(conn: Connection, account_id: str, region: str, minute: int) -> int:
    """Drop minute buckets that left the 24 h window; returns how many messages they held."""
    if _pruned.get((account_id, region)) == minute:
        return 0
    key = {"a": account_id, "r": region, "m": quota.last_expired_minute(minute)}
    expired = conn.execute(_EXPIRED_SUM, key).scalar()
    if expired:
        conn.execute(_EXPIRED_DELETE, key)
    else:
        _pruned[(account_id, region)] = minute
    return int(expired)


def _count_sent(conn: Connection, account_id: str, region: str, minute: int, count: int) -> None:
    if conn.execute(_BUMP, {"a": account_id, "r": region, "m": minute, "n": count}).rowcount == 0:
        conn.execute(counts.insert().values(account_id=account_id, region=region, minute=minute, sent=count))


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
    if count <= 0:
        return 0.0
    minute = quota.minute(now)
    in_window = row["sent_in_window"] - _prune_window(conn, account_id, region, minute)
    changes = {"in_window": in_window, "tat": row["rate_tat"]}
    try:
        taken = quota.take(in_window=in_window, tat=row["rate_tat"], count=count, now=now,
                           max_24h=row["max_24h"], max_rate=row["max_rate"], wait=wait)
        if taken.wait:
            return taken.wait
        _count_sent(conn, account_id, region, minute, count)
        changes = {"in_window": taken.in_window, "tat": taken.tat}
        return 0.0
    finally:
        # Pruned buckets are gone from the table, so the running total drops with them even when
        # the caller's send is refused (a refusal that rolls back the transaction undoes both).
        conn.execute(_RECORD, {"a": account_id, "r": region, **changes})
