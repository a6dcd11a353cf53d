"""The schema as SQLAlchemy Core tables. Migrations create it; this module only describes it.

A test compares these tables with the migrated database, so the two cannot drift apart.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

# JSON documents: JSONB on PostgreSQL (indexable later), JSON text on SQLite.
Json = sa.JSON().with_variant(JSONB(), "postgresql")
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
    sa.Column("record", Json, nullable=False),
    sa.Index("ix_event_outbox_project", "project_id", "seq"),
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
