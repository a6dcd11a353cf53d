"""Contact subscription rules, with no I/O: a contact's status for a topic, and ListContacts' filter.

A contact's status for a topic is its own preference when it gave one, else the topic's default.
UnsubscribeAll wins over both: such a contact is opted out of every topic.
"""

from __future__ import annotations

OPT_IN, OPT_OUT = "OPT_IN", "OPT_OUT"
STATUSES = (OPT_IN, OPT_OUT)


def defaults_of(topics: list[dict]) -> dict[str, str]:
    """Each topic's default status, by topic name."""
    return {topic["TopicName"]: topic["DefaultSubscriptionStatus"] for topic in topics}


def status_for(contact: dict, defaults: dict[str, str], topic: str, *, use_default: bool = True) -> str | None:
    """OPT_IN or OPT_OUT for one topic; None when the contact gave no preference and `use_default` is off."""
    if contact["unsubscribe_all"]:
        return OPT_OUT
    own = contact["topic_preferences"].get(topic)
    if own is not None:
        return own
    return defaults.get(topic) if use_default else None


def receives(contact: dict | None, defaults: dict[str, str], topic: str | None) -> bool:
    """Whether mail for this topic (None: for the list as a whole) may go to the contact.

    Addresses that are not contacts of the list have expressed nothing and receive the mail.
    """
    if contact is None:
        return True
    if topic is None:
        return not contact["unsubscribe_all"]
    if topic not in defaults:  # removed from the list after the send: an opt-out given for it still holds
        return not contact["unsubscribe_all"] and contact["topic_preferences"].get(topic) != OPT_OUT
    return status_for(contact, defaults, topic) == OPT_IN


def matches(contact: dict, defaults: dict[str, str], status: str | None, topic: str | None,
            use_default: bool) -> bool:
    """ListContacts' Filter: FilteredStatus alone is about UnsubscribeAll; with a TopicFilter, about that topic."""
    if status is None:
        return True
    if topic is None:
        return contact["unsubscribe_all"] == (status == OPT_OUT)
    return status_for(contact, defaults, topic, use_default=use_default) == status


def preference_lists(contact: dict, topics: list[dict]) -> tuple[list[dict], list[dict]]:
    """(TopicPreferences, TopicDefaultPreferences) for the list's current topics, in the list's order."""
    own, defaulted = [], []
    for topic in topics:
        name = topic["TopicName"]
        chosen = contact["topic_preferences"].get(name)
        if chosen is not None:
            own.append({"TopicName": name, "SubscriptionStatus": chosen})
        else:
            defaulted.append({"TopicName": name, "SubscriptionStatus": topic["DefaultSubscriptionStatus"]})
    return own, defaulted
