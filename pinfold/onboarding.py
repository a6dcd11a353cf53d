"""The operator's cross-feature use cases: the tenant registry (onboarding in each tenancy model,
status changes, offboarding), deleting a project with everything in it, and minting credentials."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from pinfold.audience import segments as segment_service
from pinfold.audience.store import endpoints
from pinfold.campaigns import campaigns as campaign_service
from pinfold.context import Context
from pinfold.core import ids
from pinfold.core.access import DEFAULT_TENANT_ATTRIBUTE, Caller, check_model
from pinfold.core.arns import project_arn, sms_arn
from pinfold.core.errors import Conflict, InvalidInput, NotFound
from pinfold.email.store import tenant_quotas
from pinfold.events import store as streams
from pinfold.messaging import templates as template_service
from pinfold.messaging.store import channels
from pinfold.projects import projects as project_service
from pinfold.projects import store as projects
from pinfold.push import credentials as push_credentials
from pinfold.sms import access as sms_access
from pinfold.sms import configuration_sets as sms_sets
from pinfold.sms import identities as sms_identities
from pinfold.sms import pools as sms_pools
from pinfold.sms.rules import ids as sms_ids
from pinfold.sms.rules import inventory as sms_inventory
from pinfold.sms.store import resources as sms_resources
from pinfold.tenancy import identity, organization
from pinfold.tenancy.store import accounts, identities, tenants

_TENANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_APP_ID = re.compile(r"^[A-Za-z0-9._-]{1,155}$")
APP_KEY = "pinfold:app"  # the tenant's metadata member naming its mobile app
SHARED_PROJECT_NAME = "shared-tenants"


@dataclass(frozen=True)
class SmsPool:
    """What `--sms-pool` asks for: the pool's first number, a new one (country, type) or one the account has."""

    country: str = "US"
    number_type: str = "SIMULATOR"  # works in the SMS sandbox, to the simulator destinations
    message_type: str = "TRANSACTIONAL"
    number: str | None = None  # an existing number (id, E.164 or ARN) of the account instead of a new one


def onboard(ctx: Context, caller: Caller, *, tenant_id: str, model: str, name: str | None = None,
            region: str | None = None, attribute_key: str | None = None, attribute_value: str | None = None,
            metadata: dict | None = None, sms_pool: bool = False, sms_country: str = "US",
            sms_number_type: str = "SIMULATOR", sms_message_type: str = "TRANSACTIONAL",
            sms_number: str | None = None, app_id: str | None = None, own_push_credentials: bool = False) -> dict:
    """Place a new tenant as its model dictates and return the placement with tenant credentials.
    With `sms_pool`, the tenant also gets an SMS pool and configuration set of its own (see `_setup_sms`).
    `app_id` names the tenant's mobile app (its bundle id or package name), kept in its metadata;
    `own_push_credentials` says it brings push credentials of its own. In sa-sp both are checked
    against the shared project, which holds one push app and one in-app app (`_check_shared_app`)."""
    caller.require_organization_admin()
    check_model(model)
    if app_id is not None and not _APP_ID.match(app_id):
        raise InvalidInput("The app id is a bundle id or package name: 1-155 letters, digits, '.', '-' or '_'",
                           field="app_id")
    if APP_KEY in (metadata or {}):
        raise InvalidInput(f"Metadata member {APP_KEY!r} is Pinfold's (the tenant's app id)", field="metadata")
    if not _TENANT_ID.match(tenant_id):
        raise InvalidInput("Tenant id must be 1-64 letters, digits, '-' or '_'", field="tenant_id")
    region = region or ctx.settings.region
    if region not in ctx.settings.served_regions:  # its credentials could sign for nothing Pinfold serves
        raise InvalidInput(f"Region {region[:64]!r} is not served here (PINFOLD_REGION, PINFOLD_REGIONS)",
                           field="region")
    if sms_access.REGISTRY_KEY in (metadata or {}):
        raise InvalidInput(f"Metadata member {sms_access.REGISTRY_KEY!r} is Pinfold's (the tenant's SMS pool)",
                           field="metadata")
    sms = _sms_request(model, sms_country, sms_number_type, sms_message_type, sms_number) if sms_pool else None
    placed_sms = None
    if sms is not None and model != "ma-mp":  # the shared account's pool first: the registry row then names it
        with ctx.db.write() as conn:
            if tenants.get_tenant(conn, tenant_id) is not None:
                raise Conflict(f"Tenant {tenant_id} already exists in the registry")
            shared = organization.shared_account(ctx, conn)
        placed_sms = _setup_sms(ctx, caller, shared, region, tenant_id, sms)
    with ctx.db.write() as conn:
        if tenants.get_tenant(conn, tenant_id) is not None:
            raise Conflict(f"Tenant {tenant_id} already exists in the registry")
        placement = _place(ctx, conn, model, tenant_id, name or tenant_id, region, attribute_key, attribute_value)
        if model == "sa-sp":
            _check_shared_app(conn, tenant_id, placement["project_id"], app_id, own_push_credentials)
        now = ids.iso_now()
        extra = {sms_access.REGISTRY_KEY: placed_sms} if placed_sms else {}
        if app_id is not None:
            extra[APP_KEY] = app_id
        row = {"id": tenant_id, "name": name or tenant_id, "model": model, "region": region, "status": "active",
               "metadata": {**(metadata or {}), **extra}, "created_at": now, "updated_at": now, **placement}
        tenants.insert_tenant(conn, **row)
        if placed_sms:
            sms_access.claim(conn, placed_sms["account_id"], region, tenant_id, pool_id=placed_sms["pool_id"],
                             configuration_set=placed_sms["configuration_set"])
        creds = identity.issue_credentials(
            ctx, conn, name=f"tenant-{tenant_id}", account_id=row["account_id"], scope="tenant",
            project_id=row["project_id"], tenant_id=tenant_id,
        )
    if sms is not None and model == "ma-mp":  # its own new account: nothing to share, nothing to claim
        placed_sms = _setup_sms(ctx, caller, row["account_id"], region, tenant_id, sms)
        row["metadata"] = {**row["metadata"], sms_access.REGISTRY_KEY: placed_sms}
        with ctx.db.write() as conn:
            tenants.update_tenant(conn, tenant_id, metadata=row["metadata"])
    return {"tenant": public(row), "credentials": {**creds, "region": region}}


def _sms_request(model: str, country: str, number_type: str, message_type: str, number: str | None) -> SmsPool:
    """Check `--sms-pool`'s options before anything is written."""
    if number is not None:
        if model == "ma-mp":
            raise InvalidInput("An ma-mp tenant's account is new and holds no number yet: omit the SMS number",
                               field="sms_number")
        return SmsPool(message_type=message_type, number=number)
    try:
        country = sms_ids.check_country(country, "sms_country")
    except InvalidInput as error:
        raise InvalidInput(error.message, field="sms_country") from None
    if message_type not in ("TRANSACTIONAL", "PROMOTIONAL"):
        raise InvalidInput("The SMS message type is TRANSACTIONAL or PROMOTIONAL", field="sms_message_type")
    if number_type == "SIMULATOR" and message_type != "TRANSACTIONAL":
        raise InvalidInput("A SIMULATOR number carries TRANSACTIONAL messages only", field="sms_message_type")
    if sms_inventory.offer(country, number_type) is None:
        offered = ", ".join(sms_inventory.countries_offering(number_type)) or "no country"
        raise InvalidInput(f"{number_type[:20]} numbers are not offered in {country} (they are in: {offered})",
                           field="sms_number_type")
    return SmsPool(country, number_type, message_type)


def sms_set_name(tenant_id: str) -> str:
    """The tenant's own configuration set: `tenant-<id>`, shortened with a digest past 64 characters."""
    name = f"tenant-{tenant_id}"
    if len(name) <= 64:
        return name
    return f"tenant-{tenant_id[:48]}-{hashlib.sha256(tenant_id.encode()).hexdigest()[:8]}"


def _setup_sms(ctx: Context, caller: Caller, account_id: str, region: str, tenant_id: str, sms: SmsPool) -> dict:
    """A pool (its first identity a new or given number) and a configuration set for the tenant in
    `account_id`, both tagged with it. The ClientTokens derive from the tenant id, so a retry after a
    failure reuses what was made."""
    admin = Caller(principal_id=caller.principal_id, account_id=account_id, region=region, scope="account",
                   request_id=caller.request_id)
    tag = [{"Key": sms_access.TENANT_TAG, "Value": tenant_id}]
    token = f"pinfold-tenant-{tenant_id}"[:64]
    if sms.number is None:
        number = sms_identities.request_number(ctx, admin, {
            "IsoCountryCode": sms.country, "NumberType": sms.number_type, "MessageType": sms.message_type,
            "NumberCapabilities": ["SMS"], "ClientToken": token, "Tags": tag})
    else:
        number = sms_identities.describe_numbers(ctx, admin, [sms.number])["PhoneNumbers"][0]
    pool = sms_pools.create(ctx, admin, {"OriginationIdentity": number["PhoneNumberId"],
                                         "MessageType": number["MessageType"], "ClientToken": token, "Tags": tag})
    set_name = sms_set_name(tenant_id)
    try:
        sms_sets.create(ctx, admin, set_name, tag)
    except Conflict:  # left by an earlier attempt, or made by the operator: reuse it unless a tenant owns it
        with ctx.db.read() as conn:
            found = sms_sets.require(conn, admin, set_name)
        if sms_access.owner_of(found["document"]) not in (None, tenant_id):
            raise
    return {"account_id": account_id, "region": region, "pool_id": pool["PoolId"], "configuration_set": set_name,
            "phone_number_id": number["PhoneNumberId"], "phone_number": number["PhoneNumber"],
            "number_requested": sms.number is None}


def _place(ctx: Context, conn, model: str, tenant_id: str, name: str, region: str,
           attribute_key: str | None, attribute_value: str | None) -> dict:
    if model == "sa-sp":
        return _place_shared_project(ctx, conn, tenant_id, region, attribute_key, attribute_value)
    if attribute_key or attribute_value:
        raise InvalidInput("A tenant attribute applies only to the sa-sp model", field="attribute_key")
    if model == "sa-mp":
        account_id = organization.shared_account(ctx, conn)
    else:
        account_id = organization.create_account(ctx, conn, name=f"tenant {tenant_id}")["id"]
    project = project_service.insert(ctx, conn, account_id=account_id, region=region, name=name,
                                     tags={"tenant": tenant_id})
    return {"account_id": account_id, "project_id": project["id"], "attribute_key": None, "attribute_value": None}


def _place_shared_project(ctx: Context, conn, tenant_id: str, region: str, attribute_key: str | None,
                          attribute_value: str | None) -> dict:
    account_id = organization.shared_account(ctx, conn)
    project = _shared_project(conn, account_id, region)
    if project is None:
        project = project_service.insert(
            ctx, conn, account_id=account_id, region=region, name=SHARED_PROJECT_NAME,
            tenant_attribute_key=attribute_key or DEFAULT_TENANT_ATTRIBUTE,
        )
    key = project["tenant_attribute_key"]
    if attribute_key and attribute_key != key:
        raise InvalidInput(
            f"The shared project {project['id']} tells tenants apart by {key!r}; every sa-sp tenant uses it",
            field="attribute_key",
        )
    value = attribute_value or tenant_id
    if len(value) > 100:
        raise InvalidInput("The tenant attribute value must be at most 100 characters", field="attribute_value")
    if tenants.attribute_value_taken(conn, project["id"], value):
        raise Conflict(f"Another tenant in the shared project already uses {key}={value!r}")
    return {"account_id": account_id, "project_id": project["id"], "attribute_key": key, "attribute_value": value}


def _check_shared_app(conn, tenant_id: str, project_id: str, app_id: str | None, own_push_credentials: bool) -> None:
    """An sa-sp tenant shares the project's one push app and one in-app app (the design brief): one
    bringing push credentials of its own, or an app other than the project's, is refused. The
    project's app is the bundle id of its APNs channels, else the app its sa-sp tenants named."""
    instead = "onboard it as sa-mp or ma-mp, where the tenant's project is its own"
    if own_push_credentials:
        raise InvalidInput(f"Tenant {tenant_id} brings its own push credentials, but sa-sp tenants share one project "
                           f"and a project holds one set of push credentials (APNs, FCM, Baidu, ADM): {instead}",
                           field="own_push_credentials")
    if app_id is None:
        return
    apps = {channel["document"].get("BundleId") for channel in channels.list_project(conn, project_id)
            if channel["channel_type"] in push_credentials.APNS_KINDS} - {None}
    if not apps:
        apps = {(row["metadata"] or {}).get(APP_KEY) for row in tenants.list_tenants(conn, model="sa-sp")
                if row["project_id"] == project_id} - {None}
    if apps and app_id not in apps:
        raise InvalidInput(f"Tenant {tenant_id}'s app {app_id} is not the shared project's app "
                           f"({', '.join(sorted(apps))}): sa-sp tenants share one project, which holds one push app "
                           f"and one in-app app; {instead}", field="app_id")


def _shared_project(conn, account_id: str, region: str) -> dict | None:
    for row in projects.list_projects(conn, account_id, region, after=None, limit=100_000):
        if row["tenant_attribute_key"]:
            return row
    return None


def public(row: dict) -> dict:
    """A registry row as the admin API and CLI show it."""
    return {
        "tenant_id": row["id"], "name": row["name"], "model": row["model"], "account_id": row["account_id"],
        "region": row["region"], "project_id": row["project_id"], "attribute_key": row["attribute_key"],
        "attribute_value": row["attribute_value"], "status": row["status"], "metadata": row["metadata"],
        "created_at": row["created_at"], "updated_at": row["updated_at"],
    }


def list_all(ctx: Context, caller: Caller, *, status: str | None = None, model: str | None = None) -> list[dict]:
    caller.require_organization_admin()
    with ctx.db.read() as conn:
        return [public(row) for row in tenants.list_tenants(conn, status=status, model=model)]


def show(ctx: Context, caller: Caller, tenant_id: str) -> dict:
    caller.require_organization_admin()
    with ctx.db.read() as conn:
        return public(_require(conn, tenant_id))


def _require(conn, tenant_id: str) -> dict:
    row = tenants.get_tenant(conn, tenant_id)
    if row is None:
        raise NotFound(f"Tenant {tenant_id} is not in the registry")
    return row


def set_status(ctx: Context, caller: Caller, tenant_id: str, status: str) -> dict:
    """Suspend (keys refused, data kept) or resume a tenant."""
    caller.require_organization_admin()
    expected = {"suspended": "active", "active": "suspended"}[status]
    with ctx.db.write() as conn:
        row = _require(conn, tenant_id)
        if row["status"] != expected:
            raise Conflict(f"Tenant {tenant_id} is {row['status']}; only a {expected} tenant can become {status}")
        row.update(status=status, updated_at=ids.iso_now())
        tenants.update_tenant(conn, tenant_id, status=status, updated_at=row["updated_at"])
    ctx.key_cache.clear()
    return public(row)


def set_quota(ctx: Context, caller: Caller, tenant_id: str, *, daily: int | None = None, rate: float | None = None,
              sms_spend: float | None = None, clear: bool = False) -> dict:
    """Give a tenant its own share of its account's quotas (`pinfold tenants set-quota`): at most
    `daily` emails in any 24 hours and `rate` a second, taken on its sends beside the account's, and
    at most `sms_spend` US dollars of texts a calendar month; a tenant at its cap is refused alone.
    `clear` removes its caps."""
    caller.require_organization_admin()
    with ctx.db.write() as conn:
        _require(conn, tenant_id)
        if clear:
            tenant_quotas.clear(conn, tenant_id)
            tenants.update_tenant(conn, tenant_id, sms_spend_limit=None, updated_at=ids.iso_now())
            return {"tenant_id": tenant_id, "quota": None, "sms_spend_limit": None}
        held = tenant_quotas.get(conn, tenant_id)
        if daily is not None or rate is not None:
            daily = daily if daily is not None else (held["max_24h"] if held else None)
            rate = rate if rate is not None else (held["max_rate"] if held else None)
            if daily is None or rate is None or daily < 1 or not 0 < rate <= 1_000_000:
                raise InvalidInput("A tenant's email quota needs a daily cap of at least 1 and a rate above 0 (per "
                                   "second)", field="daily" if daily is None or daily < 1 else "rate")
            tenant_quotas.put(conn, tenant_id, max_24h=daily, max_rate=rate, now=time.time())
            held = tenant_quotas.get(conn, tenant_id)
        if sms_spend is not None:
            if not 0 <= sms_spend <= 1_000_000_000:
                raise InvalidInput("A tenant's SMS spend limit is 0 to 1,000,000,000 US dollars a month",
                                   field="sms_spend")
            tenants.update_tenant(conn, tenant_id, sms_spend_limit=float(sms_spend), updated_at=ids.iso_now())
        row = tenants.get_tenant(conn, tenant_id)
        sent = tenant_quotas.sent_last_24h(conn, tenant_id, time.time()) if held else 0
    quota = {"max_24h": held["max_24h"], "max_rate": held["max_rate"], "sent_last_24h": sent} if held else None
    return {"tenant_id": tenant_id, "quota": quota, "sms_spend_limit": row["sms_spend_limit"]}


def offboard(ctx: Context, caller: Caller, tenant_id: str) -> dict:
    """Remove the tenant's data as its model dictates, revoke its keys, keep the registry row; then
    release its SMS pool, number and configuration set (`_release_sms`). Offboarding a tenant again
    finishes an SMS release that an earlier attempt left undone; otherwise it is a Conflict."""
    caller.require_organization_admin()
    with ctx.db.read() as conn:
        row = _require(conn, tenant_id)
        placed = sms_access.registered(row["metadata"])
        pending = placed is not None and not placed.get("released_at")
        if row["status"] == "offboarded" and not pending:
            raise Conflict(f"Tenant {tenant_id} is already offboarded")
        if pending:
            _check_protection(conn, tenant_id, placed)
    removed: dict = {}
    if row["status"] != "offboarded":
        with ctx.db.write() as conn:
            row = _require(conn, tenant_id)
            if row["status"] == "offboarded":  # another offboarding got here first
                raise Conflict(f"Tenant {tenant_id} is already offboarded")
            now = ids.iso_now()
            revoked = identities.revoke_keys(conn, revoked_at=now, tenant_id=tenant_id)
            removed = {**_remove_data(conn, row, now), "revoked_keys": revoked}
            tenant_quotas.clear(conn, tenant_id)
            row.update(status="offboarded", updated_at=now)
            tenants.update_tenant(conn, tenant_id, status="offboarded", updated_at=now)
        ctx.key_cache.clear()
    if pending:
        removed["sms"] = _release_sms(ctx, caller, row, placed)
    return {"tenant": public(row), "removed": removed}


def _remove_data(conn, row: dict, now: str) -> dict:
    if row["model"] == "sa-sp":
        count = endpoints.delete_for_tenant(conn, row["project_id"], row["attribute_value"])
        project = projects.get_project_by_id(conn, row["project_id"])
        return {"endpoints": count, "campaigns": campaign_service.remove_tenant_campaigns(conn, project, row["id"]),
                "segments": segment_service.remove_tenant_segments(conn, project, row["id"]),
                "templates": template_service.remove_tenant_templates(conn, row["account_id"], row["id"])}
    if row["model"] == "sa-mp":
        remove_project(conn, projects.get_project_by_id(conn, row["project_id"]))
        return {"projects": [row["project_id"]],
                "templates": template_service.remove_tenant_templates(conn, row["account_id"], row["id"])}
    removed = []
    for project_id in projects.list_account_project_ids(conn, row["account_id"]):
        remove_project(conn, projects.get_project_by_id(conn, project_id))
        removed.append(project_id)
    accounts.update_account(conn, row["account_id"], status="closed")
    identities.revoke_keys(conn, revoked_at=now, account_id=row["account_id"])
    return {"projects": removed, "account_closed": row["account_id"]}


# --- releasing a tenant's SMS pool -------------------------------------------------------------------

def _placement_admin(caller: Caller, placed: dict) -> Caller:
    """An account administrator of the account holding the tenant's pool, for the operator's own calls."""
    return Caller(principal_id=caller.principal_id, account_id=placed["account_id"], region=placed["region"],
                  scope="account", request_id=caller.request_id)


def _number_was_requested(conn, tenant_id: str, placed: dict) -> bool:
    """Whether onboarding requested the pool's number for the tenant (to be released with it), rather than
    being given one the account had. Placements from before this was recorded: the number carries the
    tenant's tag only when onboarding requested it."""
    if "number_requested" in placed:
        return bool(placed["number_requested"])
    number_arn = sms_arn(placed["region"], placed["account_id"], sms_ids.PHONE_NUMBER, placed["phone_number_id"])
    return projects.get_tags(conn, number_arn).get(sms_access.TENANT_TAG) == tenant_id


def _check_protection(conn, tenant_id: str, placed: dict) -> None:
    """Refuse offboarding, before anything changes, while deletion protection guards what it would remove."""
    account_id, region = placed["account_id"], placed["region"]
    pool = sms_resources.get(conn, account_id, region, sms_ids.POOL, placed["pool_id"])
    guarded = [f"pool {placed['pool_id']}"] if pool and pool["document"].get("DeletionProtectionEnabled") else []
    number = sms_resources.get(conn, account_id, region, sms_ids.PHONE_NUMBER, placed["phone_number_id"])
    if number and number["document"].get("DeletionProtectionEnabled") and (
            _number_was_requested(conn, tenant_id, placed)):
        guarded.append(f"phone number {placed['phone_number_id']}")
    if guarded:
        raise Conflict(f"Tenant {tenant_id}'s SMS {' and '.join(guarded)} in account {account_id} "
                       f"{'has' if len(guarded) == 1 else 'have'} deletion protection on; nothing was changed. Turn "
                       "it off (UpdatePool / UpdatePhoneNumber with an account key) and offboard the tenant again")


def _release_sms(ctx: Context, caller: Caller, row: dict, placed: dict) -> dict:
    """Delete the tenant's pool (its number leaves it), release the number if onboarding requested it and
    no other pool took it since, delete the tenant's configuration set; tags go with each. Each step
    skips what is already gone, so a retry after a failure finishes the job."""
    admin, tenant_id = _placement_admin(caller, placed), row["id"]
    done = {"pool": None, "phone_number": None, "configuration_set": None}
    with ctx.db.read() as conn:
        pool = sms_resources.get(conn, admin.account_id, admin.region, sms_ids.POOL, placed["pool_id"])
        requested = _number_was_requested(conn, tenant_id, placed)
    if pool is not None and sms_access.owner_of(pool["document"]) in (None, tenant_id):
        done["pool"] = sms_pools.delete(ctx, admin, pool["id"])["PoolId"]
    with ctx.db.read() as conn:
        number = sms_resources.get(conn, admin.account_id, admin.region, sms_ids.PHONE_NUMBER,
                                   placed["phone_number_id"])
        found = sms_resources.get(conn, admin.account_id, admin.region, sms_sets.KIND, placed["configuration_set"])
    if requested and number is not None and not number["pool_id"]:
        done["phone_number"] = sms_identities.release_number(ctx, admin, number["id"])["PhoneNumberId"]
    if found is not None and sms_access.owner_of(found["document"]) in (None, tenant_id):
        done["configuration_set"] = sms_sets.delete(ctx, admin, found["id"])["ConfigurationSetName"]
    metadata = {**row["metadata"], sms_access.REGISTRY_KEY: {**placed, "released_at": ids.iso_now()}}
    with ctx.db.write() as conn:
        tenants.update_tenant(conn, tenant_id, metadata=metadata)
    row["metadata"] = metadata
    return done


# --- projects and credentials: what reaches across features -------------------------------------

def delete_project(ctx: Context, caller: Caller, project_id: str) -> dict:
    """DeleteApp: the project and everything in it, unless a tenant still lives there."""
    caller.check_can_delete_project(project_id)
    with ctx.db.write() as conn:
        row = project_service.require(conn, caller, project_id)
        holders = tenants.active_in_project(conn, project_id)
        if holders:
            raise Conflict(
                f"Project {project_id} is where tenant {holders[0]} lives; offboard the tenant instead"
            )
        tags = projects.get_tags(conn, project_arn(row["region"], row["account_id"], row["id"]))
        remove_project(conn, row)
    return project_service.response(row, tags)


def remove_project(conn, row: dict) -> None:
    """Delete a project with everything every feature keeps in it."""
    campaign_service.remove_project_campaigns(conn, row)
    segment_service.remove_project_segments(conn, row)
    endpoints.delete_project(conn, row["id"])
    streams.delete(conn, row["id"])
    channels.delete_project(conn, row["id"])
    projects.delete_tags(conn, project_arn(row["region"], row["account_id"], row["id"]))
    projects.delete_project(conn, row["id"])


def create_access_key(ctx: Context, caller: Caller, *, scope: str, account_id: str | None = None,
                      project_id: str | None = None, name: str = "operator") -> dict:
    """Mint credentials for an account, a project or the organization; administrators only."""
    caller.require_organization_admin()
    with ctx.db.write() as conn:
        management = organization.require_organization(conn)["management_account_id"]
        account_id = account_id or management
        organization.require_account(conn, account_id)
        if scope == "organization" and account_id != management:
            raise InvalidInput("Organization keys belong to the management account", field="account_id")
        if scope == "project":
            project = projects.get_project_by_id(conn, project_id or "")
            if project is None or project["account_id"] != account_id:
                raise NotFound(f"Project {project_id} does not exist in account {account_id}")
        return identity.issue_credentials(
            ctx, conn, name=name, account_id=account_id, scope=scope, project_id=project_id
        )
