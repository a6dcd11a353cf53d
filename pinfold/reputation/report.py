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
    rates = window.rates()
    return {"scope": scope, "key": key, **state,
            "bounce_rate": rates["bounce"][0], "bounce_volume": rates["bounce"][1], "bounce_level": judged["bounce"],
            "complaint_rate": rates["complaint"][0], "complaint_volume": rates["complaint"][1],
            "complaint_level": judged["complaint"], "min_volume": ctx.settings.reputation_min_volume,
            "days": [{"day": time.strftime("%Y-%m-%d", time.gmtime(day * 86400)), "sends": sends,
                      "bounces": bounces, "complaints": complaints} for day, (sends, bounces, complaints)
                     in per_day.items()]}


def _state(conn, scope: str, key: str) -> dict:
    if scope == "tenant":
        tenant = registry.get_tenant(conn, key)
        if tenant is None:
            raise NotFound(f"Tenant {key[:64]} is not in the registry")
        return {"policy": tenant["reputation_policy"], "sending_paused": tenant["sending_paused"]}
    account_id, _, region = key.partition("/")
    return {"policy": "STANDARD", "sending_paused": not email_account.settings(conn, account_id, region)[
        "sending_enabled"]}


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
        rates = windows[key].rates()
        shown.append({"scope": key[0], "key": key[1], "sends_7d": windows[key].sends_week,
                      "bounce_rate": round(rates["bounce"][0], 4), "bounce_level": judged[key]["bounce"],
                      "complaint_rate": round(rates["complaint"][0], 5), "complaint_level": judged[key]["complaint"]})
    return shown
