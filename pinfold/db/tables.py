"""The schema as SQLAlchemy Core tables. Migrations create it; this module only describes it.

A test compares these tables with the migrated database, so the two cannot drift apart. The whole
schema stays in one module on purpose: one place to read it, whatever its length.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

# JSON documents: JSONB on PostgreSQL (indexable later), JSON text on SQLite.
Json = sa.JSON().with_variant(JSONB(), "postgresql")
# JSON that is only ever stored and read back whole (event records, message state): plain json on
# PostgreSQL, which takes it a third faster than jsonb (measured on the outbox).
JsonText = sa.JSON()
# Big autoincrement keys that are still SQLite rowid aliases.
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

organizations = sa.Table(
    "organizations", metadata,
    sa.Column("id", sa.String(34), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("management_account_id", sa.String(12), nullable=False),
    sa.Column("shared_account_id", sa.String(12)),
    sa.Column("created_at", sa.String(32), nullable=False),
)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.String(12), primary_key=True),
    sa.Column("organization_id", sa.String(34), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # management | shared | member
    sa.Column("status", sa.String(16), nullable=False),  # active | closed
    sa.Column("project_cap", sa.Integer),  # NULL: the installation default
    sa.Column("created_at", sa.String(32), nullable=False),
)

principals = sa.Table(
    "principals", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),  # organization | account | project | tenant
    sa.Column("project_id", sa.String(32)),
    sa.Column("tenant_id", sa.String(64)),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Index("ix_principals_tenant", "tenant_id"),
    sa.Index("ix_principals_account", "account_id"),
)

access_keys = sa.Table(
    "access_keys", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("principal_id", sa.String(32), nullable=False),
    sa.Column("secret_ciphertext", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # active | revoked
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("revoked_at", sa.String(32)),
    sa.Index("ix_access_keys_principal", "principal_id"),
)

projects = sa.Table(
    "projects", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("settings", Json, nullable=False),
    sa.Column("settings_modified_at", sa.String(32), nullable=False),
    # Set on an sa-sp shared project: the endpoint attribute that names the tenant.
    sa.Column("tenant_attribute_key", sa.String(50)),
    sa.Index("ix_projects_account_region", "account_id", "region", "created_at", "id"),
)

tags = sa.Table(
    "tags", metadata,
    sa.Column("resource_arn", sa.String(512), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

endpoints = sa.Table(
    "endpoints", metadata,
    sa.Column("project_id", sa.String(32), primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("channel_type", sa.String(24)),
    sa.Column("address", sa.Text),
    sa.Column("user_id", sa.Text),
    # The value of the project's tenant attribute (sa-sp), kept in a column so isolation is an index.
    sa.Column("tenant_value", sa.String(100)),
    sa.Column("document", Json, nullable=False),
    # EffectiveDate in microseconds since the epoch (NULL when absent or unparseable), for Recency.
    sa.Column("effective_at", sa.BigInteger),
    sa.Index("ix_endpoints_user", "project_id", "user_id"),
    sa.Index("ix_endpoints_tenant", "project_id", "tenant_value"),
    # Address before channel: the uniqueness check looks up a batch's addresses, whatever their
    # channels, in one indexed query (project_id = ? AND address IN (...)).
    sa.Index(
        "ux_endpoints_channel_address", "project_id", "address", "channel_type", unique=True,
        sqlite_where=sa.text("address IS NOT NULL"),
        postgresql_where=sa.text("address IS NOT NULL"),
    ),
)

# One row per value of every endpoint's Attributes and UserAttributes (field "Attributes.<name>" or
# "UserAttributes.<name>"), kept in step with the documents by the endpoint store, so that segment
# resolution starts from the endpoints holding a value instead of reading every document.
endpoint_attributes = sa.Table(
    "endpoint_attributes", metadata,
    sa.Column("project_id", sa.String(32), nullable=False),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("endpoint_id", sa.Text, nullable=False),
    # A copy of the endpoint's effective_at: recency narrows the values scanned before any probe.
    # The key carries it (SQLite keeps every column in the key's b-tree; PostgreSQL includes it), so
    # that scan never reads the table.
    sa.Column("effective_at", sa.BigInteger),
    sa.PrimaryKeyConstraint("project_id", "field", "value", "endpoint_id", postgresql_include=["effective_at"]),
    sqlite_with_rowid=False,
)

# Event records waiting for the stream pump: written in the same transaction as their cause.
event_outbox = sa.Table(
    "event_outbox", metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("project_id", sa.String(32), nullable=False),
    sa.Column("tenant_id", sa.String(64)),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("arrival_ms", sa.BigInteger, nullable=False),
    sa.Column("record", JsonText, nullable=False),
    sa.Index("ix_event_outbox_project", "project_id", "seq"),
    sqlite_autoincrement=True,  # never reuse a seq once the outbox has been trimmed empty (migration 0009)
)

tenants = sa.Table(
    "tenants", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("model", sa.String(8), nullable=False),  # sa-sp | sa-mp | ma-mp
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("project_id", sa.String(32), nullable=False),
    sa.Column("attribute_key", sa.String(50)),
    sa.Column("attribute_value", sa.String(100)),
    sa.Column("status", sa.String(16), nullable=False),  # active | suspended | offboarded
    sa.Column("metadata", Json, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
    # Reputation (migration 0019): the policy its rates are judged by, and whether its sending is paused.
    sa.Column("reputation_policy", sa.String(16), nullable=False, server_default="STANDARD"),
    sa.Column("sending_paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("sms_spend_limit", sa.Float),  # USD a calendar month, within its account's (None: no own limit)
    sa.Index("ix_tenants_project", "project_id"),
    sa.Index("ix_tenants_account", "account_id"),
)

segments = sa.Table(
    "segments", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("project_id", sa.String(32), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("segment_type", sa.String(16), nullable=False),  # DIMENSIONAL | IMPORT
    sa.Column("version", sa.Integer, nullable=False),  # the latest version
    # The owning tenant in an sa-sp shared project (NULL elsewhere): other tenants never see it.
    sa.Column("tenant_id", sa.String(64)),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("modified_at", sa.String(32), nullable=False),
    sa.Index("ix_segments_project", "project_id", "created_at", "id"),
)

# Every version of every segment, immutable once written: campaigns pin a version.
segment_versions = sa.Table(
    "segment_versions", metadata,
    sa.Column("segment_id", sa.String(32), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("definition", Json, nullable=False),  # Dimensions, SegmentGroups, ImportDefinition
    sa.Column("created_at", sa.String(32), nullable=False),
)

# Background jobs (imports now, exports next): progress and a resume checkpoint live here, so a
# job picked up again after a crash continues where its last committed chunk ended.
jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("job_type", sa.String(16), nullable=False),  # IMPORT | EXPORT
    sa.Column("project_id", sa.String(32), nullable=False),
    sa.Column("principal_id", sa.String(32), nullable=False),  # whose authority the job runs with
    sa.Column("status", sa.String(16), nullable=False),  # CREATED | INITIALIZING | PROCESSING | COMPLETED | FAILED
    sa.Column("definition", Json, nullable=False),
    sa.Column("progress", Json, nullable=False),  # counters, failures and the checkpoint
    sa.Column("segment_id", sa.String(32)),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("completed_at", sa.String(32)),
    sa.Column("heartbeat_at", sa.Float),  # epoch seconds of the runner's last sign of life
    sa.Index("ix_jobs_project", "project_id", "job_type", "created_at", "id"),
    sa.Index("ix_jobs_status", "status"),
)

# Members of imported segments (dimensional segments are computed, these are listed).
segment_members = sa.Table(
    "segment_members", metadata,
    sa.Column("segment_id", sa.String(32), primary_key=True),
    sa.Column("endpoint_id", sa.Text, primary_key=True),
)

# A project's event stream (PutEventStream): where its records go besides the lake.
event_streams = sa.Table(
    "event_streams", metadata,
    sa.Column("project_id", sa.String(32), primary_key=True),
    sa.Column("destination_stream_arn", sa.Text, nullable=False),
    sa.Column("role_arn", sa.Text, nullable=False),
    sa.Column("modified_at", sa.String(32), nullable=False),
    sa.Column("modified_by", sa.Text, nullable=False),
    sa.Index("ix_event_streams_destination", "destination_stream_arn"),
)

# The pump's progress per sink ("lake", or a destination ARN): every outbox record up to
# delivered_seq is there; inflight_* is the batch being written, redone exactly after a crash.
event_sinks = sa.Table(
    "event_sinks", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("delivered_seq", sa.BigInteger, nullable=False),
    sa.Column("inflight_first", sa.BigInteger),
    sa.Column("inflight_last", sa.BigInteger),
    sa.Column("failing_since", sa.Float),
    sa.Column("last_error", sa.Text),
)

# SES v2 email identities (domains and addresses) per account and region. Names are stored lowercased.
# A domain's DKIM private key is stored encrypted with the installation's master key.
email_identities = sa.Table(
    "email_identities", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("identity", sa.String(320), primary_key=True),
    sa.Column("identity_type", sa.String(16), nullable=False),  # EMAIL_ADDRESS | DOMAIN
    sa.Column("verification_status", sa.String(24), nullable=False),  # PENDING | SUCCESS | FAILED | ...
    sa.Column("verification_error", sa.String(32)),
    sa.Column("last_checked_at", sa.Float),  # epoch seconds
    sa.Column("last_success_at", sa.Float),
    sa.Column("dkim_origin", sa.String(24)),  # AWS_SES (Pinfold's own key) | EXTERNAL (the caller's)
    sa.Column("dkim_selector", sa.String(63)),
    sa.Column("dkim_public_key", sa.Text),  # base64 DER, as published in the DKIM TXT record
    sa.Column("dkim_private_ciphertext", sa.Text),
    sa.Column("dkim_key_length", sa.String(16)),
    sa.Column("dkim_key_created_at", sa.Float),
    sa.Column("dkim_status", sa.String(24)),
    sa.Column("dkim_signing_enabled", sa.Boolean, nullable=False),
    sa.Column("configuration_set", sa.String(64)),  # the identity's default configuration set
    sa.Column("created_at", sa.Float, nullable=False),
)

# SES account state per account and region: sandbox or production quota, sending switch,
# suppression reasons, the production-access request, and the quota counters' running state.
email_accounts = sa.Table(
    "email_accounts", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("production_access", sa.Boolean, nullable=False),
    sa.Column("sending_enabled", sa.Boolean, nullable=False),
    sa.Column("max_24h", sa.Integer, nullable=False),
    sa.Column("max_rate", sa.Float, nullable=False),
    sa.Column("suppressed_reasons", Json, nullable=False),
    sa.Column("details", Json),  # PutAccountDetails: the production access request
    # The send-rate limiter's theoretical arrival time (epoch seconds): sends are paid off at max_rate.
    sa.Column("rate_tat", sa.Float, nullable=False),
    # Messages counted in email_send_counts and not yet pruned: the rolling 24 h total.
    sa.Column("sent_in_window", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# Messages sent per account, region and minute (epoch minutes): the rolling 24-hour window.
email_send_counts = sa.Table(
    "email_send_counts", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("minute", sa.BigInteger, primary_key=True),
    sa.Column("sent", sa.BigInteger, nullable=False),
)

# Suppression lists: the account's (tenant_name "") and each SES tenant's. Addresses are lowercased.
suppressed_destinations = sa.Table(
    "suppressed_destinations", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("tenant_name", sa.String(64), primary_key=True),
    sa.Column("address", sa.String(320), primary_key=True),
    sa.Column("reason", sa.String(16), nullable=False),  # BOUNCE | COMPLAINT
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("message_id", sa.Text),
    sa.Column("feedback_id", sa.Text),
)

# SES tenants (CreateTenant), linked to the registry tenant of the same id or name when there is one.
ses_tenants = sa.Table(
    "ses_tenants", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("registry_tenant_id", sa.String(64)),
    sa.Column("sending_status", sa.String(16), nullable=False),  # ENABLED | REINSTATED | DISABLED
    sa.Column("suppression_scope", sa.String(16), nullable=False),  # ACCOUNT | TENANT
    sa.Column("suppressed_reasons", Json, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # Reputation (migration 0019): the policy (STANDARD | STRICT | NONE) and Pinfold's own pause
    # (AwsSesManagedStatus); `sending_status` above is the customer-managed one.
    sa.Column("reputation_policy", sa.String(16), nullable=False, server_default="STANDARD"),
    sa.Column("managed_status", sa.String(16), nullable=False, server_default="ENABLED"),
    sa.Index("ix_ses_tenants_registry", "registry_tenant_id"),
)

# Which identities, configuration sets and templates (by ARN) each SES tenant may use.
ses_tenant_resources = sa.Table(
    "ses_tenant_resources", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("tenant_name", sa.String(64), primary_key=True),
    sa.Column("resource_arn", sa.String(512), primary_key=True),
    sa.Column("resource_type", sa.String(24), nullable=False),  # EMAIL_IDENTITY | CONFIGURATION_SET | ...
    sa.Column("associated_at", sa.Float, nullable=False),
    sa.Index("ix_ses_tenant_resources_arn", "account_id", "region", "resource_arn"),
)

# A project's channels: one row per channel type (EMAIL, SMS, VOICE, APNS, GCM, ...) holding that
# channel's settings as its own JSON document, so new channel types need no schema change.
channels = sa.Table(
    "channels", metadata,
    sa.Column("project_id", sa.String(32), primary_key=True),
    sa.Column("channel_type", sa.String(24), primary_key=True),
    sa.Column("document", Json, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("modified_at", sa.String(32), nullable=False),
    sa.Column("modified_by", sa.Text, nullable=False),
)

# Message templates, per account and region (shared by its projects), one row per (name, type).
templates = sa.Table(
    "templates", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("template_type", sa.String(8), nullable=False),  # EMAIL | SMS | VOICE | PUSH | INAPP
    # The tenant that made it when its credentials share the account (sa-sp, sa-mp); NULL: the operator's.
    sa.Column("tenant_id", sa.String(64)),
    sa.Column("active_version", sa.Integer, nullable=False),
    sa.Column("latest_version", sa.Integer, nullable=False),
    # The highest number ever given: Pinpoint never reuses a deleted version's number.
    sa.Column("last_assigned", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("modified_at", sa.String(32), nullable=False),
    sa.Index("ux_templates_name", "account_id", "region", "name", "template_type", unique=True),
    sa.Index("ix_templates_tenant", "tenant_id"),
)

# Every version of a template: the type's request members (Subject, HtmlPart, ...) as a document.
template_versions = sa.Table(
    "template_versions", metadata,
    sa.Column("template_id", sa.String(32), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("document", Json, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("modified_at", sa.String(32), nullable=False),
)

# SES v2 configuration sets per account and region. `options` holds the Tracking, Delivery,
# Reputation, Vdm, Archiving and MessageSecurity options as the API names them; `suppression` is
# NULL while the account's suppression settings apply (SES's "no override").
configuration_sets = sa.Table(
    "configuration_sets", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("sending_enabled", sa.Boolean, nullable=False),
    sa.Column("suppression", Json),
    sa.Column("options", Json, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

# A configuration set's event destinations: the AWS definition as given, and the Pinfold sink it
# maps to (lake | nats | webhook | pinpoint | none) with that sink's target.
configuration_set_event_destinations = sa.Table(
    "configuration_set_event_destinations", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("configuration_set", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("matching_event_types", Json, nullable=False),
    sa.Column("definition", Json, nullable=False),
    sa.Column("sink", sa.String(16), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

# Operator-managed: the HTTPS webhook that stands in for each EventBridge bus (secret encrypted).
event_bus_webhooks = sa.Table(
    "event_bus_webhooks", metadata,
    sa.Column("event_bus_arn", sa.String(512), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret_ciphertext", sa.Text),
    sa.Column("updated_at", sa.String(32), nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
)

# SES v2 email templates per account and region (a namespace apart from Pinpoint's templates).
email_templates = sa.Table(
    "email_templates", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("subject", sa.Text),
    sa.Column("html", sa.Text),
    sa.Column("text", sa.Text),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)

# --- outgoing email (migration 0010) ---------------------------------------------------------------

email_batches = sa.Table(
    "email_batches", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("project_id", sa.String(32), nullable=False),
    sa.Column("tenant_id", sa.String(64)),
    sa.Column("ses_tenant", sa.String(64)),
    sa.Column("configuration_set", sa.String(64)),
    sa.Column("definition", JsonText, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("activity_id", sa.String(32)),  # the campaign activity that queued it (migration 0016)
    sa.Index("ix_email_batches_activity", "activity_id", sqlite_where=sa.text("activity_id IS NOT NULL"),
             postgresql_where=sa.text("activity_id IS NOT NULL")),
)

email_messages = sa.Table(
    "email_messages", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("batch_id", sa.String(40), nullable=False),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("recipient", JsonText, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("due_at", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("sent_at", sa.Float),
    sa.Column("detail", sa.Text),
    sa.Column("mail", JsonText),
    sa.Column("created_at", sa.Float, nullable=False),
    # 0: transactional sends, 1: campaign sends; each lane is claimed on its own (migration 0016).
    sa.Column("lane", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Index("ix_email_messages_due", "lane", "due_at", sqlite_where=sa.text("status IN ('queued', 'sending')"),
             postgresql_where=sa.text("status IN ('queued', 'sending')")),
    sa.Index("ix_email_messages_leased", "lane", "due_at", sqlite_where=sa.text("status = 'sending'"),
             postgresql_where=sa.text("status = 'sending'")),
    sa.Index("ix_email_messages_batch", "batch_id"),
    sa.Index("ix_email_messages_created", "created_at"),
)

# --- SES v2 contact lists and contacts (migration 0012) ---------------------------------------------

contact_lists = sa.Table(
    "contact_lists", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(80)),
    sa.Column("description", sa.Text),
    sa.Column("topics", Json, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("contact_list", sa.String(64), primary_key=True),
    sa.Column("address_key", sa.String(320), primary_key=True),
    sa.Column("email_address", sa.String(320), nullable=False),
    sa.Column("topic_preferences", Json, nullable=False),
    sa.Column("unsubscribe_all", sa.Boolean, nullable=False),
    sa.Column("attributes_data", sa.Text),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)

# --- SMS (End User Messaging SMS and Pinpoint's SMS channel; migration 0015) ------------------------

# An account's SMS resources in a region, each its AWS information shape as a document: phone
# numbers, sender ids, pools, opt-out lists, configuration sets (with their event destinations),
# verified destination numbers and the account's own SMS settings (kind "account"). `name` is what
# callers look a resource up by besides its id (a phone number's E.164 number, a list's name).
sms_resources = sa.Table(
    "sms_resources", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("pool_id", sa.String(64)),  # a phone number's pool (a number is in at most one)
    sa.Column("document", Json, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_sms_resources_name", "kind", "name", "account_id", "region"),  # also finds a number in any account
)

# Opted-out destination numbers, per opt-out list. A number opted back in keeps its row (opted_out
# false, removed_at set): it may be removed again only 30 days later, as AWS documents.
sms_opted_out_numbers = sa.Table(
    "sms_opted_out_numbers", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("list_name", sa.String(64), primary_key=True),
    sa.Column("number", sa.String(20), primary_key=True),
    sa.Column("opted_out", sa.Boolean, nullable=False),
    sa.Column("end_user", sa.Boolean, nullable=False),  # the recipient opted out (STOP), not the API
    sa.Column("opted_out_at", sa.Float, nullable=False),
    sa.Column("removed_at", sa.Float),
)

# SMS spend per account, region and calendar month (UTC), in US dollars.
sms_spend = sa.Table(
    "sms_spend", metadata,
    sa.Column("account_id", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),  # YYYY-MM
    sa.Column("dollars", sa.Float, nullable=False),
)

# The SMS sending queue: one row per text message, claimed under a lease like email's.
sms_messages = sa.Table(
    "sms_messages", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("project_id", sa.String(32)),
    sa.Column("tenant_id", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("due_at", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("message", JsonText, nullable=False),  # destination, origination, body, type, parts, price...
    sa.Column("detail", sa.Text),
    sa.Column("remote_id", sa.String(128)),  # the gateway's id, which delivery reports name
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("sent_at", sa.Float),
    sa.Column("lane", sa.SmallInteger, nullable=False, server_default="0"),  # as email's (migration 0016)
    sa.Column("activity_id", sa.String(32)),  # the campaign activity that queued it (migration 0016)
    sa.Index("ix_sms_messages_due", "lane", "due_at", sqlite_where=sa.text("status IN ('queued', 'sending')"),
             postgresql_where=sa.text("status IN ('queued', 'sending')")),
    sa.Index("ix_sms_messages_leased", "lane", "due_at", sqlite_where=sa.text("status = 'sending'"),
             postgresql_where=sa.text("status = 'sending'")),
    sa.Index("ix_sms_messages_activity", "activity_id", sqlite_where=sa.text("activity_id IS NOT NULL"),
             postgresql_where=sa.text("activity_id IS NOT NULL")),
    sa.Index("ix_sms_messages_remote", "remote_id"),
    sa.Index("ix_sms_messages_created", "created_at"),
)

# --- push (migration 0017) ----------------------------------------------------------------------------

def _queue_table(name: str) -> sa.Table:
    """A channel's queue of the TableQueue discipline (sending/queue.py): one row per message, what the
    send resolved in `message`, the lane and the due time indexed as the claims read them."""
    waiting, leased = sa.text("status IN ('queued', 'sending')"), sa.text("status = 'sending'")
    named = sa.text("activity_id IS NOT NULL")
    return sa.Table(
        name, metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("message", JsonText, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("remote_id", sa.String(256)),  # the remote's id: APNs' apns-id, FCM's message name
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("sent_at", sa.Float),
        sa.Column("lane", sa.SmallInteger, nullable=False),
        sa.Column("activity_id", sa.String(32)),
        sa.Index(f"ix_{name}_due", "lane", "due_at", sqlite_where=waiting, postgresql_where=waiting),
        sa.Index(f"ix_{name}_leased", "lane", "due_at", sqlite_where=leased, postgresql_where=leased),
        sa.Index(f"ix_{name}_activity", "activity_id", sqlite_where=named, postgresql_where=named),
        sa.Index(f"ix_{name}_created", "created_at"),
    )


# Outgoing pushes: one row per push recipient of a Pinpoint send, with its state (push/store/messages.py);
# platform, token, payload, headers, endpoint and expiry in `message`.
push_messages = _queue_table("push_messages")

# --- custom channels (migration 0018) -----------------------------------------------------------------

# Outgoing webhook calls of the custom channel, each carrying up to 50 endpoints of a campaign's slice:
# the URL, the payload, the endpoint ids and the expiry in `message`.
custom_calls = _queue_table("custom_calls")

# The custom channel's call rates: one cell-rate limiter per account and per tenant.
custom_call_rates = sa.Table(
    "custom_call_rates", metadata,
    sa.Column("key", sa.String(160), primary_key=True),  # "account:<id>/<region>" or "tenant:<id>"
    sa.Column("tat", sa.Float, nullable=False),  # the limiter's theoretical arrival time
)

# --- reputation (migration 0019) ---------------------------------------------------------------------

# Sends, hard bounces and complaints per scope (account, configuration set, SES tenant, registry tenant)
# and hour (epoch hours): the windows rates are judged over are sums of these.
reputation_counts = sa.Table(
    "reputation_counts", metadata,
    sa.Column("scope", sa.String(16), primary_key=True),  # account | config_set | ses_tenant | tenant
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("hour", sa.BigInteger, primary_key=True),
    sa.Column("sends", sa.BigInteger, nullable=False),
    sa.Column("bounces", sa.BigInteger, nullable=False),
    sa.Column("complaints", sa.BigInteger, nullable=False),
)

# The level each scope's rates were last judged at (NONE | REVIEW | PAUSE): a crossing is noticed once.
reputation_levels = sa.Table(
    "reputation_levels", metadata,
    sa.Column("scope", sa.String(16), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("bounce_level", sa.String(8), nullable=False),
    sa.Column("complaint_level", sa.String(8), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# Every finding, pause and resume, with who made it (pinfold for automatic ones, else the principal).
reputation_history = sa.Table(
    "reputation_history", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # FINDING | PAUSED | RESUMED
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("detail", JsonText, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("ix_reputation_history_key", "scope", "key", "at"),
)

# The outbox position the tally has counted up to, moved in the transaction that counts.
reputation_cursor = sa.Table(
    "reputation_cursor", metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

# A tenant's own share of its shared account's email quota (`pinfold tenants set-quota`): its rolling
# 24-hour total and rate limiter, as email_accounts keeps the account's. A tenant without a row has none.
tenant_quotas = sa.Table(
    "tenant_quotas", metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("max_24h", sa.BigInteger, nullable=False),
    sa.Column("max_rate", sa.Float, nullable=False),
    sa.Column("sent_in_window", sa.BigInteger, nullable=False),
    sa.Column("rate_tat", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# Messages each capped tenant sent per minute (epoch minutes): its rolling 24-hour window.
tenant_send_counts = sa.Table(
    "tenant_send_counts", metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("minute", sa.BigInteger, primary_key=True),
    sa.Column("sent", sa.BigInteger, nullable=False),
)

# SMS spend per tenant and calendar month (UTC), in US dollars, beside its account's (sms_spend).
sms_tenant_spend = sa.Table(
    "sms_tenant_spend", metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("dollars", sa.Float, nullable=False),
)

# Requests for a higher email quota (`pinfold accounts request-quota`), the Support-ticket step of the
# design brief made explicit: PENDING until the operator grants or refuses it, kept as the history.
quota_requests = sa.Table(
    "quota_requests", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("max_24h", sa.BigInteger, nullable=False),
    sa.Column("max_rate", sa.Float, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # PENDING | GRANTED | REFUSED
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("requested_at", sa.Float, nullable=False),
    sa.Column("decided_by", sa.String(64)),
    sa.Column("decided_at", sa.Float),
    sa.Column("note", sa.Text),
    sa.Index("ix_quota_requests_account", "account_id", "requested_at"),
)

# --- campaigns (migration 0016) ----------------------------------------------------------------------

# One row per campaign: its latest version, its state and when the scheduler next looks at it.
campaigns = sa.Table(
    "campaigns", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("project_id", sa.String(32), nullable=False),
    # The owning tenant in an sa-sp shared project (NULL elsewhere), as for segments.
    sa.Column("tenant_id", sa.String(64)),
    sa.Column("version", sa.Integer, nullable=False),  # the latest version
    sa.Column("segment_id", sa.String(32), nullable=False),
    sa.Column("frequency", sa.String(16), nullable=False),  # ONCE | HOURLY | ... | EVENT | IN_APP_EVENT
    # SCHEDULED | EXECUTING | PENDING_NEXT_RUN | COMPLETED | PAUSED | DELETED | INVALID
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("runs", sa.Integer, nullable=False),  # how many runs have started
    # Epoch seconds when the scheduler should next look at it (a run is due); NULL when nothing will be.
    sa.Column("next_run_at", sa.Float),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("modified_at", sa.String(32), nullable=False),
    sa.Index("ix_campaigns_project", "project_id", "created_at", "id"),
    sa.Index("ix_campaigns_due", "next_run_at", sqlite_where=sa.text("next_run_at IS NOT NULL"),
             postgresql_where=sa.text("next_run_at IS NOT NULL")),
    sa.Index("ix_campaigns_segment", "segment_id"),
)

# Every version of every campaign: the WriteCampaignRequest as accepted, with the project's default
# limits and quiet time copied in at creation (later changes to the defaults do not reach it).
campaign_versions = sa.Table(
    "campaign_versions", metadata,
    sa.Column("campaign_id", sa.String(32), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", Json, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

# One row per run per treatment (Pinpoint's activities). The unique key is what makes a run start
# once; `cursor` (the last endpoint id planned) moves in the transaction that queues its messages.
campaign_activities = sa.Table(
    "campaign_activities", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("campaign_id", sa.String(32), nullable=False),
    sa.Column("project_id", sa.String(32), nullable=False),
    sa.Column("run", sa.Integer, nullable=False),
    sa.Column("treatment_id", sa.String(8), nullable=False),  # "0" is the default treatment
    sa.Column("campaign_version", sa.Integer, nullable=False),
    sa.Column("segment_version", sa.Integer),  # resolved once, when the activity starts
    # PENDING | INITIALIZING | RUNNING | PAUSED | CANCELLED | COMPLETED
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("result", sa.String(8)),  # SUCCESS | FAIL
    sa.Column("scheduled_at", sa.Float, nullable=False),  # epoch seconds of the run's scheduled start
    sa.Column("started_at", sa.Float),
    sa.Column("ended_at", sa.Float),
    sa.Column("cursor", sa.Text),
    sa.Column("counts", Json, nullable=False),  # endpoint counts, execution metrics, time zones done
    sa.Column("lease_until", sa.Float),  # held by a scheduler until then
    sa.UniqueConstraint("campaign_id", "run", "treatment_id", name="ux_campaign_activities_run"),
    sa.Index("ix_campaign_activities_campaign", "campaign_id", "run", "treatment_id"),
    sa.Index("ix_campaign_activities_open", "scheduled_at",
             sqlite_where=sa.text("state IN ('PENDING', 'INITIALIZING', 'RUNNING')"),
             postgresql_where=sa.text("state IN ('PENDING', 'INITIALIZING', 'RUNNING')")),
)

# Messages a campaign has targeted at each endpoint, for its Daily and Total limits (kept only for
# campaigns that have one).
campaign_endpoint_counts = sa.Table(
    "campaign_endpoint_counts", metadata,
    sa.Column("campaign_id", sa.String(32), primary_key=True),
    sa.Column("endpoint_id", sa.Text, primary_key=True),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("day", sa.String(10), nullable=False),  # the UTC day `day_count` counts
    sa.Column("day_count", sa.Integer, nullable=False),
)

# Events that matched an event-triggered campaign's filter, waiting to be planned (written by the
# pump, so a trigger survives a crash between the event and the message).
campaign_triggers = sa.Table(
    "campaign_triggers", metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("campaign_id", sa.String(32), nullable=False),
    sa.Column("endpoint_id", sa.Text, nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("event_ms", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("campaign_id", "event_id", "endpoint_id", name="ux_campaign_triggers_event"),
    sqlite_autoincrement=True,
)
