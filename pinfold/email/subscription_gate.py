"""The list-management gate: a send naming a contact list and topic skips the contacts opted out of it.

SES does not deliver such mail and reports a bounce; here the message ends `suppressed` with a
hard-bounce record whose diagnostic names the list and topic. The gate is read when the message is
claimed, so an unsubscribe that lands after the send was accepted still holds it back.
"""

from __future__ import annotations

from email.utils import parseaddr

from pinfold.email.rules.subscriptions import defaults_of, receives
from pinfold.email.store import contact_lists, messages


def mark_unsubscribed(conn, claimed: list) -> None:
    """Set `suppressed` on each claimed message (not already suppressed) that goes to an opted-out contact."""
    groups: dict[tuple, list] = {}
    for item in claimed:
        managed = item.batch["definition"].get("list_management")
        if managed and item.suppressed is None:
            key = (item.batch["account_id"], item.batch["region"], managed["contact_list"], managed.get("topic"))
            groups.setdefault(key, []).append(item)
    for (account_id, region, list_name, topic), items in groups.items():
        found = contact_lists.row(conn, account_id, region, list_name)
        if found is None:
            continue  # the list was deleted since the send: no preferences are left to honour
        defaults = defaults_of(found["topics"])
        envelopes = {id(item): [parseaddr(a)[1].lower() for a in messages.envelope(item.row["recipient"])]
                     for item in items}
        contacts = contact_lists.contacts_by_address(conn, account_id, region, list_name,
                                                     [a for addresses in envelopes.values() for a in addresses])
        for item in items:
            if not all(receives(contacts.get(a), defaults, topic) for a in envelopes[id(item)]):
                what = f"topic {topic} of contact list {list_name}" if topic else f"contact list {list_name}"
                item.suppressed = f"UNSUBSCRIBED from {what}"
