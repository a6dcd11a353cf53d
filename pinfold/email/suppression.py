"""Suppression lists: PutSuppressedDestination, GetSuppressedDestination, ListSuppressedDestinations,
DeleteSuppressedDestination, for the account's list or (with TenantName) an SES tenant's own list.

The account's list holds every tenant's recipients, so callers confined to one project may look up
an address they know (without the ids of the message that put it there), but neither add to it,
list it nor remove entries from it: adding would let one tenant stop mail to another's customers.
Their own SES tenant's list is theirs to manage.
"""

from __future__ import annotations

import time
from datetime import datetime

from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import Forbidden, InvalidInput, NotFound
from pinfold.core.paging import after_key, limit_of, page_of
from pinfold.email.access import is_admin, require_tenant
from pinfold.email.store import suppression as store


def _address(address: str) -> str:
    address = address.strip().lower()
    local, _at, domain = address.rpartition("@")
    if not local or "." not in domain or " " in address:
        raise InvalidInput(f"{address!r} is not a valid email address", field="EmailAddress")
    return address


def _list_name(conn, caller: Caller, tenant_name: str | None, *, changing_or_listing: bool = False) -> str:
    """The list a request names; refuses confined callers what would expose or change the shared list."""
    if tenant_name:
        return require_tenant(conn, caller, tenant_name)["name"]
    if changing_or_listing and not is_admin(caller):
        raise Forbidden("The account's suppression list holds every tenant's recipients: these credentials cannot "
                        "list or change it (name your SES tenant with TenantName for its own list)")
    return store.ACCOUNT_LIST


def _destination(row: dict, *, with_ids: bool = True) -> dict:
    destination = {"EmailAddress": row["address"], "Reason": row["reason"], "LastUpdateTime": row["updated_at"]}
    attributes = {key: row[column] for key, column in (("MessageId", "message_id"), ("FeedbackId", "feedback_id"))
                  if row[column]}
    if attributes and with_ids:
        destination["Attributes"] = attributes
    if row["tenant_name"]:
        destination["TenantName"] = row["tenant_name"]
    return destination


def put(ctx: Context, caller: Caller, address: str, reason: str, tenant_name: str | None = None) -> None:
    address = _address(address)
    with ctx.db.write() as conn:
        list_name = _list_name(conn, caller, tenant_name, changing_or_listing=True)
        store.put(conn, caller.account_id, caller.region, list_name, address, reason, time.time())


def _missing(address: str, list_name: str) -> NotFound:
    where = f"the suppression list of tenant {list_name}" if list_name else "your suppression list"
    return NotFound(f"Email address {address} does not exist on {where}")


def get(ctx: Context, caller: Caller, address: str, tenant_name: str | None = None) -> dict:
    address = _address(address)
    with ctx.db.read() as conn:
        list_name = _list_name(conn, caller, tenant_name)
        row = store.get(conn, caller.account_id, caller.region, list_name, address)
    if row is None:
        raise _missing(address, list_name)
    # Which message put a shared-list address there is another tenant's business.
    return _destination(row, with_ids=bool(list_name) or is_admin(caller))


def delete(ctx: Context, caller: Caller, address: str, tenant_name: str | None = None) -> None:
    address = _address(address)
    with ctx.db.write() as conn:
        list_name = _list_name(conn, caller, tenant_name, changing_or_listing=True)
        if not store.delete(conn, caller.account_id, caller.region, list_name, address):
            raise _missing(address, list_name)


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def list_page(ctx: Context, caller: Caller, *, tenant_name: str | None = None, reasons: list[str] | None = None,
              start: datetime | None = None, end: datetime | None = None, page_size: int | None = None,
              token: str | None = None) -> dict:
    limit, after = limit_of(page_size or None, default=1000), after_key(token, "suppressed-destinations")
    with ctx.db.read() as conn:
        list_name = _list_name(conn, caller, tenant_name, changing_or_listing=True)
        rows = store.list_page(conn, caller.account_id, caller.region, list_name, after=after, limit=limit + 1,
                               reasons=reasons, start=_epoch(start), end=_epoch(end))
    rows, token = page_of(rows, limit, "suppressed-destinations", lambda row: row["address"])
    summaries = [{"EmailAddress": row["address"], "Reason": row["reason"], "LastUpdateTime": row["updated_at"]}
                 for row in rows]
    return {"SuppressedDestinationSummaries": summaries, "NextToken": token}
