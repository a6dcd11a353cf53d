"""The account-wide checks a text passes before it is queued, for senders other than SendTextMessage
(Pinpoint's SendMessages plans many texts in one request and answers per recipient, so it asks
questions rather than catching SendTextMessage's exceptions).

Both APIs read the same things: the account's SMS settings (sandbox, spend limit), its verified
destination numbers, its opt-out lists and its month's spend, so a text sent through either one
counts against the other.
"""

from __future__ import annotations

from pinfold.core.errors import LimitExceeded, SendingPaused
from pinfold.sms import account
from pinfold.sms.rules import limits, routing
from pinfold.sms.store import opt_outs, resources, spend
from pinfold.tenancy.store import tenants as registry

_MESSAGE_TYPES = ("TRANSACTIONAL", "PROMOTIONAL")


def account_settings(conn, account_id: str, region: str) -> dict:
    """The account's SMS settings with their defaults (Sandbox, MaxSpendLimit, SpendLimitOverride)."""
    row = resources.get(conn, account_id, region, limits.SETTINGS_KIND, limits.SETTINGS_ID)
    return limits.settings(row["document"] if row else None)


def spend_left(conn, account_id: str, region: str, *, now: float) -> float:
    """USD the account may still spend on texts this month (never below zero)."""
    row = resources.get(conn, account_id, region, limits.SETTINGS_KIND, limits.SETTINGS_ID)
    limit = limits.enforced_spend_limit(row["document"] if row else None)
    return max(0.0, limit - spend.spent(conn, account_id, region, spend.month_of(now)))


def tenant_may_send(conn, tenant_id: str, dollars: float, month: str) -> None:
    """SendingPaused while the tenant's sending is paused for its reputation; LimitExceeded when
    `dollars` more would take it past its own monthly SMS spend limit."""
    tenant = registry.get_tenant(conn, tenant_id)
    if tenant is None:
        return
    if tenant["sending_paused"]:
        raise SendingPaused(f"Sending is paused for tenant {tenant_id}: its reputation crossed its policy "
                            "(the operator resumes it)")
    limit = tenant["sms_spend_limit"]
    if limit is not None and spend.tenant_spent(conn, tenant_id, month) + dollars > limit + 1e-9:
        raise LimitExceeded(f"Tenant {tenant_id}'s monthly text message spend limit ({limit:.2f} USD) is reached",
                            details={"Reason": "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT"})


def sandbox_problem(conn, account_id: str, region: str, settings: dict,
                    destination: routing.Destination) -> str | None:
    """Why a sandboxed account may not text this destination (None outside the sandbox, for a
    simulator destination and for a verified destination number)."""
    if not settings["Sandbox"] or destination.simulator:
        return None
    if account.is_verified(conn, account_id, region, destination.number):
        return None
    return (f"The account is in the SMS sandbox and {destination.number} is not a verified destination number")


def opted_out(conn, account_id: str, region: str, list_name: str, number: str) -> bool:
    return bool(opt_outs.opted_out(conn, account_id, region, list_name, [number]))


def opted_out_among(conn, account_id: str, region: str, list_name: str, numbers: list[str]) -> set[str]:
    """Which of `numbers` are on the list, in one query (a request's whole audience)."""
    return opt_outs.opted_out(conn, account_id, region, list_name, numbers)


def message_type_of(identity: routing.Identity) -> str:
    """The type a text takes when its sender names none: the number's own, else TRANSACTIONAL."""
    if identity.kind == routing.PHONE_NUMBER and identity.document.get("MessageType") in _MESSAGE_TYPES:
        return identity.document["MessageType"]
    return "TRANSACTIONAL"
