"""Asking for a higher email quota, and the operator's answer: what a Support ticket was for a
Pinpoint/SES account (the design brief's quota step), kept as a record. A request names the daily
quota and rate wanted and why; granting it sets the account's quotas (production access with them);
refusing keeps them; either way the decision, who made it and when stay with the request."""

from __future__ import annotations

import time
import uuid

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import Conflict, InvalidInput, NotFound
from pinfold.email import account as email_account
from pinfold.email.store import quota_requests as store
from pinfold.tenancy.store import accounts

STATUSES = ("PENDING", "GRANTED", "REFUSED")
MAX_REASON = 2000


def request(ctx: Context, caller: Caller, account_id: str, *, max_24h: int, max_rate: float, reason: str,
            region: str | None = None) -> dict:
    caller.require_organization_admin()
    if max_24h < 1 or not 0 < max_rate <= 1_000_000:
        raise InvalidInput("A quota request needs a daily quota of at least 1 and a rate above 0", field="max_24h")
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(f"Say why, in 1 to {MAX_REASON} characters (the use case, the volume, the list's "
                           "source)", field="reason")
    row = {"id": "qr-" + uuid.uuid4().hex[:16], "account_id": account_id, "region": region or ctx.settings.region,
           "max_24h": max_24h, "max_rate": float(max_rate), "reason": reason, "status": "PENDING",
           "requested_by": caller.principal_id, "requested_at": time.time()}
    with ctx.db.write() as conn:
        found = accounts.get_account(conn, account_id)
        if found is None or found["status"] != "active":
            raise NotFound(f"Account {account_id} does not exist")
        store.add(conn, row)
    return row


def decide(ctx: Context, caller: Caller, request_id: str, *, grant: bool, note: str | None = None) -> dict:
    """Grant (the account gets the quotas asked for) or refuse a PENDING request."""
    caller.require_organization_admin()
    with ctx.db.read() as conn:
        found = store.get(conn, request_id)
    if found is None:
        raise NotFound(f"Quota request {request_id[:64]} does not exist")
    if found["status"] != "PENDING":
        raise Conflict(f"Quota request {request_id} was {found['status'].lower()} already")
    if grant:
        email_account.set_production(ctx, caller, found["account_id"], found["region"], max_24h=found["max_24h"],
                                     max_rate=found["max_rate"])
    decision = {"status": "GRANTED" if grant else "REFUSED", "decided_by": caller.principal_id,
                "decided_at": time.time(), "note": (note or "").strip()[:MAX_REASON] or None}
    with ctx.db.write() as conn:
        if not store.decide(conn, request_id, **decision):
            raise Conflict(f"Quota request {request_id} was decided meanwhile")
    return {**found, **decision}


def listed(ctx: Context, caller: Caller, *, account_id: str | None = None, status: str | None = None) -> list[dict]:
    caller.require_organization_admin()
    if status is not None and status.upper() not in STATUSES:
        raise InvalidInput(f"status is one of {', '.join(STATUSES)}", field="status")
    with ctx.db.read() as conn:
        return store.listed(conn, account_id=account_id, status=status.upper() if status else None)
