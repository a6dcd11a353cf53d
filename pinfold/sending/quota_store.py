"""A sending quota's state in the database (sending/quota.py holds the rules): one state row per holder
(an account in a region, a tenant) with its rolling 24-hour total and its rate limiter, and minute
buckets of what it sent, taken inside the caller's write transaction so it holds across requests and
processes.

The statements every send runs are built once per table pair: building them per call cost more than
running them.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinfold.db.database import is_unique_violation
from pinfold.sending import quota


class RollingQuota:
    """The quota of holders keyed by `keys` in `state` (with `sent_in_window` and `rate_tat`) and
    `counts` (the keys, `minute` and `sent`). `defaults(key, now)` is a new holder's state row, or
    None when a holder without a row has no quota (it is then never locked or counted)."""

    def __init__(self, state: sa.Table, counts: sa.Table, keys: tuple[str, ...],
                 defaults: Callable[[tuple, float], dict | None]) -> None:
        self.state, self.counts, self.keys, self.defaults = state, counts, keys, defaults
        self._names = [f"k{index}" for index in range(len(keys))]
        self._row_locked = sa.select(state).where(self._keyed(state)).with_for_update()
        expired = sa.and_(self._keyed(counts), counts.c.minute <= sa.bindparam("m"))
        self._expired_sum = sa.select(sa.func.coalesce(sa.func.sum(counts.c.sent), 0)).where(expired)
        self._expired_delete = counts.delete().where(expired)
        self._bump = (counts.update().where(self._keyed(counts), counts.c.minute == sa.bindparam("m"))
                      .values(sent=counts.c.sent + sa.bindparam("n")))
        self._record = state.update().where(self._keyed(state)).values(sent_in_window=sa.bindparam("in_window"),
                                                                        rate_tat=sa.bindparam("tat"))
        # The minute in which this process last found nothing to prune in each holder's window: buckets
        # expire only when the minute turns, so until then the lookup is skipped. A prune that found
        # something is not remembered (its transaction may yet roll back), so the next call looks again.
        self._pruned: dict[tuple, int] = {}

    def _keyed(self, table: sa.Table):
        return sa.and_(*[table.c[column] == sa.bindparam(name) for column, name in zip(self.keys, self._names,
                                                                                      strict=True)])

    def _params(self, key: tuple) -> dict:
        return dict(zip(self._names, key, strict=True))

    def locked(self, conn: Connection, key: tuple, now: float) -> dict | None:
        """The holder's state row, created from `defaults` if missing, locked until the transaction
        ends (PostgreSQL: FOR UPDATE; SQLite's write transactions are one at a time already)."""
        params = self._params(key)
        row = conn.execute(self._row_locked, params).mappings().first()
        if row is not None:
            return dict(row)
        values = self.defaults(key, now)
        if values is None:
            return None
        try:
            with conn.begin_nested():  # losing the race to create it must not abort the caller's transaction
                conn.execute(self.state.insert().values(**values))
        except sa.exc.IntegrityError as error:
            if not is_unique_violation(error):
                raise
        return dict(conn.execute(self._row_locked, params).mappings().one())

    def take(self, conn: Connection, key: tuple, row: dict, count: int, now: float, *, max_24h: int,
             max_rate: float, wait: bool = False) -> float:
        """Take `count` from the holder whose locked `row` this is: LimitExceeded past the 24 h quota;
        over the rate Throttled, or with `wait` the seconds to wait (nothing taken); else 0.0."""
        if count <= 0:
            return 0.0
        params = self._params(key)
        minute = quota.minute(now)
        in_window = row["sent_in_window"] - self._prune(conn, key, params, minute)
        changes = {"in_window": in_window, "tat": row["rate_tat"]}
        try:
            taken = quota.take(in_window=in_window, tat=row["rate_tat"], count=count, now=now, max_24h=max_24h,
                               max_rate=max_rate, wait=wait)
            if taken.wait:
                return taken.wait
            if conn.execute(self._bump, {**params, "m": minute, "n": count}).rowcount == 0:
                conn.execute(self.counts.insert().values(**dict(zip(self.keys, key, strict=True)), minute=minute,
                                                         sent=count))
            changes = {"in_window": taken.in_window, "tat": taken.tat}
            return 0.0
        finally:
            # Pruned buckets are gone from the table, so the running total drops with them even when
            # the send is refused (a refusal that rolls back the transaction undoes both).
            conn.execute(self._record, {**params, **changes})

    def sent_last_24h(self, conn: Connection, key: tuple, now: float) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(self.counts.c.sent), 0)).where(
            self._keyed(self.counts), self.counts.c.minute >= quota.first_minute_in_window(now))
        return int(conn.execute(query, self._params(key)).scalar())

    def _prune(self, conn: Connection, key: tuple, params: dict, minute: int) -> int:
        """Drop minute buckets that left the 24 h window; returns how many messages they held."""
        if self._pruned.get(key) == minute:
            return 0
        expired_params = {**params, "m": quota.last_expired_minute(minute)}
        expired = conn.execute(self._expired_sum, expired_params).scalar()
        if expired:
            conn.execute(self._expired_delete, expired_params)
        else:
            self._pruned[key] = minute
        return int(expired)
