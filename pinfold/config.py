"""One settings object, read from `PINFOLD_*` environment variables; nothing here has side effects."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path


class SettingError(ValueError):
    """A setting Pinfold cannot start with; the message names it and says what it takes."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".pinfold")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    region: str = "us-east-1"
    # More regions a request's credential scope may name (comma-separated); `region` is always served.
    regions: str = ""
    # Fernet key for secrets at rest; when empty, Pinfold keeps one in `<data_dir>/master.key`.
    master_key: str = field(default="", repr=False)
    default_project_cap: int = 100
    log_level: str = "info"
    log_format: str = "text"  # or "json": one JSON object per line
    # Any S3-compatible store for imports and exports (empty endpoint: AWS's own resolution).
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = field(default="", repr=False)
    # Where tenant credentials may import from and export to: comma-separated URL prefixes, with
    # {tenant_id} and {data_dir} filled in. Operators' credentials are not confined.
    tenant_storage_prefixes: str = "s3://pinfold-imports/{tenant_id}/,file://{data_dir}/imports/{tenant_id}/"
    # A running job whose heartbeat is older than this is taken to be abandoned (its runner died)
    # and is resumed by the next runner. Runners beat after every committed chunk.
    job_stale_seconds: float = 30.0
    # The lake every event lands in (analytics read it): file:// or s3:// (empty: <data_dir>/lake).
    lake_url: str = ""
    # Lake files are written once this many records wait, or the oldest has waited this long.
    lake_roll_rows: int = 20_000
    lake_roll_seconds: float = 10.0
    # Where an event stream's Kinesis ARN publishes (NATS JetStream), and where a Firehose ARN's
    # delivery stream writes Parquet ({name} is the delivery stream's name).
    nats_url: str = "nats://127.0.0.1:4222"
    # A sink (stream, event destination) failing this long stops holding the outbox back for the rest.
    sink_give_up_seconds: float = 86_400.0
    firehose_url: str = "file://{data_dir}/firehose/{name}"
    # Where domain identities' DKIM records are looked up: "host[:port]" (empty: the system's resolver),
    # and how long one lookup may take before the identity simply stays PENDING.
    dns_resolver: str = ""
    dns_timeout: float = 3.0

    # Outgoing email: empty relay = the built-in mailbox simulator (mail kept under <data_dir>/mailbox);
    # else smtp://[user:password@]host[:port][?starttls=require|opportunistic|off&connections=N].
    email_relay: str = field(default="", repr=False)
    # More relays by sending pool name ("pool=smtp://... pool2=smtp://..."): see email/adapters/registry.py.
    email_pools: str = field(default="", repr=False)
    mail_domain: str = "pinfold.localhost"  # right-hand side of the Message-IDs Pinfold writes
    # A refused-for-now message (4xx, relay down) is tried again after this long, doubling each time,
    # until it has waited email_max_delivery_seconds (a configuration set's MaxDeliverySeconds wins).
    email_retry_seconds: float = 30.0
    email_max_delivery_seconds: float = 14_400.0
    email_batch: int = 1000  # messages a sending pass claims at once (fewer, larger transactions)
    email_workers: int = 1  # sending threads per server: more help only when the relay is slow to answer
    # Where DSN bounces and ARF complaints are received ("host:port"; empty: no listener).
    feedback_smtp: str = ""
    # The address mail recipients reach Pinfold at, for open/click tracking and one-click unsubscribe.
    public_url: str = ""
    # SES v2 contact lists each owner may create: the account itself, and each confined tenant or
    # project sharing it (SES allows one per account; see docs/decisions.md).
    contact_lists_per_owner: int = 1

    @functools.cached_property
    def served_regions(self) -> frozenset[str]:
        """The regions requests may be signed for: PINFOLD_REGION and any listed in PINFOLD_REGIONS."""
        return frozenset(name.strip() for name in self.regions.split(",") if name.strip()) | {self.region}

    @property
    def resolved_lake_url(self) -> str:
        return self.lake_url or (self.data_dir / "lake").resolve().as_uri()

    def firehose_location(self, name: str) -> str:
        return self.firehose_url.format(data_dir=self.data_dir.resolve(), name=name)

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'pinfold.db').resolve()}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        """Build settings from the environment; keyword overrides win (used by the CLI flags)."""
        env = os.environ if env is None else env
        values = {
            "data_dir": Path(env.get("PINFOLD_DATA_DIR", ".pinfold")),
            "database_url": env.get("PINFOLD_DATABASE_URL", ""),
            "host": env.get("PINFOLD_HOST", "127.0.0.1"),
            "port": int(env.get("PINFOLD_PORT", "8080")),
            "region": env.get("PINFOLD_REGION", "us-east-1"),
            "regions": env.get("PINFOLD_REGIONS", ""),
            "master_key": env.get("PINFOLD_MASTER_KEY", ""),
            "default_project_cap": int(env.get("PINFOLD_DEFAULT_PROJECT_CAP", "100")),
            "log_level": env.get("PINFOLD_LOG_LEVEL", "info"),
            "log_format": env.get("PINFOLD_LOG_FORMAT", "text"),
            "s3_endpoint_url": env.get("PINFOLD_S3_ENDPOINT_URL", ""),
            "s3_region": env.get("PINFOLD_S3_REGION", "us-east-1"),
            "s3_access_key_id": env.get("PINFOLD_S3_ACCESS_KEY_ID", ""),
            "s3_secret_access_key": env.get("PINFOLD_S3_SECRET_ACCESS_KEY", ""),
            "tenant_storage_prefixes": env.get("PINFOLD_TENANT_STORAGE_PREFIXES",
                                               cls.tenant_storage_prefixes),
            "job_stale_seconds": float(env.get("PINFOLD_JOB_STALE_SECONDS", "30")),
            "lake_url": env.get("PINFOLD_LAKE_URL", ""),
            "lake_roll_rows": int(env.get("PINFOLD_LAKE_ROLL_ROWS", "20000")),
            "lake_roll_seconds": float(env.get("PINFOLD_LAKE_ROLL_SECONDS", "10")),
            "nats_url": env.get("PINFOLD_NATS_URL", cls.nats_url),
            "sink_give_up_seconds": float(env.get("PINFOLD_SINK_GIVE_UP_SECONDS", "86400")),
            "firehose_url": env.get("PINFOLD_FIREHOSE_URL", cls.firehose_url),
            "dns_resolver": env.get("PINFOLD_DNS_RESOLVER", ""),
            "dns_timeout": float(env.get("PINFOLD_DNS_TIMEOUT", "3")),
            "email_relay": env.get("PINFOLD_EMAIL_RELAY", ""),
            "email_pools": env.get("PINFOLD_EMAIL_POOLS", ""),
            "mail_domain": env.get("PINFOLD_MAIL_DOMAIN", cls.mail_domain),
            "email_retry_seconds": float(env.get("PINFOLD_EMAIL_RETRY_SECONDS", "30")),
            "email_max_delivery_seconds": float(env.get("PINFOLD_EMAIL_MAX_DELIVERY_SECONDS", "14400")),
            "email_batch": int(env.get("PINFOLD_EMAIL_BATCH", "1000")),
            "email_workers": int(env.get("PINFOLD_EMAIL_WORKERS", "1")),
            "feedback_smtp": env.get("PINFOLD_FEEDBACK_SMTP", ""),
            "public_url": env.get("PINFOLD_PUBLIC_URL", ""),
            "contact_lists_per_owner": int(env.get("PINFOLD_CONTACT_LISTS_PER_OWNER", "1")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
