"""SES v2 list management: contact lists with their topics, and the contacts on them.

Lists belong to the SES account (Pinfold account + region). Callers that reach their whole account
(organization and account scopes, ma-mp tenants) see and administer all of its lists; callers
confined to one project (sa-sp and sa-mp tenants, project keys) see only the lists they created
themselves, and other lists look absent to them. SES allows one contact list per account; Pinfold
counts that limit per owner (the account itself, or each confined tenant or project), so tenants
sharing an account neither block nor detect each other (docs/decisions.md).
"""

from __future__ import annotations

from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller
from pinfold.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from pinfold.core.paging import after_key, limit_of, page_of
from pinfold.db.database import lock_keys
from pinfold.email.accept import address_of
from pinfold.email.access import contact_list_owner, is_admin
from pinfold.email.configuration_sets import check_name
from pinfold.email.rules.subscriptions import STATUSES, defaults_of, matches, preference_lists
from pinfold.email.store import contact_lists as store
from pinfold.email.tenants import tag_list, tags_of
from pinfold.projects import store as tag_store

MAX_TOPICS = 20  # per contact list, as SES documents
MAX_DISPLAY_NAME = 128
MAX_DESCRIPTION = 1000
MAX_ATTRIBUTES_BYTES = 64 * 1024
MAX_ADDRESS = 320
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
SCAN_CHUNK = 500  # contacts read at a time while a filtered ListContacts fills its page


# --- access -------------------------------------------------------------------------------------------

def _visible(found: dict | None, caller: Caller) -> bool:
    return found is not None and (is_admin(caller) or found["owner"] == contact_list_owner(caller))


def _require_list(conn, caller: Caller, name: str) -> dict:
    """The list's row if the caller may see it; NotFound (never Forbidden) otherwise."""
    found = store.row(conn, caller.account_id, caller.region, name)
    if not _visible(found, caller):
        raise NotFound(f"List with name {name} does not exist.")
    return found


def _lock(conn, caller: Caller, name: str) -> None:
    lock_keys(conn, "contact-lists", [f"{caller.account_id}/{caller.region}/{name}"])


# --- validation ---------------------------------------------------------------------------------------

def _text(value, field: str, maximum: int, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if not isinstance(value, str) or len(value) > maximum:
        raise InvalidInput(f"{field} must be a string of at most {maximum} characters", field=field)
    return value


def _status(value, field: str) -> str:
    if value not in STATUSES:
        raise InvalidInput(f"{field} must be OPT_IN or OPT_OUT", field=field)
    return value


def _topics(raw: list | None) -> list[dict]:
    """The stored topics of a CreateContactList or UpdateContactList request."""
    raw = raw or []
    if len(raw) > MAX_TOPICS:
        raise LimitExceeded(f"A contact list can have at most {MAX_TOPICS} topics; the request has {len(raw)}")
    topics, seen = [], set()
    for topic in raw:
        name = check_name(topic.get("TopicName") or "", "TopicName", "topic")
        if name in seen:
            raise InvalidInput(f"Topic {name} is listed twice", field="Topics")
        seen.add(name)
        stored = {"TopicName": name,
                  "DisplayName": _text(topic.get("DisplayName"), "DisplayName", MAX_DISPLAY_NAME, required=True),
                  "DefaultSubscriptionStatus": _status(topic.get("DefaultSubscriptionStatus"),
                                                       "DefaultSubscriptionStatus")}
        description = _text(topic.get("Description"), "Description", MAX_DESCRIPTION)
        if description is not None:
            stored["Description"] = description
        topics.append(stored)
    return topics


def _preferences(raw: list | None, topics: list[dict], list_name: str) -> dict[str, str]:
    """A contact's TopicPreferences as {topic: status}; each topic must be one of the list's."""
    known = {topic["TopicName"] for topic in topics}
    preferences: dict[str, str] = {}
    for preference in raw or []:
        name = preference.get("TopicName") or ""
        if name not in known:
            raise InvalidInput(f"Topic {name} does not exist in list {list_name}.", field="TopicPreferences")
        if name in preferences:
            raise InvalidInput(f"Topic {name} is listed twice", field="TopicPreferences")
        preferences[name] = _status(preference.get("SubscriptionStatus"), "SubscriptionStatus")
    return preferences


def _address(value: str | None) -> tuple[str, str]:
    """(address as given, its key) for a contact's EmailAddress."""
    if not value or len(value) > MAX_ADDRESS or address_of(value) != value:
        raise InvalidInput(f"Invalid email address: {value!r}; give the bare address", field="EmailAddress")
    return value, value.lower()


def _attributes(value) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value.encode()) > MAX_ATTRIBUTES_BYTES):
        raise InvalidInput(f"AttributesData must be a string of at most {MAX_ATTRIBUTES_BYTES} bytes",
                           field="AttributesData")
    return value


# --- contact lists ------------------------------------------------------------------------------------

def create_list(ctx: Context, caller: Caller, request: dict) -> None:
    name = check_name(request.get("ContactListName") or "", "ContactListName", "contact list")
    topics = _topics(request.get("Topics"))
    description = _text(request.get("Description"), "Description", MAX_DESCRIPTION)
    tags, owner, now = tags_of(request), contact_list_owner(caller), ids.iso_now()
    with ctx.db.write() as conn:
        lock_keys(conn, "contact-lists", [f"{caller.account_id}/{caller.region}"])
        if store.row(conn, caller.account_id, caller.region, name) is not None:
            raise Conflict(f"List with name {name} already exists.")
        limit = ctx.settings.contact_lists_per_owner
        if store.count(conn, caller.account_id, caller.region, owner=owner) >= limit:
            raise LimitExceeded(f"Maximum number of contact lists ({limit}) reached: delete one before creating "
                                "another")
        store.insert(conn, {"account_id": caller.account_id, "region": caller.region, "name": name, "owner": owner,
                            "description": description, "topics": topics, "created_at": now, "updated_at": now})
        tag_store.put_tags(conn, store.arn(caller.account_id, caller.region, name), tags)


def get_list(ctx: Context, caller: Caller, name: str) -> dict:
    with ctx.db.read() as conn:
        found = _require_list(conn, caller, name)
        tags = tag_store.get_tags(conn, store.arn(caller.account_id, caller.region, name))
    result = {"ContactListName": name, "Topics": found["topics"], "CreatedTimestamp": found["created_at"],
              "LastUpdatedTimestamp": found["updated_at"], "Tags": tag_list(tags)}
    if found["description"] is not None:
        result["Description"] = found["description"]
    return result


def list_lists(ctx: Context, caller: Caller, size: int | None, token: str | None) -> dict:
    limit, after = limit_of(size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE), after_key(token, "contact-lists")
    with ctx.db.read() as conn:
        rows = store.page(conn, caller.account_id, caller.region, after=after, limit=limit + 1,
                          owner=contact_list_owner(caller), any_owner=is_admin(caller))
    rows, token = page_of(rows, limit, "contact-lists", lambda row: row["name"])
    result: dict = {"ContactLists": [{"ContactListName": row["name"], "LastUpdatedTimestamp": row["updated_at"]}
                                     for row in rows]}
    return {**result, "NextToken": token} if token else result


def update_list(ctx: Context, caller: Caller, name: str, request: dict) -> None:
    """A complete replacement of the list's topics and description, as SES does it."""
    topics = _topics(request.get("Topics"))
    description = _text(request.get("Description"), "Description", MAX_DESCRIPTION)
    with ctx.db.write() as conn:
        _lock(conn, caller, name)
        _require_list(conn, caller, name)
        store.update(conn, caller.account_id, caller.region, name, topics=topics, description=description,
                     updated_at=ids.iso_now())


def delete_list(ctx: Context, caller: Caller, name: str) -> None:
    with ctx.db.write() as conn:
        _lock(conn, caller, name)
        _require_list(conn, caller, name)
        store.delete(conn, caller.account_id, caller.region, name)
        tag_store.delete_tags(conn, store.arn(caller.account_id, caller.region, name))


# --- contacts -----------------------------------------------------------------------------------------

def _require_contact(conn, caller: Caller, list_name: str, key: str) -> dict:
    found = store.contact(conn, caller.account_id, caller.region, list_name, key)
    if found is None:
        raise NotFound(f"Contact does not exist in list {list_name}.")
    return found


def create_contact(ctx: Context, caller: Caller, list_name: str, request: dict) -> None:
    address, key = _address(request.get("EmailAddress"))
    attributes = _attributes(request.get("AttributesData"))
    now = ids.iso_now()
    with ctx.db.write() as conn:
        _lock(conn, caller, list_name)
        found = _require_list(conn, caller, list_name)
        preferences = _preferences(request.get("TopicPreferences"), found["topics"], list_name)
        if store.contact(conn, caller.account_id, caller.region, list_name, key) is not None:
            raise Conflict(f"Contact already exists in list {list_name}.")
        store.insert_contact(conn, {
            "account_id": caller.account_id, "region": caller.region, "contact_list": list_name,
            "address_key": key, "email_address": address, "topic_preferences": preferences,
            "unsubscribe_all": bool(request.get("UnsubscribeAll")), "attributes_data": attributes,
            "created_at": now, "updated_at": now})


def get_contact(ctx: Context, caller: Caller, list_name: str, address: str) -> dict:
    _, key = _address(address)
    with ctx.db.read() as conn:
        found = _require_list(conn, caller, list_name)
        contact = _require_contact(conn, caller, list_name, key)
    result = {"ContactListName": list_name, **_contact_view(contact, found["topics"]),
              "CreatedTimestamp": contact["created_at"]}
    if contact["attributes_data"] is not None:
        result["AttributesData"] = contact["attributes_data"]
    return result


def update_contact(ctx: Context, caller: Caller, list_name: str, address: str, request: dict) -> None:
    """Given TopicPreferences replace the contact's all (as SES documents); omitted members keep their value."""
    _, key = _address(address)
    attributes = _attributes(request.get("AttributesData"))
    with ctx.db.write() as conn:
        _lock(conn, caller, list_name)
        found = _require_list(conn, caller, list_name)
        _require_contact(conn, caller, list_name, key)
        values: dict = {"updated_at": ids.iso_now()}
        if request.get("TopicPreferences") is not None:
            values["topic_preferences"] = _preferences(request["TopicPreferences"], found["topics"], list_name)
        if request.get("UnsubscribeAll") is not None:
            values["unsubscribe_all"] = bool(request["UnsubscribeAll"])
        if attributes is not None:
            values["attributes_data"] = attributes
        store.update_contact(conn, caller.account_id, caller.region, list_name, key, **values)


def delete_contact(ctx: Context, caller: Caller, list_name: str, address: str) -> None:
    _, key = _address(address)
    with ctx.db.write() as conn:
        _lock(conn, caller, list_name)
        _require_list(conn, caller, list_name)
        _require_contact(conn, caller, list_name, key)
        store.delete_contact(conn, caller.account_id, caller.region, list_name, key)


def list_contacts(ctx: Context, caller: Caller, list_name: str, contact_filter: dict | None, size: int | None,
                  token: str | None) -> dict:
    """A page of the list's contacts in address order, those the Filter keeps (see domain.subscriptions)."""
    limit, after = limit_of(size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE), after_key(token, "contacts")
    with ctx.db.read() as conn:
        found = _require_list(conn, caller, list_name)
        keep = _filter(contact_filter, found)
        kept, last_key = [], after
        while len(kept) <= limit:
            chunk = store.contacts_page(conn, caller.account_id, caller.region, list_name, after=last_key,
                                        limit=SCAN_CHUNK)
            for contact in chunk:
                if keep(contact):
                    kept.append(contact)
                    if len(kept) > limit:
                        break
            if len(chunk) < SCAN_CHUNK:
                break
            last_key = chunk[-1]["address_key"]
    kept, token = page_of(kept, limit, "contacts", lambda contact: contact["address_key"])
    result: dict = {"Contacts": [_contact_view(contact, found["topics"]) for contact in kept]}
    return {**result, "NextToken": token} if token else result


def _filter(contact_filter: dict | None, found: dict):
    contact_filter = contact_filter or {}
    status = contact_filter.get("FilteredStatus")
    if status is not None:
        _status(status, "FilteredStatus")
    topic_filter = contact_filter.get("TopicFilter") or {}
    topic = topic_filter.get("TopicName")
    if topic_filter and status is None:
        raise InvalidInput("A TopicFilter needs a FilteredStatus", field="Filter")
    defaults = defaults_of(found["topics"])
    if topic is not None and topic not in defaults:
        raise InvalidInput(f"Topic {topic} does not exist in list {found['name']}.", field="TopicFilter")
    use_default = bool(topic_filter.get("UseDefaultIfPreferenceUnavailable"))
    return lambda contact: matches(contact, defaults, status, topic, use_default)


def _contact_view(contact: dict, topics: list[dict]) -> dict:
    own, defaulted = preference_lists(contact, topics)
    return {"EmailAddress": contact["email_address"], "TopicPreferences": own,
            "TopicDefaultPreferences": defaulted, "UnsubscribeAll": contact["unsubscribe_all"],
            "LastUpdatedTimestamp": contact["updated_at"]}


# --- sending and unsubscribing ------------------------------------------------------------------------

def list_management(conn, caller: Caller, options: dict | None) -> dict | None:
    """A send's ListManagementOptions, checked: the list must be the caller's to see, the topic one of its."""
    if not options:
        return None
    name = options.get("ContactListName") or ""
    found = _require_list(conn, caller, name)
    topic = options.get("TopicName") or None
    if topic is not None and topic not in defaults_of(found["topics"]):
        raise InvalidInput(f"Topic {topic} does not exist in list {name}.", field="ListManagementOptions")
    return {"contact_list": name, "topic": topic}


def opt_out(conn, message: dict) -> None:
    """A one-click unsubscribe from a send with ListManagementOptions: each To address is opted out
    of the send's topic (of the whole list without one), becoming a contact if it was not one."""
    managed = (message.get("definition") or {}).get("list_management")
    if not managed:
        return
    account_id, region, list_name = message["account_id"], message["region"], managed["contact_list"]
    lock_keys(conn, "contact-lists", [f"{account_id}/{region}/{list_name}"])
    if store.row(conn, account_id, region, list_name) is None:
        return  # the list was deleted since: there is nothing left to opt out of
    now, topic = ids.iso_now(), managed.get("topic")
    for address in dict.fromkeys(address_of(a) for a in message["recipient"].get("to") or []):
        key = address.lower()
        found = store.contact(conn, account_id, region, list_name, key)
        if found is None:
            store.insert_contact(conn, {
                "account_id": account_id, "region": region, "contact_list": list_name, "address_key": key,
                "email_address": address, "topic_preferences": {topic: "OPT_OUT"} if topic else {},
                "unsubscribe_all": topic is None, "attributes_data": None, "created_at": now, "updated_at": now})
        elif topic is not None:
            store.update_contact(conn, account_id, region, list_name, key, updated_at=now,
                                 topic_preferences={**found["topic_preferences"], topic: "OPT_OUT"})
        else:
            store.update_contact(conn, account_id, region, list_name, key, updated_at=now, unsubscribe_all=True)
