"""A project's channels: Update, Get and Delete for EMAIL, SMS and the push platforms (whose
settings and sealed credentials push/credentials.py checks), and GetChannels.

Each channel type is one settings document per project, updated, read and deleted the same way.
Channel settings belong to the project, so in a shared (sa-sp) project only the operator may see or
change them; sa-mp and ma-mp tenants manage their own project's channels.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import Caller
from pinfold.core.arns import parse_arn
from pinfold.core.errors import Forbidden, InvalidInput, NotFound
from pinfold.db.database import lock_keys
from pinfold.email.access import may_use
from pinfold.email.store import account as email_account
from pinfold.email.store import configuration_sets
from pinfold.email.store import identities as email_identities
from pinfold.email.tenants import identity_arn
from pinfold.messaging.store import channels as store
from pinfold.projects import projects as project_service
from pinfold.push import credentials as push_credentials

EMAIL = "EMAIL"
SMS = "SMS"
# What GetSmsChannel reports as each message type's rate (Pinpoint's default account rate; Pinfold's
# own limit is the origination identities' and the account's).
SMS_MESSAGES_PER_SECOND = 20
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,9}[A-Za-z0-9_])?$")
_SHORT_CODE = re.compile(r"^[0-9]{3,8}$")
_EMAIL_OPTIONAL = ("ConfigurationSet", "RoleArn", "OrchestrationSendingRoleArn")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


def _project(conn, caller: Caller, project_id: str) -> dict:
    project = project_service.require(conn, caller, project_id)
    if caller.endpoint_tenant is not None:
        raise Forbidden("The channels of a shared project serve every tenant in it; only the operator can see or "
                        "change them")
    return project


def bare_address(value: str, field: str = "FromAddress") -> str:
    """The address inside `value` ("a@example.com" or "Name <a@example.com>"); InvalidInput if it is none."""
    _name, address = parseaddr(value or "")
    local, _at, domain = address.rpartition("@")
    if not local or not _LOCAL.match(local) or ".." in local or not _DOMAIN.match(domain.lower()):
        raise InvalidInput(f"{field} is not a valid email address: {value!r}", field=field)
    return address


def _usable(conn, caller: Caller, ses_arn: str) -> bool:
    """Whether the caller may use an SES resource: confined credentials only their SES tenant's (as in SES)."""
    return may_use(conn, caller, ses_arn)


def _identity_name(conn, caller: Caller, given_arn: str, from_address: str) -> str:
    """The SES identity an Identity ARN names, if the caller may use it and it covers the From address."""
    arn = parse_arn(given_arn, field="Identity")
    kind, _slash, name = arn.resource.partition("/")
    if arn.service != "ses" or kind != "identity" or not name:
        raise InvalidInput(f"Identity must be the ARN of an SES identity (arn:aws:ses:<region>:<account>:identity/"
                           f"<address or domain>), not {given_arn!r}", field="Identity")
    found = None
    if arn.account_id == caller.account_id and arn.region == caller.region:
        found = email_identities.get(conn, caller.account_id, caller.region, name)
    if found is None or not _usable(conn, caller, identity_arn(caller.account_id, caller.region, found["identity"])):
        raise InvalidInput(f"Identity {given_arn} is not an email identity these credentials can use in account "
                           f"{caller.account_id}, {caller.region}; create it with SES CreateEmailIdentity first",
                           field="Identity")
    if found["identity"] not in email_identities.covering_names(from_address):
        raise InvalidInput(f"FromAddress {from_address} is not covered by identity {name}: use that address, or an "
                           "address at that domain or one of its subdomains", field="FromAddress")
    return found["identity"]


def _email_document(ctx: Context, conn, caller: Caller, request: dict, previous: dict | None) -> dict:
    """The stored settings after an update: members given replace the previous ones ("" clears an optional one)."""
    for member in ("FromAddress", "Identity"):  # the wire checks them too; direct callers get the same answer
        if not isinstance(request.get(member), str) or not request[member]:
            raise InvalidInput(f"{member} is required for the email channel", field=member)
    document = {**(previous or {"Enabled": True})}
    document["FromAddress"] = request["FromAddress"]
    _identity_name(conn, caller, request["Identity"], bare_address(request["FromAddress"]))
    document["Identity"] = request["Identity"]
    if request.get("Enabled") is not None:
        document["Enabled"] = bool(request["Enabled"])
    for member in _EMAIL_OPTIONAL:
        if request.get(member) is not None:
            document[member] = request[member]
    for member in ("RoleArn", "OrchestrationSendingRoleArn"):
        if document.get(member) and not _ROLE.match(document[member]):
            raise InvalidInput(f"{member} must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)", field=member)
    name = document.get("ConfigurationSet")
    if name and (configuration_sets.row(conn, caller.account_id, caller.region, name) is None
                 or not _usable(conn, caller, configuration_sets.arn(caller.account_id, caller.region, name))):
        raise InvalidInput(f"Configuration set {name} does not exist in account {caller.account_id}",
                           field="ConfigurationSet")
    return {key: value for key, value in document.items() if value != ""}


def _email_response(ctx: Context, conn, project: dict, row: dict) -> dict:
    document = row["document"]
    rate = email_account.settings(conn, project["account_id"], project["region"])["max_rate"]
    return {
        **_channel_response(project["id"], row),
        "Platform": EMAIL, "MessagesPerSecond": max(1, int(rate)),
        **{key: document[key] for key in ("FromAddress", "Identity", *_EMAIL_OPTIONAL) if document.get(key)},
    }


def _channel_response(project_id: str, row: dict) -> dict:
    """The members every channel type answers with (ChannelResponse)."""
    return {"ApplicationId": project_id, "CreationDate": row["created_at"], "LastModifiedDate": row["modified_at"],
            "LastModifiedBy": row["modified_by"], "Enabled": bool(row["document"].get("Enabled", True)),
            "IsArchived": False, "HasCredential": bool(row["document"].get("Sealed")),
            "Id": row["channel_type"].lower(), "Version": row["version"]}


def _sms_document(ctx: Context, conn, caller: Caller, request: dict, previous: dict | None) -> dict:
    """SMSChannelRequest: Enabled, SenderId, ShortCode ("" clears one). The sender id and short code
    are what SendMessages uses when a message names no origination of its own."""
    document = {**(previous or {"Enabled": True})}
    if request.get("Enabled") is not None:
        document["Enabled"] = bool(request["Enabled"])
    for member in ("SenderId", "ShortCode"):
        if request.get(member) is not None:
            document[member] = request[member]
    sender_id = document.get("SenderId")
    if sender_id and not _SENDER_ID.match(sender_id):
        raise InvalidInput("SenderId must be 1 to 11 letters, digits, hyphens or underscores, with at least one "
                           "letter, and not start or end with a hyphen", field="SenderId")
    short_code = document.get("ShortCode")
    if short_code and not _SHORT_CODE.match(short_code):
        raise InvalidInput("ShortCode must be 3 to 8 digits", field="ShortCode")
    return {key: value for key, value in document.items() if value != ""}


def _sms_response(ctx: Context, conn, project: dict, row: dict) -> dict:
    document = row["document"]
    return {**_channel_response(project["id"], row), "Platform": SMS,
            "PromotionalMessagesPerSecond": SMS_MESSAGES_PER_SECOND,
            "TransactionalMessagesPerSecond": SMS_MESSAGES_PER_SECOND,
            **{key: document[key] for key in ("SenderId", "ShortCode") if document.get(key)}}


def _push_document(platform: str):
    def document_of(ctx: Context, conn, caller: Caller, request: dict, previous: dict | None) -> dict:
        return push_credentials.document(ctx.secrets, platform, request, previous)
    return document_of


def _push_response(platform: str):
    def response_of(ctx: Context, conn, project: dict, row: dict) -> dict:
        return {**_channel_response(project["id"], row),
                **push_credentials.response(ctx.secrets, platform, row["document"])}
    return response_of


_KINDS = {EMAIL: ("email", _email_document, _email_response), SMS: ("SMS", _sms_document, _sms_response),
          **{platform: (push_credentials.LABELS[platform], _push_document(platform), _push_response(platform))
             for platform in push_credentials.PLATFORMS}}


def update(ctx: Context, caller: Caller, project_id: str, channel_type: str, request: dict) -> dict:
    """Update<Type>Channel: the request's members over the stored settings, as a new version."""
    _label, document_of, response_of = _KINDS[channel_type]
    with ctx.db.write() as conn:
        project = _project(conn, caller, project_id)
        lock_keys(conn, "channels", [f"{project_id}/{channel_type}"])  # concurrent updates each get their own version
        previous = store.get_row(conn, project_id, channel_type)
        document = document_of(ctx, conn, caller, request, previous["document"] if previous else None)
        now = ids.iso_now()
        row = {"project_id": project_id, "channel_type": channel_type, "document": document,
               "version": previous["version"] + 1 if previous else 1,
               "created_at": previous["created_at"] if previous else now, "modified_at": now,
               "modified_by": caller.principal_id}
        store.put(conn, row)
        return response_of(ctx, conn, project, row)


def _channel(conn, caller: Caller, project_id: str, channel_type: str) -> tuple[dict, dict]:
    project = _project(conn, caller, project_id)
    row = store.get_row(conn, project_id, channel_type)
    if row is None:
        raise NotFound(f"Resource not found: the {_KINDS[channel_type][0]} channel of application {project_id} "
                       "is not set up")
    return project, row


def get(ctx: Context, caller: Caller, project_id: str, channel_type: str) -> dict:
    with ctx.db.read() as conn:
        project, row = _channel(conn, caller, project_id, channel_type)
        return _KINDS[channel_type][2](ctx, conn, project, row)


def delete(ctx: Context, caller: Caller, project_id: str, channel_type: str) -> dict:
    """Delete<Type>Channel: answers the settings as they were."""
    with ctx.db.write() as conn:
        project, row = _channel(conn, caller, project_id, channel_type)
        shown = _KINDS[channel_type][2](ctx, conn, project, row)
        store.delete(conn, project_id, channel_type)
    return shown


def update_email(ctx: Context, caller: Caller, project_id: str, request: dict) -> dict:
    return update(ctx, caller, project_id, EMAIL, request)


def get_email(ctx: Context, caller: Caller, project_id: str) -> dict:
    return get(ctx, caller, project_id, EMAIL)


def delete_email(ctx: Context, caller: Caller, project_id: str) -> dict:
    return delete(ctx, caller, project_id, EMAIL)


def list_channels(ctx: Context, caller: Caller, project_id: str) -> dict:
    """ChannelsResponse: every channel set up in the project, keyed by channel type."""
    with ctx.db.read() as conn:
        _project(conn, caller, project_id)
        rows = store.list_project(conn, project_id)
    return {"Channels": {row["channel_type"]: _channel_response(project_id, row) for row in rows}}


def stored(conn, project_id: str, channel_type: str) -> dict | None:
    """A channel's stored row (document, version), for the push channel's adapters: bootstrap hands
    this reader to push/channel.py, which sits below messaging."""
    return store.get_row(conn, project_id, channel_type)
