"""Accepting email for delivery: the checks every send path shares, then the queue.

SES's SendEmail and SendBulkEmail and Pinpoint's SendMessages all come through here, inside the
request's write transaction: who sends (account, project, tenant), from which verified identity,
through which configuration set, to recipients the sandbox allows, within the account's quota.
What passes becomes a batch of queued messages that the sending workers deliver (sending/worker.py).

Tenancy: a tenant's credentials send as that tenant's SES tenant (when one is linked to it), and
every identity, configuration set and template such a send uses must be associated with it. In a
shared project (sa-sp) a tenant may send only to its own endpoints' addresses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pinfold.audience.store import endpoints as endpoint_store
from pinfold.core import ids, metrics
from pinfold.core.access import Caller
from pinfold.core.arns import ses_identity_arn
from pinfold.core.errors import Forbidden, InvalidInput, MessageRejected, NotFound, SendingPaused
from pinfold.db.database import after_commit
from pinfold.email.rules import sending_status
from pinfold.email.store import account as email_account
from pinfold.email.store import configuration_sets, tenant_quotas
from pinfold.email.store import identities as email_identities
from pinfold.email.store import messages as store
from pinfold.email.store import tenants as ses_tenants
from pinfold.sending import queue
from pinfold.tenancy.store import tenants as registry

MAX_RECIPIENTS = 50  # per message, as SES allows
SIMULATOR_DOMAIN = "simulator.amazonses.com"
_TRACKED = {"OPEN": "opens", "CLICK": "clicks"}


@dataclass
class Sender:
    """Everything resolved about who sends and how, before any recipient is looked at."""

    account_id: str
    region: str
    project_id: str
    tenant_id: str | None  # the registry tenant the records belong to
    ses_tenant: dict | None
    from_header: str
    from_address: str
    identity: dict
    configuration_set: dict | None
    production: bool


def resolve_sender(conn, caller: Caller, *, account_id: str, region: str, project_id: str = "",
                   from_header: str, configuration_set: str | None, tenant_name: str | None) -> Sender:
    """Check the sender side of a send; raises the error SES gives for each failure."""
    from_address = address_of(from_header)
    ses_tenant = _ses_tenant(conn, caller, account_id, region, tenant_name)
    identity = email_identities.sending_identity(conn, account_id, region, from_address)
    if identity is None or not identity["verified"]:
        raise MessageRejected("Email address is not verified. The following identities failed the check in "
                              f"region {region.upper()}: {from_address}")
    set_name = configuration_set or identity["configuration_set"]
    found_set = None
    if set_name:
        found_set = configuration_sets.get(conn, account_id, region, set_name)
        if found_set is None:
            raise NotFound(f"Configuration set <{set_name}> does not exist.")
        if not found_set["sending_enabled"]:
            raise SendingPaused(f"Sending is paused for configuration set {set_name}")
    if ses_tenant is not None:
        _check_tenant_resources(conn, ses_tenant, account_id, region, identity, found_set)
    if not project_id and found_set is not None:
        # A PinpointDestination puts the set's email events in that project, as SES does for Pinpoint.
        project_id = next((d["target"] for d in found_set["event_destinations"]
                           if d["enabled"] and d["sink"] == "pinpoint"), "")
    tenant_id = caller.tenant_id or (ses_tenant or {}).get("registry_tenant_id")
    settings = email_account.settings(conn, account_id, region)
    return Sender(account_id, region, project_id, tenant_id, ses_tenant, from_header, from_address, identity,
                  found_set, bool(settings["production_access"]))


def check_template(conn, sender: Sender, template_arn: str) -> None:
    """A tenant send may use only templates associated with its SES tenant."""
    if sender.ses_tenant is not None:
        associated = ses_tenants.resources(conn, sender.account_id, sender.region, sender.ses_tenant["name"])
        if template_arn not in associated:
            raise MessageRejected(f"Template {template_arn} is not associated with tenant "
                                  f"{sender.ses_tenant['name']}")


def recipient_problem(conn, sender: Sender, caller: Caller, addresses: list[str]) -> str | None:
    """Why these recipients may not be sent to, or None: the sandbox and a shared project's tenants."""
    if len(addresses) > MAX_RECIPIENTS:
        return f"Recipient count exceeds {MAX_RECIPIENTS}"
    for address in addresses:
        address_of(address)
    if not sender.production:
        unverified = [a for a in addresses if not _sandbox_allows(conn, sender, a)]
        if unverified:
            return ("Email address is not verified. The following identities failed the check in region "
                    f"{sender.region.upper()}: {', '.join(unverified)}")
    confined = caller.endpoint_tenant
    if confined is not None and sender.project_id:
        holders = endpoint_store.address_holders(conn, sender.project_id, [("EMAIL", a) for a in addresses])
        owned = _owned_endpoints(conn, sender.project_id, set(holders.values()), confined[1])
        foreign = [a for a in addresses if holders.get(("EMAIL", a)) not in owned]
        if foreign:
            return f"Not an address of this tenant's endpoints: {', '.join(foreign)}"
    return None


def take_quota(conn, sender: Sender, count: int) -> None:
    """Count `count` messages against the account's quota and rate (raises when over either, and
    SendingPaused when the SES tenant or the registry tenant sending is paused)."""
    if sender.ses_tenant is not None and sending_status.of_tenant(sender.ses_tenant) == "DISABLED":
        raise SendingPaused(f"Sending is paused for tenant {sender.ses_tenant['name']}")
    if sender.tenant_id is not None:
        tenant = registry.get_tenant(conn, sender.tenant_id)
        if tenant is not None and tenant["sending_paused"]:
            raise SendingPaused(f"Sending is paused for tenant {sender.tenant_id}: its bounce or complaint rate "
                                "crossed its reputation policy (the operator resumes it)")
        tenant_quotas.take(conn, sender.tenant_id, count, time.time())
    email_account.take_quota(conn, sender.account_id, sender.region, count, time.time())


def definition(sender: Sender, *, subject: str | None = None, html: str | None = None, text: str | None = None,
               defaults: dict | None = None, template_name: str | None = None, raw: str | None = None,
               reply_to: list[str] | None = None, headers: list | None = None, attachments: list | None = None,
               tags: dict | None = None, list_unsubscribe: bool = False, track_always: bool = False,
               attributes: dict | None = None) -> dict:
    """What every message of a batch shares, resolved now so later edits to templates cannot change it.
    `attributes` go into every event record of its messages (a campaign's ids)."""
    tracking = {"opens": track_always, "clicks": track_always}
    for destination in (sender.configuration_set or {}).get("event_destinations", []):
        if destination["enabled"]:
            for event_type, key in _TRACKED.items():
                tracking[key] = tracking[key] or event_type in destination["matching_event_types"]
    dkim = sender.identity["dkim"]
    return {
        "kind": "raw" if raw is not None else "content",
        "from": sender.from_header, "from_address": sender.from_address, "return_path": sender.from_address,
        "subject": subject, "html": html, "text": text, "defaults": defaults or {}, "template_name": template_name,
        "raw": raw, "reply_to": reply_to or [], "headers": headers or [], "attachments": attachments or [],
        "tags": tags or {}, "tracking": tracking, "list_unsubscribe": list_unsubscribe,
        "attributes": attributes or {},
        "dkim": dkim and {"domain": dkim["domain"], "selector": dkim["selector"],
                          "private_key": dkim["private_pem_ciphertext"]},
    }


def enqueue(conn, sender: Sender, definition: dict, recipients: list[dict],
            due: list[float | None] | None = None) -> list[str]:
    """Queue one message per recipient entry (to, cc, bcc, endpoint_id, tenant_id, data); returns their ids.
    `due` gives, per entry, the time before which its message may not go (None, or in the past: now)."""
    now = time.time()
    batch = {"id": ids.new_event_id(), "account_id": sender.account_id, "region": sender.region,
             "project_id": sender.project_id, "tenant_id": sender.tenant_id,
             "ses_tenant": sender.ses_tenant["name"] if sender.ses_tenant else None,
             "configuration_set": sender.configuration_set["name"] if sender.configuration_set else None,
             "definition": definition, "created_at": now,
             "activity_id": queue.activity_of(definition.get("attributes"))}  # a campaign's: its lane
    messages = [{"id": ids.new_message_id(), "recipient": recipient} for recipient in recipients]
    for message, due_at in zip(messages, due or [], strict=False):
        if due_at is not None and due_at > now:
            message["due_at"] = due_at
    store.add(conn, batch, messages)
    after_commit(conn, lambda: metrics.count_messages("email", sender.account_id, "accepted", len(messages)))
    return [message["id"] for message in messages]


def address_of(value: str) -> str:
    """The bare address of `Name <local@domain>` or `local@domain`; InvalidInput when it is not one."""
    from email.utils import parseaddr

    # Most values are a bare address; the full RFC 5322 parser is for `Name <address>` forms.
    address = value if value and not any(c in value for c in '<>"(), \t') else parseaddr(value or "")[1]
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        raise InvalidInput(f"Invalid email address: {value!r}")
    return address


def _sandbox_allows(conn, sender: Sender, address: str) -> bool:
    bare = address_of(address)
    return (bare.lower().rpartition("@")[2] == SIMULATOR_DOMAIN
            or email_identities.verified_recipient(conn, sender.account_id, sender.region, bare))


def _ses_tenant(conn, caller: Caller, account_id: str, region: str, tenant_name: str | None) -> dict | None:
    if caller.tenant_id is not None:
        linked = ses_tenants.for_registry_tenant(conn, caller.tenant_id)
        if tenant_name and (linked is None or linked["name"] != tenant_name):
            raise Forbidden(f"These credentials cannot send as tenant {tenant_name}")
        return linked
    if not tenant_name:
        return None
    found = ses_tenants.get(conn, account_id, region, tenant_name)
    if found is None:
        raise NotFound(f"Tenant {tenant_name} does not exist")
    return found


def _check_tenant_resources(conn, tenant: dict, account_id: str, region: str, identity: dict,
                            found_set: dict | None) -> None:
    if sending_status.of_tenant(tenant) == "DISABLED":
        raise SendingPaused(f"Sending is paused for tenant {tenant['name']}")
    associated = ses_tenants.resources(conn, account_id, region, tenant["name"])
    if ses_identity_arn(region, account_id, identity["identity"]) not in associated:
        raise MessageRejected(f"Identity {identity['identity']} is not associated with tenant {tenant['name']}")
    if found_set is None:
        raise MessageRejected(f"Tenant {tenant['name']} must send through a configuration set associated with it")
    if found_set["arn"] not in associated:
        raise MessageRejected(f"Configuration set {found_set['name']} is not associated with tenant {tenant['name']}")


def _owned_endpoints(conn, project_id: str, endpoint_ids: set[str], tenant_value: str) -> set[str]:
    rows = endpoint_store.get_many(conn, project_id, sorted(endpoint_ids))
    return {endpoint_id for endpoint_id, row in rows.items() if row["tenant_value"] == tenant_value}
