"""SES v2 list management operations (contact lists, contacts): a table from operation name to handler."""

from pinfold.email import contact_lists


def _create_contact_list(ctx, caller, p):
    contact_lists.create_list(ctx, caller, p)


def _get_contact_list(ctx, caller, p):
    return contact_lists.get_list(ctx, caller, p["ContactListName"])


def _list_contact_lists(ctx, caller, p):
    return contact_lists.list_lists(ctx, caller, p.get("PageSize"), p.get("NextToken"))


def _update_contact_list(ctx, caller, p):
    contact_lists.update_list(ctx, caller, p["ContactListName"], p)


def _delete_contact_list(ctx, caller, p):
    contact_lists.delete_list(ctx, caller, p["ContactListName"])


def _create_contact(ctx, caller, p):
    contact_lists.create_contact(ctx, caller, p["ContactListName"], p)


def _get_contact(ctx, caller, p):
    return contact_lists.get_contact(ctx, caller, p["ContactListName"], p["EmailAddress"])


def _update_contact(ctx, caller, p):
    contact_lists.update_contact(ctx, caller, p["ContactListName"], p["EmailAddress"], p)


def _delete_contact(ctx, caller, p):
    contact_lists.delete_contact(ctx, caller, p["ContactListName"], p["EmailAddress"])


def _list_contacts(ctx, caller, p):
    return contact_lists.list_contacts(ctx, caller, p["ContactListName"], p.get("Filter"), p.get("PageSize"),
                                       p.get("NextToken"))


HANDLERS = {
    "CreateContactList": _create_contact_list,
    "GetContactList": _get_contact_list,
    "ListContactLists": _list_contact_lists,
    "UpdateContactList": _update_contact_list,
    "DeleteContactList": _delete_contact_list,
    "CreateContact": _create_contact,
    "GetContact": _get_contact,
    "UpdateContact": _update_contact,
    "DeleteContact": _delete_contact,
    "ListContacts": _list_contacts,
}
