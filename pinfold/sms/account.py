"""An account's SMS settings: who may change account-wide SMS resources, how a name-or-ARN names
one of them, the sandbox and spend limits, resource quotas, and verified destination numbers.

Callers confined to one project (project-scoped keys, sa-sp and sa-mp tenants) share their
account's numbers, pools, opt-out lists and configuration sets: they may read and send, and change
none of them (AccessDeniedException).
"""

from __future__ import annotations

from pinfold.core.access import Caller
from pinfold.core.arns import parse_arn
from pinfold.core.errors import Forbidden, InvalidInput, NotFound
from pinfold.core.paging import after_key, page_of

MAX_RESULTS = 100  # the model's MaxResults bound


def require_admin(caller: Caller, action: str) -> None:
    """Forbidden unless the caller reaches its whole account; `action` completes "they cannot ..."."""
    if caller.pinned_project() is not None:
        raise Forbidden(f"These credentials are confined to one project and share the account's SMS resources "
                        f"with other tenants: they cannot {action}; an account administrator can")


def local_id(caller: Caller, value: str, kind: str) -> str:
    """The id or name that a `...NameOrArn` member gives: the value itself, or the resource part of an
    ARN of the caller's account and region (any other ARN names something absent)."""
    if not value.startswith("arn:"):
        return value
    parsed = parse_arn(value, field=kind)
    resource_id = parsed.resource.partition("/")[2]
    if (parsed.service, parsed.region, parsed.account_id, parsed.resource_type) != (
            "sms-voice", caller.region, caller.account_id, kind) or not resource_id:
        raise NotFound(f"Resource {value} does not exist", details={"ResourceType": kind, "ResourceId": value})
    return resource_id


def invalid(message: str, field: str, reason: str = "INVALID_PARAMETER") -> InvalidInput:
    """A ValidationException with its Reason and the offending field, as this API reports them."""
    return InvalidInput(message, field=field, details={"Reason": reason,
                                                       "Fields": [{"Name": field, "Message": message}]})


def page_limit(max_results: int | None) -> int:
    """MaxResults: 1 to 100, 100 when absent (the model's bounds)."""
    if max_results is None:
        return MAX_RESULTS
    if not 1 <= max_results <= MAX_RESULTS:
        raise invalid(f"MaxResults must be between 1 and {MAX_RESULTS}", "MaxResults")
    return max_results


def page_after(token: str | None, listing: str) -> str | None:
    """The last key the previous page showed, from a NextToken that this `listing` issued."""
    try:
        return after_key(token, listing)
    except InvalidInput:
        raise invalid("NextToken is not a token this operation issued", "NextToken", "INVALID_NEXT_TOKEN") from None


def page(rows: list, limit: int, listing: str, key, member: str, shape) -> dict:
    """The response members for up to `limit` + 1 rows read: `member` (each shown row through `shape`)
    and a NextToken when more remain."""
    shown, token = page_of(rows, limit, listing, key)
    return {member: [shape(row) for row in shown], **({"NextToken": token} if token else {})}
