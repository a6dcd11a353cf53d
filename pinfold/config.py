"""Every `PINFOLD_*` setting, declared once (type, default, meaning), and how they are read.

`Settings(...)` takes only what it is given (tests and benchmarks build them so). `Settings.from_env()`
is how a process reads its own, from these places, each overriding the one before:

1. the defaults declared below;
2. the TOML file `PINFOLD_CONFIG` names, keyed by the setting's name without the prefix
   (`log_level = "debug"`);
3. a `.env` file in the current directory (`PINFOLD_LOG_LEVEL=debug` lines; other lines are left
   to whatever else reads the file);
4. the process environment;
5. `PINFOLD_<NAME>_FILE`: the named file's contents, for secrets kept in files (Docker and
   Kubernetes secrets); setting both `PINFOLD_<NAME>` and `PINFOLD_<NAME>_FILE` is refused;
6. the command's own flags (`--port`, `--data-dir`).

A value of the wrong type or out of range raises SettingError, naming the setting and what it takes
(the commands then exit 2). A `PINFOLD_*` name that is no setting is kept as a notice, with the
closest known name, which the process logs once its logging is configured.
"""

from __future__ import annotations

import difflib
import functools
import os
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PREFIX = "PINFOLD_"
# What a process may run beside requests (PINFOLD_SERVICES); each of the first three runs in one
# process per database at a time (by lease), sending in every process that runs it.
SERVICES = ("jobs", "pump", "campaigns", "sending", "campaign-sending")
MASK = "********"
# PINFOLD_* names that are not settings of a running Pinfold: the config file's own name, a command's
# option (`pinfold ses webhook-verify`), and the test suite's choice of database.
NOT_SETTINGS = frozenset({"PINFOLD_CONFIG", "PINFOLD_WEBHOOK_SECRET", "PINFOLD_TEST_DATABASE"})


class SettingError(ValueError):
    """A setting Pinfold cannot start with; the message names it and says what it takes."""


def setting(default: Any, meaning: str, *, shown: str | None = None, secret: bool = False, **limits) -> Any:
    """One setting's declaration: `meaning` is what the README and `pinfold config show` print, `shown`
    the default as people should read it (when the value itself says little), `secret` masks it."""
    return Field(default, description=meaning, repr=not secret, json_schema_extra={"shown": shown, "secret": secret},
                 **limits)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=False)

    data_dir: Path = setting(Path(".pinfold"), "data directory (SQLite file, master key, lake, mailbox)",
                             shown="./.pinfold")
    database_url: str = setting("", "e.g. `postgresql://user@host/db`", shown="SQLite in the data directory")
    host: str = setting("127.0.0.1", "the address `pinfold serve` listens on")
    port: int = setting(8080, "the port `pinfold serve` listens on", ge=0, le=65535)
    workers: int = setting(1, "server processes sharing the database (`pinfold serve --workers N`)", ge=1, le=64)
    services: str = setting("all", "the background work this process runs, comma-separated from `jobs` (imports "
                                   "and exports), `pump` (events to the lake and streams), `campaigns` (the "
                                   "scheduler), `sending` (SendEmail, SendMessages and texts) and `campaign-sending`; "
                                   "`all` or `none`")
    worker_metrics_port: int | None = setting(
        None, "the port `pinfold worker` answers Prometheus scrapes on (`--metrics-port`)", shown="none", ge=1,
        le=65535)
    region: str = setting("us-east-1", "region of tenant placements and printed credentials")
    regions: str = setting("", "more regions requests may be signed for (comma-separated); `PINFOLD_REGION` is "
                               "always served", shown="none")
    master_key: str = setting("", "Fernet key that encrypts secrets at rest", shown="kept in the data directory",
                              secret=True)
    default_project_cap: int = setting(100, "projects per account and region (raise per account with "
                                            "`pinfold accounts set-project-cap`)", ge=1)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = setting(
        "info", "`debug`, `info`, `warning`, `error` or `critical`")
    log_format: Literal["text", "json"] = setting(
        "text", "`text` (a readable line each) or `json` (one JSON object per line, uvicorn's lines included). "
                "At `info`, each AWS call writes one `pinfold.access` line: service, operation, status, error "
                "code, account, tenant, milliseconds, and the request id its response carries")
    s3_endpoint_url: str = setting("", "the S3-compatible store that s3:// imports, exports and the lake use "
                                       "(`AWS_ENDPOINT_URL` and profile endpoints are ignored: those point clients "
                                       "at Pinfold)", shown="AWS's own")
    s3_region: str = setting("us-east-1", "that store's region")
    s3_access_key_id: str = setting("", "that store's access key id", shown="the AWS default chain")
    s3_secret_access_key: str = setting("", "that store's secret key", shown="the AWS default chain", secret=True)
    tenant_storage_prefixes: str = setting(
        "s3://pinfold-imports/{tenant_id}/,file://{data_dir}/imports/{tenant_id}/",
        "where tenant credentials may import from and export to, comma-separated (URLs are resolved first: `..`, "
        "`%2e%2e` and symlinks cannot leave them); operators' credentials are not confined")
    job_stale_seconds: float = setting(30.0, "a running import or export whose runner has not reported for this "
                                             "long is resumed by another", gt=0)
    lake_url: str = setting("", "where every event record is kept as Parquet (file:// or s3://)",
                            shown="<data dir>/lake")
    lake_roll_rows: int = setting(20_000, "a lake file is written once this many records wait ...", ge=1)
    lake_roll_seconds: float = setting(10.0, "... or once the oldest has waited this long", gt=0)
    nats_url: str = setting("nats://127.0.0.1:4222", "the NATS JetStream server Kinesis event streams publish to")
    sink_give_up_seconds: float = setting(86_400.0, "a stream or event destination failing this long stops holding "
                                                    "the outbox back (it then misses records)", gt=0)
    firehose_url: str = setting("file://{data_dir}/firehose/{name}",
                                "where a Firehose event stream writes ({name}: the delivery stream's name)")
    dns_resolver: str = setting("", "`host[:port]` where domain identities' DKIM records are looked up",
                                shown="the system's resolver")
    dns_timeout: float = setting(3.0, "how long one DKIM lookup may take before the identity stays PENDING", gt=0)
    email_relay: str = setting(
        "", "`smtp://[user:password@]host[:port][?starttls=require|opportunistic|off&connections=N]`",
        shown="the built-in mailbox simulator", secret=True)
    email_pools: str = setting("", "more relays by sending pool, `pool=smtp://... pool2=smtp://...` (a "
                                   "configuration set's SendingPoolName picks one)", shown="none", secret=True)
    mail_domain: str = setting("pinfold.localhost", "the right-hand side of the Message-IDs Pinfold writes")
    email_retry_seconds: float = setting(30.0, "the first wait before a refused-for-now message is tried again "
                                               "(doubling each time)", gt=0)
    email_max_delivery_seconds: float = setting(14_400.0, "how long a message keeps being tried before it soft "
                                                          "bounces (a configuration set's MaxDeliverySeconds wins)",
                                                gt=0)
    email_batch: int = setting(1000, "messages a sending pass claims at once", ge=1, le=100_000)
    sending_lease_seconds: float = setting(20.0, "how long a sending pass holds its messages without a heartbeat "
                                                 "(one beats every quarter of it): a stopped worker's messages go "
                                                 "out again this long after its last beat", ge=2, le=600)
    email_workers: int = setting(1, "sending threads per process (more help only when the relay is slow to answer)",
                                 ge=1, le=64)
    sms_gateway: str = setting(
        "", "where texts go: Kannel's `http://user:password@host:port/cgi-bin/sendsms` (with `?smsc=...` to route, "
            "`connections=N` requests at once, `reports=off` to ask for no delivery reports)",
        shown="the built-in carrier simulator", secret=True)
    push_delivery: Literal["simulator", "providers"] = setting(
        "simulator", "where pushes go: `simulator` keeps them under the data directory (`pinfold push list`); "
                     "`providers` sends to APNs and FCM with each project's channel credentials")
    apns_url: str = setting("https://api.push.apple.com", "APNs' production address (`providers`)")
    apns_sandbox_url: str = setting("https://api.sandbox.push.apple.com", "APNs' sandbox address, for the "
                                                                          "APNS_SANDBOX and APNS_VOIP_SANDBOX channels")
    fcm_url: str = setting("https://fcm.googleapis.com", "FCM HTTP v1's address (`providers`)")
    push_ca_bundle: str = setting("", "a PEM file of the certificate authorities push providers are checked "
                                      "against", shown="the system's")
    reputation_tracking: bool = setting(
        True, "count bounces and complaints per account, configuration set and tenant, and pause by policy "
              "(off: nothing is counted or paused)")
    reputation_min_volume: int = setting(
        200, "sends a bounce or complaint window must hold before its rate is judged (SES's representative "
             "volume)", ge=1, le=1_000_000)
    reputation_count_simulator: bool = setting(
        True, "count mail to the built-in simulator's addresses in reputation (SES does not), so pausing can be "
              "tried on the embedded defaults")
    reputation_webhook: str = setting("", "a URL told of every reputation finding (a signed JSON POST)",
                                      shown="none")
    custom_calls_per_second: float = setting(
        20.0, "custom-channel webhook calls per second per account (each call carries up to 50 endpoints)", gt=0,
        le=10_000)
    custom_tenant_calls_per_second: float = setting(
        5.0, "custom-channel webhook calls per second per tenant, within its account's", gt=0, le=10_000)
    custom_timeout_seconds: float = setting(10.0, "how long a custom-channel webhook call may take", gt=0, le=120)
    feedback_smtp: str = setting("", "`host:port` where Pinfold receives bounce (DSN) and complaint (ARF) reports",
                                 shown="none")
    public_url: str = setting("", "where recipients reach Pinfold's open, click and unsubscribe links",
                              shown="http://HOST:PORT")
    contact_lists_per_owner: int = setting(1, "SES contact lists the account, and each tenant or project key "
                                              "sharing it, may create", ge=1)

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _notices: list[str] = PrivateAttr(default_factory=list)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings: PydanticBaseSettingsSource, **_others):
        """Only what the constructor is given: `from_env` gathers the rest itself, so it can say where
        each value came from and which names it did not know."""
        return (init_settings,)

    @field_validator("log_level", "log_format", "push_delivery", mode="before")
    @classmethod
    def _lower(cls, value):
        return value.lower() if isinstance(value, str) else value

    @field_validator("services")
    @classmethod
    def _known_services(cls, value: str):
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = [name for name in names if name not in (*SERVICES, "all", "none")]
        if unknown or not names or (len(names) > 1 and {"all", "none"} & set(names)):
            raise ValueError(f"{value!r}: name some of {', '.join(SERVICES)}, or `all`, or `none`")
        return ",".join(names)

    @property
    def background_services(self) -> tuple[str, ...]:
        """The background services this process runs, in SERVICES order."""
        names = set(self.services.split(","))
        return SERVICES if "all" in names else tuple(name for name in SERVICES if name in names)

    @field_validator("worker_metrics_port", mode="before")
    @classmethod
    def _empty_is_none(cls, value):
        return None if value == "" else value

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

    @property
    def notices(self) -> list[str]:
        """What reading the settings found worth saying (unknown names), for the log."""
        return list(self._notices)

    def replace(self, **changes) -> Settings:
        """These settings with some changed, checked again."""
        return type(self)(**{**{name: getattr(self, name) for name in type(self).model_fields}, **changes})

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, cwd: Path | None = None, **overrides) -> Settings:
        """Read the settings from the places the module docstring lists; keyword overrides (the CLI
        flags) win when not None. SettingError if a value is refused."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        notices: list[str] = []
        if env.get("PINFOLD_CONFIG"):
            for key, value in _toml(Path(env["PINFOLD_CONFIG"])).items():
                if key in cls.model_fields:
                    values[key], sources[key] = value, "config file"
                else:
                    notices.append(_unknown(key, list(cls.model_fields), f"in {env['PINFOLD_CONFIG']}"))
        dotenv = _dotenv((cwd or Path.cwd()) / ".env")
        for origin, names in ((".env", dotenv), ("environment", env)):
            for name, value in names.items():
                field = _field_of(name)
                if field in cls.model_fields:
                    values[field], sources[field] = value, origin
                elif name.startswith(PREFIX) and name not in NOT_SETTINGS and not _is_file_variable(name):
                    notices.append(_unknown(name, [PREFIX + known.upper() for known in cls.model_fields],
                                            "in .env" if origin == ".env" else "in the environment"))
        for name, path in {**dotenv, **env}.items():
            if _is_file_variable(name):
                field = _field_of(name.removesuffix("_FILE"))
                if field not in cls.model_fields:
                    notices.append(_unknown(name, [PREFIX + known.upper() + "_FILE" for known in cls.model_fields],
                                            "in the environment"))
                    continue
                if name.removesuffix("_FILE") in env or name.removesuffix("_FILE") in dotenv:
                    raise SettingError(f"set {name.removesuffix('_FILE')} or {name}, not both")
                values[field], sources[field] = _read_secret(name, path), f"file {path}"
        for field, value in overrides.items():
            if value is not None:
                values[field], sources[field] = value, "command line"
        try:
            settings = cls(**values)
        except ValidationError as error:
            raise SettingError(_explain(error, cls)) from None
        settings._sources.update(sources)
        settings._notices.extend(notices)
        return settings

    def described(self) -> list[dict]:
        """Each setting's name, effective value (secrets masked) and where it came from, for
        `pinfold config show`."""
        rows = []
        for field, info in type(self).model_fields.items():
            value = getattr(self, field)
            if not value and field in _RESOLVED:  # what the empty default stands for
                value = getattr(self, _RESOLVED[field])
            shown = "" if value is None else str(value)
            if (info.json_schema_extra or {}).get("secret") and shown:
                shown = MASK
            rows.append({"setting": PREFIX + field.upper(), "value": mask_url_password(shown),
                         "source": self._sources.get(field, "default")})
        return rows


# Settings whose empty default stands for a value worked out from others.
_RESOLVED = {"database_url": "resolved_database_url", "lake_url": "resolved_lake_url",
             "public_url": "resolved_public_url"}


def settings_table() -> str:
    """The README's table of settings, made from the declarations above (a test keeps them equal)."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for field, info in Settings.model_fields.items():
        extra = info.json_schema_extra or {}
        default = extra.get("shown") or f"`{info.default}`"
        meaning = (info.description or "").replace("|", "\\|")
        lines.append(f"| `{PREFIX}{field.upper()}` | {default} | {meaning} |")
    return "\n".join(lines) + "\n"


def mask_url_password(value: str) -> str:
    """`scheme://user:password@host` with the password masked; any other text unchanged."""
    if "://" not in value or "@" not in value:
        return value
    parts = urlsplit(value)
    if parts.password is None:
        return value
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{parts.netloc.rpartition('@')[2]}"))


def _field_of(name: str) -> str | None:
    return name[len(PREFIX):].lower() if name.startswith(PREFIX) else None


def _is_file_variable(name: str) -> bool:
    return name.startswith(PREFIX) and name.endswith("_FILE") and name not in NOT_SETTINGS


def _unknown(name: str, known: list[str], where: str) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown setting {name} {where} is ignored{hint}"


def _toml(path: Path) -> dict:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise SettingError(f"PINFOLD_CONFIG names {str(path)!r}, which cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingError(f"PINFOLD_CONFIG file {str(path)!r} is not valid TOML: {error}") from None


def _dotenv(path: Path) -> dict[str, str]:
    """The PINFOLD_* lines of a .env file, if there is one."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {name: value or "" for name, value in dotenv_values(path).items() if name.startswith(PREFIX)}


def _read_secret(name: str, path: str) -> str:
    try:
        return Path(path).read_text().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not text"
        raise SettingError(f"{name} names {path!r}, which cannot be read ({reason})") from None


_EXPECTS = {"int_parsing": "a whole number", "int_from_float": "a whole number", "float_parsing": "a number",
            "bool_parsing": "true or false", "path_type": "a path", "string_type": "text", "int_type": "a whole number",
            "float_type": "a number"}


def _explain(error: ValidationError, cls: type[Settings]) -> str:
    """The first refused value as one line: the setting, what it takes, and what it was given
    (never the value of a secret)."""
    problem = error.errors(include_url=False)[0]
    field = str(problem["loc"][0]) if problem["loc"] else ""
    info = cls.model_fields.get(field)
    name = PREFIX + field.upper()
    secret = info is not None and (info.json_schema_extra or {}).get("secret")
    given = "" if secret else f", not {problem.get('input')!r}"
    kind = problem["type"]
    if kind == "literal_error":
        return f"{name} must be one of {', '.join(get_args(info.annotation))}{given}"
    if kind in _EXPECTS:
        return f"{name} must be {_EXPECTS[kind]}{given}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{name} must be {problem['msg'].removeprefix('Input should be ')}{given}"
    return f"{name}: {problem['msg']}{given}"
