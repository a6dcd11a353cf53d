"""SES v2's reputation entities over Pinfold's SES tenants (GetReputationEntity, ListReputationEntities,
UpdateReputationEntityPolicy, UpdateReputationEntityCustomerManagedStatus) and GetAccount's
EnforcementStatus.

An entity is an SES tenant, named by its ARN (type RESOURCE). Its policy is one of SES's managed
ones, `arn:aws:ses:<region>:aws:reputation-policy/{none,standard,strict}`; its customer-managed
status is what the account sets by hand; its AWS-managed status is Pinfold's own pause (the tally's);
its aggregate is what sending obeys (email/rules/sending_status.py). ReputationImpact is HIGH while a
rate is at the pause level, LOW at the review level, and absent otherwise. Only the account's
administrator reads or changes entities; a tenant's own credentials see none.

EnforcementStatus is HEALTHY, PROBATION while an account rate is at the review level or above, and
SHUTDOWN while its sending is off and a rate is at the pause level (paused for its reputation).
"""

from __future__ import annotations

import time

from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput, NotFound
from pinfold.core.paging import after_key, limit_of, page_of
from pinfold.email import account as email_account_service
from pinfold.email.access import is_admin, require_admin
from pinfold.email.rules import sending_status
from pinfold.email.store import account as email_account
from pinfold.email.store import tenants as ses_tenants
from pinfold.email.tenants import tenant_arn
from pinfold.reputation.rules import levels
from pinfold.reputation.store import counts as store

ENTITY_TYPE = "RESOURCE"
_STATUSES = ("ENABLED", "REINSTATED", "DISABLED")
_FILTERS = ("ENTITY_TYPE", "REPUTATION_IMPACT", "SENDING_STATUS", "ENTITY_REFERENCE_PREFIX")
MAX_TENANTS = 10_000


def policy_arn(region: str, policy: str) -> str:
    return f"arn:aws:ses:{region}:aws:reputation-policy/{policy.lower()}"


def _policy_of(arn: str, region: str) -> str:
    prefix = f"arn:aws:ses:{region}:aws:reputation-policy/"
    name = arn[len(prefix):].upper() if arn.startswith(prefix) else ""
    if name not in levels.POLICIES:
        choices = ", ".join(policy_arn(region, known) for known in levels.POLICIES)
        raise InvalidInput(f"ReputationEntityPolicy must be one of {choices}", field="ReputationEntityPolicy")
    return name


def _key(row: dict) -> str:
    return f"{row['account_id']}/{row['region']}/{row['name']}"


def _impact(judged: dict[str, str]) -> str | None:
    found = max(judged.values(), key=lambda level: levels.ORDER[level])
    return {levels.PAUSE: "HIGH", levels.REVIEW: "LOW"}.get(found)


def _entity(row: dict, judged: dict[str, str]) -> dict:
    entity = {"ReputationEntityReference": tenant_arn(row), "ReputationEntityType": ENTITY_TYPE,
              "ReputationManagementPolicy": policy_arn(row["region"], row["reputation_policy"]),
              "CustomerManagedStatus": {"Status": row["sending_status"]},
              "AwsSesManagedStatus": {"Status": row["managed_status"]},
              "SendingStatusAggregate": sending_status.of_tenant(row)}
    if row["managed_status"] == "DISABLED":
        entity["AwsSesManagedStatus"]["Cause"] = "Its bounce or complaint rate crossed its reputation policy"
    impact = _impact(judged)
    if impact:
        entity["ReputationImpact"] = impact
    return entity


def _check_type(entity_type: str) -> None:
    if entity_type != ENTITY_TYPE:
        raise InvalidInput("ReputationEntityType must be RESOURCE", field="ReputationEntityType")


def _require(conn, caller: Caller, reference: str) -> dict:
    """The SES tenant an entity reference names, in the caller's account; NotFound otherwise."""
    parts = (reference or "").split(":", 5)
    resource = parts[5] if len(parts) == 6 else ""
    name = resource.split("/")[1] if resource.startswith("tenant/") and resource.count("/") == 2 else None
    row = ses_tenants.get(conn, caller.account_id, caller.region, name) if name else None
    if row is None or tenant_arn(row) != reference:
        raise NotFound(f"Reputation entity {reference[:200]} does not exist")
    return row


def get(ctx: Context, caller: Caller, entity_type: str, reference: str) -> dict:
    _check_type(entity_type)
    require_admin(caller, "read reputation entities")
    with ctx.db.read() as conn:
        row = _require(conn, caller, reference)
        judged = store.judged(conn, [("ses_tenant", _key(row))])[("ses_tenant", _key(row))]
    return {"ReputationEntity": _entity(row, judged)}


def list_page(ctx: Context, caller: Caller, filters: dict | None, page_size: int | None, token: str | None) -> dict:
    filters = filters or {}
    unknown = sorted(set(filters) - set(_FILTERS))
    if unknown:
        raise InvalidInput(f"Filter keys are {', '.join(_FILTERS)}, not {unknown[0][:32]!r}", field="Filter")
    if not is_admin(caller) or filters.get("ENTITY_TYPE", ENTITY_TYPE) != ENTITY_TYPE:
        return {"ReputationEntities": []}
    limit, after = limit_of(page_size or None), after_key(token, "reputation-entities")
    with ctx.db.read() as conn:
        rows = ses_tenants.list_page(conn, caller.account_id, caller.region, after=after, limit=MAX_TENANTS)
        judged = store.judged(conn, [("ses_tenant", _key(row)) for row in rows])
    entities = [(row["name"], _entity(row, judged[("ses_tenant", _key(row))])) for row in rows]
    kept = [(name, entity) for name, entity in entities if _matches(entity, filters)]
    page, next_token = page_of(kept, limit, "reputation-entities", lambda item: item[0])
    return {"ReputationEntities": [entity for _, entity in page], "NextToken": next_token}


def _matches(entity: dict, filters: dict) -> bool:
    if filters.get("REPUTATION_IMPACT") and entity.get("ReputationImpact") != filters["REPUTATION_IMPACT"]:
        return False
    if filters.get("SENDING_STATUS") and entity["SendingStatusAggregate"] != filters["SENDING_STATUS"]:
        return False
    prefix = filters.get("ENTITY_REFERENCE_PREFIX")
    return not prefix or entity["ReputationEntityReference"].startswith(prefix)


def update_policy(ctx: Context, caller: Caller, entity_type: str, reference: str, policy: str) -> None:
    _check_type(entity_type)
    require_admin(caller, "change reputation policies")
    chosen = _policy_of(policy or "", caller.region)
    with ctx.db.write() as conn:
        row = _require(conn, caller, reference)
        ses_tenants.update(conn, row["account_id"], row["region"], row["name"], reputation_policy=chosen)


def update_customer_status(ctx: Context, caller: Caller, entity_type: str, reference: str, status: str) -> None:
    """The account's own switch: DISABLED pauses, ENABLED sends unless Pinfold paused it, REINSTATED
    sends even then. Each change is recorded as a pause or resume by the caller."""
    _check_type(entity_type)
    require_admin(caller, "change a reputation entity's sending status")
    if status not in _STATUSES:
        raise InvalidInput(f"SendingStatus must be one of {', '.join(_STATUSES)}", field="SendingStatus")
    now = time.time()
    with ctx.db.write() as conn:
        row = _require(conn, caller, reference)
        before = sending_status.of_tenant(row)
        ses_tenants.update(conn, row["account_id"], row["region"], row["name"], sending_status=status)
        after = sending_status.aggregate(status, row["managed_status"])
        if (before == "DISABLED") != (after == "DISABLED"):
            store.record(conn, [{"id": ids.new_event_id(), "scope": "ses_tenant", "key": _key(row),
                                 "action": "PAUSED" if after == "DISABLED" else "RESUMED",
                                 "actor": caller.principal_id, "detail": {"CustomerManagedStatus": status},
                                 "at": now}])


def get_account(ctx: Context, caller: Caller) -> dict:
    """GetAccount: the SES account's answer (email/account.py) with the EnforcementStatus its rates give."""
    return {**email_account_service.get_account(ctx, caller), "EnforcementStatus": enforcement_status(ctx, caller)}


def enforcement_status(ctx: Context, caller: Caller) -> str:
    key = f"{caller.account_id}/{caller.region}"
    with ctx.db.read() as conn:
        judged = store.judged(conn, [("account", key)])[("account", key)]
        enabled = email_account.settings(conn, caller.account_id, caller.region)["sending_enabled"]
    worst = max(judged.values(), key=lambda level: levels.ORDER[level])
    if worst == levels.PAUSE and not enabled:
        return "SHUTDOWN"
    return "PROBATION" if worst != levels.NONE else "HEALTHY"

