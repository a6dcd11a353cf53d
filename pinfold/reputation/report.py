"""What `pinfold reputation show` prints: a scope's rates over their windows, its levels, whether it is
paused, its policy, and its sends and rates per day; or every scope with recent sends."""

from __future__ import annotations

import time

import sqlalchemy as sa

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import NotFound
from pinfold.db.tables import reputation_counts
from pinfold.email.store import account as email_account
from pinfold.reputation.rules import levels
from pinfold.reputation.store import counts as store
from pinfold.sms.store import spend as sms_spend
from pinfold.tenancy.store import tenants as registry

MAX_DAYS = 90


def show(ctx: Context, caller: Caller, scope: str, key: str, *, days: int = 14) -> dict:
    caller.require_organization_admin()
    hour = int(time.time() // 3600)
    days = max(1, min(days, MAX_DAYS))
    with ctx.db.read() as conn:
        window = store.windows(conn, [(scope, key)], hour)[(scope, key)]
        judged = store.judged(conn, [(scope, key)])[(scope, key)]
        per_day = store.daily(conn, scope, key, hour - days * 24 + 1)
        state = _state(conn, scope, key)
    first, second = levels.METRICS[levels.family_of(scope)]
    rates = window.rates(levels.family_of(scope))
    return {"scope": scope, "key": key, **state, "metrics": [first, second],
            "first_rate": rates[first][0], "first_volume": rates[first][1], "first_level": judged[first],
            "second_rate": rates[second][0], "second_volume": rates[second][1], "second_level": judged[second],
            "min_volume": ctx.settings.reputation_min_volume,
            "days": [{"day": time.strftime("%Y-%m-%d", time.gmtime(day * 86400)), "sends": sends,
                      "bounces": bounces, "complaints": complaints} for day, (sends, bounces, complaints)
                     in per_day.items()]}


def _state(conn, scope: str, key: str) -> dict:
    if scope in ("tenant", "sms_tenant"):
        tenant = registry.get_tenant(conn, key)
        if tenant is None:
            raise NotFound(f"Tenant {key[:64]} is not in the registry")
        month = sms_spend.month_of(time.time())
        return {"policy": tenant["reputation_policy"], "sending_paused": tenant["sending_paused"],
                "sms_spend_this_month": round(sms_spend.tenant_spent(conn, key, month), 5),
                "sms_spend_limit": tenant["sms_spend_limit"]}
    account_id, _, region = key.partition("/")
    paused = not email_account.settings(conn, account_id, region)["sending_enabled"] if scope == "account" else False
    return {"policy": "STANDARD", "sending_paused": paused}


def active(ctx: Context, caller: Caller) -> list[dict]:
    """Every scope with sends in the last week: its rates and levels."""
    caller.require_organization_admin()
    hour = int(time.time() // 3600)
    since = hour - levels.LONGEST_HOURS + 1
    with ctx.db.read() as conn:
        keys = [tuple(row) for row in conn.execute(
            sa.select(reputation_counts.c.scope, reputation_counts.c.key).where(reputation_counts.c.hour >= since)
            .distinct().order_by(reputation_counts.c.scope, reputation_counts.c.key).limit(10_000))]
        windows, judged = store.windows(conn, keys, hour), store.judged(conn, keys)
    shown = []
    for key in keys:
        first, second = levels.METRICS[levels.family_of(key[0])]
        rates = windows[key].rates(levels.family_of(key[0]))
        shown.append({"scope": key[0], "key": key[1], "sends_7d": windows[key].sends_week,
                      "day_metric": first, "day_rate": round(rates[first][0], 4), "day_level": judged[key][first],
                      "week_metric": second, "week_rate": round(rates[second][0], 5),
                      "week_level": judged[key][second]})
    return shown
