"""The SES account: GetAccount, PutAccountDetails, PutAccountSendingAttributes,
PutAccountSuppressionAttributes, and the operator's grant (or revocation) of production access.

Every new account starts in the sandbox (200 messages per rolling 24 hours, 1 per second, verified
recipients only). Asking for production access (PutAccountDetails) records the request; only an
organization administrator grants it (`pinfold accounts production`).
"""

from __future__ import annotations

import time
import uuid

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput, NotFound
from pinfold.email.access import is_admin, require_admin
from pinfold.email.store import account as store
from pinfold.tenancy.store import accounts

_DETAIL_FIELDS = ("MailType", "WebsiteURL", "ContactLanguage", "UseCaseDescription",
                  "AdditionalContactEmailAddresses")


def get_account(ctx: Context, caller: Caller) -> dict:
    with ctx.db.read() as conn:
        current = store.settings(conn, caller.account_id, caller.region)
        sent = store.sent_last_24h(conn, caller.account_id, caller.region, time.time())
    response = {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": current["production_access"],
        "SendQuota": {"Max24HourSend": float(current["max_24h"]), "MaxSendRate": float(current["max_rate"]),
                      "SentLast24Hours": float(sent)},
        "SendingEnabled": current["sending_enabled"],
        "SuppressionAttributes": {"SuppressedReasons": list(current["suppressed_reasons"])},
    }
    if current["details"] and is_admin(caller):  # the operator's contacts and use case, not a tenant's to read
        response["Details"] = current["details"]
    return response


def put_details(ctx: Context, caller: Caller, request: dict) -> None:
    """Store the account's details; ProductionAccessEnabled asks for production access (a review)."""
    require_admin(caller, "change the account's details")
    details = {name: request[name] for name in _DETAIL_FIELDS if request.get(name) is not None}
    with ctx.db.write() as conn:
        current = store.settings(conn, caller.account_id, caller.region)
        review = (current["details"] or {}).get("ReviewDetails")
        if current["production_access"]:
            review = {**(review or {"CaseId": _case_id()}), "Status": "GRANTED"}
        elif request.get("ProductionAccessEnabled"):
            review = {"Status": "PENDING", "CaseId": _case_id()}
        if review:
            details["ReviewDetails"] = review
        store.update(conn, caller.account_id, caller.region, time.time(), details=details)


def _case_id() -> str:
    return uuid.uuid4().hex[:10]


def put_sending(ctx: Context, caller: Caller, enabled: bool | None) -> None:
    require_admin(caller, "pause or resume the account's sending")
    with ctx.db.write() as conn:
        store.update(conn, caller.account_id, caller.region, time.time(), sending_enabled=bool(enabled))


def put_suppression(ctx: Context, caller: Caller, reasons: list[str] | None) -> None:
    require_admin(caller, "change the account's suppression settings")
    with ctx.db.write() as conn:
        store.update(conn, caller.account_id, caller.region, time.time(),
                     suppressed_reasons=list(dict.fromkeys(reasons or [])))


def set_production(ctx: Context, caller: Caller, account_id: str, region: str | None = None, *,
                   enabled: bool = True, max_24h: int = store.PRODUCTION_MAX_24H,
                   max_rate: float = store.PRODUCTION_MAX_RATE) -> dict:
    """Grant production access with these quotas, or (enabled=False) return the account to the sandbox."""
    caller.require_organization_admin()
    if enabled and (max_24h < 1 or max_rate <= 0):
        raise InvalidInput("The daily quota must be at least 1 and the rate above 0", field="max_24h")
    region = region or ctx.settings.region
    with ctx.db.write() as conn:
        account = accounts.get_account(conn, account_id)
        if account is None or account["status"] != "active":
            raise NotFound(f"Account {account_id} does not exist")
        details = store.settings(conn, account_id, region)["details"]
        if details and details.get("ReviewDetails"):
            details = {**details, "ReviewDetails": {**details["ReviewDetails"],
                                                    "Status": "GRANTED" if enabled else "DENIED"}}
        if not enabled:
            max_24h, max_rate = store.SANDBOX_MAX_24H, store.SANDBOX_MAX_RATE
        current = store.update(conn, account_id, region, time.time(), production_access=enabled,
                               max_24h=max_24h, max_rate=float(max_rate), details=details)
    return {"account_id": account_id, "region": region, **current}
