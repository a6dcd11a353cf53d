"""An SES tenant's sending status, from the two that make it (SES's reputation entity): the customer's
(`sending_status`: ENABLED, REINSTATED or DISABLED, set by hand) and Pinfold's own, set when the
tenant's rates cross its policy (`managed_status`: ENABLED or DISABLED). A customer's DISABLED always
stops sending; REINSTATED lets a tenant send although Pinfold paused it (SES: "allow sending even if
there are active reputation findings"); otherwise Pinfold's pause stops it."""

from __future__ import annotations


def aggregate(customer: str, managed: str) -> str:
    if customer == "DISABLED":
        return "DISABLED"
    if customer == "REINSTATED":
        return "REINSTATED"
    return "DISABLED" if managed == "DISABLED" else "ENABLED"


def of_tenant(row: dict) -> str:
    return aggregate(row["sending_status"], row.get("managed_status") or "ENABLED")
