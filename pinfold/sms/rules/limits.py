"""An account's SMS settings as stored (kind "account", id "account" in sms_resources), with the
defaults an account that never changed them has, and the monthly spend limit they enforce.

Document members: `Sandbox` (bool; new accounts start in the sandbox, as at AWS), `MaxSpendLimit`
(USD a month the operator allows this account: AWS's service limit, raised by a support case there,
by `pinfold accounts sms-production` here), `SpendLimitOverride` (USD, what the account asked for
with SetTextMessageSpendLimitOverride, at most the maximum; None when not set), `Quotas` (resource
quotas the operator raised above AWS's defaults, by DescribeAccountLimits name).
"""

from __future__ import annotations

SETTINGS_KIND = "account"
SETTINGS_ID = "account"
SANDBOX_SPEND_LIMIT = 1.0  # USD a month in the sandbox
DEFAULT_MAX_SPEND_LIMIT = 1.0  # a new account's service limit, as AWS's default monthly quota
MAX_VERIFIED_DESTINATIONS = 10  # in the sandbox


def settings(document: dict | None) -> dict:
    """The account's SMS settings with defaults filled in."""
    document = document or {}
    return {"Sandbox": document.get("Sandbox", True),
            "MaxSpendLimit": float(document.get("MaxSpendLimit", DEFAULT_MAX_SPEND_LIMIT)),
            "SpendLimitOverride": document.get("SpendLimitOverride")}


def max_spend_limit(document: dict | None) -> float:
    current = settings(document)
    return SANDBOX_SPEND_LIMIT if current["Sandbox"] else current["MaxSpendLimit"]


def enforced_spend_limit(document: dict | None) -> float:
    """USD a month that sends may spend: the override if set (never above the maximum), else the maximum."""
    current, ceiling = settings(document), max_spend_limit(document)
    override = current["SpendLimitOverride"]
    return ceiling if override is None else min(float(override), ceiling)


MAX_QUOTA = 100_000  # the most any resource quota can be raised to


def quota(document: dict | None, name: str, default: int) -> int:
    """A resource quota ("POOLS", "CONFIGURATION_SETS", ...): the operator's `Quotas` entry, else `default`."""
    return int(((document or {}).get("Quotas") or {}).get(name, default))
