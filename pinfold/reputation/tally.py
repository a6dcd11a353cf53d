"""The tally: the event pump's sink that counts every email send, hard bounce and complaint, and every
text that ended (delivered or failed) and STOP reply, in the scopes it belongs to, judges each
scope's rates as the counts change, and acts on a crossing. A tenant paused for its texts' rates
is paused for email too, and the other way round: the pause is the tenant's.

An email record counts in its account, its configuration set, its SES tenant and its registry tenant
(those it has); a text's in its account's, origination number's, pool's and tenant's SMS scopes. A
batch reads each touched scope's window sums once, then walks its records in order, judging after
each one, so a crossing is noticed at the record that made it, not at the end of the batch; the
pause it causes commits with the counts, before the next pump pass. The counts, levels, history,
pauses, finding records and the tally's own outbox position commit in one transaction: a batch
delivered again after a crash (the pump may) counts nothing twice.

A level rising above the one last judged is a finding: a `_reputation.finding` record (stream and
lake), a history row, the webhook (PINFOLD_REPUTATION_WEBHOOK) and a Prometheus counter. When the
scope's policy pauses at that level (rules/levels.py) it is paused: a registry tenant's sends and
campaigns, an SES tenant (its AwsSesManagedStatus), the account's email sending. Configuration sets
are measured, never paused. A level falling is noted without an event; resuming is the operator's
(reputation/pauses.py).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

from pinfold.context import Context
from pinfold.core import ids
from pinfold.db.database import after_commit
from pinfold.email.store import account as email_account
from pinfold.email.store import configuration_sets
from pinfold.email.store import tenants as ses_tenants
from pinfold.events import outbox
from pinfold.events.records import Origin, envelope
from pinfold.events.sinks.base import FILTER_BATCH, Sink
from pinfold.reputation.rules import levels
from pinfold.reputation.store import counts as store
from pinfold.reputation.webhook import FindingsWebhook
from pinfold.tenancy.store import tenants as registry

log = logging.getLogger("pinfold.reputation")

# What each counted record adds: the counts' columns (sends, the first metric's events, the second's).
COUNTED = {"_email.send": (0,), "_email.hardbounce": (1,), "_email.complaint": (2,),
           "_SMS.SUCCESS": (0,), "_SMS.FAILURE": (0, 1), "_SMS.OPTOUT": (2,)}
SIMULATOR_DOMAIN = "@simulator.amazonses.com"
FINDING = "_reputation.finding"
ACTOR = "pinfold"
READY_RECORDS, READY_SECONDS = 2000, 0.25
FINDINGS = Counter("pinfold_reputation_findings", "Reputation findings: a rate crossing a level, by scope, "
                           "metric and level", ["scope", "metric", "level"])
RATES = Gauge("pinfold_reputation_rate", "The last judged bounce or complaint rate, by scope and key",
                      ["scope", "key", "metric"])


@dataclass
class Touched:
    """A scope a batch counted in: its window sums as they grow, its levels, its origin for records."""

    window: levels.Window
    judged: dict[str, str]
    origin: Origin
    changed: bool = False
    findings: list[dict] = field(default_factory=list)


def scopes_of(record: dict) -> list[tuple[str, str]]:
    """The (scope, key) pairs one record counts in."""
    own = record.get("pinfold") or {}
    account = f"{own.get('account_id')}/{own.get('region')}"
    if record.get("event_type", "").startswith("_SMS."):
        found = [("sms_account", account)]
        number = (record.get("attributes") or {}).get("origination_phone_number")
        if number:
            found.append(("sms_number", f"{account}/{number}"))
        if (own.get("sms") or {}).get("pool_id"):
            found.append(("sms_pool", f"{account}/{own['sms']['pool_id']}"))
        if own.get("tenant_id"):
            found.append(("sms_tenant", own["tenant_id"]))
        return found
    found = [("account", account)]
    if own.get("configuration_set"):
        found.append(("config_set", f"{account}/{own['configuration_set']}"))
    if own.get("ses_tenant"):
        found.append(("ses_tenant", f"{account}/{own['ses_tenant']}"))
    if own.get("tenant_id"):
        found.append(("tenant", own["tenant_id"]))
    return found


def _to_simulator(record: dict) -> bool:
    mail = (((record.get("facets") or {}).get("email_channel") or {}).get("mail_event") or {}).get("mail") or {}
    destination = mail.get("destination") or []
    return bool(destination) and all(str(address).lower().endswith(SIMULATOR_DOMAIN) for address in destination)


class TallySink(Sink):
    name = "reputation:tally"
    batch = FILTER_BATCH
    from_start = False

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._pruned_hour = 0
        # Each scope's window sums and levels as this tally last committed them, for the hour they are
        # of, and the outbox position they were counted up to: one pump holds the lease, so while the
        # position is still the one this tally moved to, nobody else has counted since.
        self._known: dict[tuple[str, str], tuple[int, levels.Window, dict[str, str]]] = {}
        self._moved_to: int | None = None
        url = ctx.settings.reputation_webhook
        self._webhook = FindingsWebhook(url, ctx.secrets.derive_key("reputation-webhook")) if url else None

    def ready(self, waiting) -> bool:
        """Deliver a fuller batch or, when records come slowly, within a quarter of a second: each
        batch's transaction has a fixed cost, and a crossing waits no longer than that."""
        waited = time.time() - waiting.oldest_arrival_ms / 1000
        return waiting.count >= READY_RECORDS or waited >= READY_SECONDS

    def wants(self, row: dict) -> bool:
        return row["event_type"] in COUNTED

    def deliver(self, rows: list[dict], batch: str) -> None:
        settings = self.ctx.settings
        now = time.time()
        hour = int(now // 3600)
        with self.ctx.db.write() as conn:
            done = store.position(conn)
            if done != self._moved_to:
                self._known.clear()  # another process's tally counted meanwhile (or this one just started)
            fresh = [row for row in rows if row["seq"] > done]
            if not fresh:
                return
            counted = [(row, row["record"]) for row in fresh
                       if settings.reputation_count_simulator or not _to_simulator(row["record"])]
            keys = sorted({key for _, record in counted for key in scopes_of(record)})
            sums, judged = self._current(conn, keys, hour)
            touched: dict[tuple[str, str], Touched] = {}
            increments: dict[tuple[str, str, int], list[int]] = {}
            for row, record in counted:
                columns = COUNTED[row["event_type"]]
                for key in scopes_of(record):
                    item = touched.get(key)
                    if item is None:
                        own = record["pinfold"]
                        item = touched[key] = Touched(sums[key], judged[key], Origin(
                            own["account_id"], own["region"], own["project_id"], own.get("tenant_id")))
                    added = increments.setdefault((*key, hour), [0, 0, 0])
                    for column in columns:
                        _grow(item.window, column)
                        added[column] += 1
                    self._judge(key, item, row["seq"])
            store.add(conn, increments)
            self._act(conn, touched, now)
            moved_to = max(row["seq"] for row in fresh)
            store.move(conn, moved_to)
            if hour != self._pruned_hour:  # once an hour: counts older than every window go
                store.prune(conn, hour - levels.LONGEST_HOURS - 24)
                self._pruned_hour = hour
            found = [(key, finding) for key, item in touched.items() for finding in item.findings]
            after_commit(conn, lambda: self._committed(touched, found, hour, moved_to))

    def _current(self, conn, keys: list[tuple[str, str]], hour: int) -> tuple[dict, dict]:
        """Each scope's window sums and levels now: as last committed when known for this hour, else read."""
        unknown = [key for key in keys if self._known.get(key, (None,))[0] != hour]
        sums, judged = store.windows(conn, unknown, hour), store.judged(conn, unknown)
        for key in keys:
            if key not in sums:
                _hour, window, levels_now = self._known[key]
                sums[key], judged[key] = dataclasses.replace(window), dict(levels_now)
        return sums, judged

    def _committed(self, touched: dict[tuple[str, str], Touched], found: list, hour: int, moved_to: int) -> None:
        self._moved_to = moved_to
        if len(self._known) > 100_000:
            self._known.clear()
        for key, item in touched.items():
            self._known[key] = (hour, dataclasses.replace(item.window), dict(item.judged))
        self._tell(touched, found)

    def _judge(self, key: tuple[str, str], item: Touched, seq: int) -> None:
        min_volume = self.ctx.settings.reputation_min_volume
        for metric, (rate, volume) in item.window.rates(levels.family_of(key[0])).items():
            now_level = levels.level(metric, rate, volume, min_volume)
            if now_level == item.judged[metric]:
                continue
            item.changed = True
            if levels.higher(now_level, item.judged[metric]):
                item.findings.append({"metric": metric, "level": now_level, "rate": round(rate, 6),
                                      "volume": volume, "seq": seq})
            item.judged = {**item.judged, metric: now_level}

    def _act(self, conn, touched: dict[tuple[str, str], Touched], now: float) -> None:
        store.save_judged(conn, {key: item.judged for key, item in touched.items() if item.changed}, now)
        history, records = [], []
        for (scope, key), item in touched.items():
            for finding in item.findings:
                paused = _pause(conn, scope, key, finding["level"], now)
                finding["action"] = "PAUSED" if paused else "NONE"
                detail = {**finding, "severity": levels.SEVERITY[finding["level"]]}
                history.append({"id": ids.new_event_id(), "scope": scope, "key": key, "action": "FINDING",
                                "actor": ACTOR, "detail": detail, "at": now})
                if paused:
                    history.append({"id": ids.new_event_id(), "scope": scope, "key": key, "action": "PAUSED",
                                    "actor": ACTOR, "detail": detail, "at": now})
                records.append(_finding_row(item.origin, scope, key, detail, now))
        store.record(conn, history)
        outbox.append(conn, records)

    def _tell(self, touched: dict[tuple[str, str], Touched], found: list) -> None:
        published = self._published_sets([key for scope, key in touched if scope == "config_set"])
        for (scope, key), item in touched.items():
            if scope == "config_set" and key not in published:
                continue
            for metric, (rate, _volume) in item.window.rates(levels.family_of(scope)).items():
                RATES.labels(scope, key, metric).set(rate)
        for (scope, key), finding in found:
            FINDINGS.labels(scope, finding["metric"], finding["level"]).inc()
            log.warning("reputation finding: %s %s %s rate %.4f over %d sends is at %s%s", scope, key,
                        finding["metric"], finding["rate"], finding["volume"], finding["level"],
                        ", sending paused" if finding["action"] == "PAUSED" else "")
            self._notify({"scope": scope, "key": key, **finding})

    def _published_sets(self, keys: list[str]) -> set[str]:
        """The configuration sets whose ReputationMetricsEnabled asks for their rates to be published,
        as SES publishes a set's reputation metrics only then."""
        if not keys:
            return set()
        published = set()
        with self.ctx.db.read() as conn:
            for key in keys:
                account_id, region, name = key.split("/", 2)
                row = configuration_sets.row(conn, account_id, region, name)
                options = (row or {}).get("options") or {}
                if (options.get("ReputationOptions") or {}).get("ReputationMetricsEnabled"):
                    published.add(key)
        return published

    def _notify(self, finding: dict) -> None:
        if self._webhook is not None:
            self._webhook.tell({"type": FINDING, **finding})

    def close(self) -> None:
        if self._webhook is not None:
            self._webhook.close()


def _grow(window: levels.Window, column: int) -> None:
    if column == 0:
        window.sends_day += 1
        window.sends_week += 1
    elif column == 1:
        window.bounces += 1
    else:
        window.complaints += 1


def _pause(conn, scope: str, key: str, found: str, now: float) -> bool:
    """Pause what crossed, if its policy says so at this level; True when it was paused now."""
    if scope in ("tenant", "sms_tenant"):  # a tenant paused for either channel's rates sends on neither
        tenant = registry.get_tenant(conn, key)
        if tenant is None or tenant["sending_paused"] or not levels.pauses(tenant["reputation_policy"], found):
            return False
        registry.update_tenant(conn, key, sending_paused=True, updated_at=ids.iso_now())
        return True
    if scope == "ses_tenant":
        account_region, name = key.rsplit("/", 1)
        account_id, region = account_region.split("/", 1)
        tenant = ses_tenants.get(conn, account_id, region, name)
        if tenant is None or tenant["managed_status"] == "DISABLED" or \
                not levels.pauses(tenant["reputation_policy"], found):
            return False
        ses_tenants.update(conn, account_id, region, name, managed_status="DISABLED")
        return True
    if scope == "account" and levels.pauses("STANDARD", found):
        account_id, region = key.split("/", 1)
        if not email_account.settings(conn, account_id, region)["sending_enabled"]:
            return False
        email_account.update(conn, account_id, region, now, sending_enabled=False)
        return True
    return False


def _finding_row(origin: Origin, scope: str, key: str, detail: dict, now: float) -> dict:
    event_id, at_ms = ids.new_event_id(), int(now * 1000)
    attributes = {"scope": scope, "key": key, "metric": detail["metric"], "level": detail["level"],
                  "severity": detail["severity"], "action": detail["action"]}
    record = envelope(origin, event_id=event_id, event_type=FINDING, event_timestamp=at_ms, arrival_timestamp=at_ms,
                      client_id=key, attributes=attributes, metrics={"rate": detail["rate"],
                                                                     "volume": detail["volume"]})
    return {"event_id": event_id, "account_id": origin.account_id, "region": origin.region,
            "project_id": origin.project_id, "tenant_id": origin.tenant_id, "event_type": FINDING,
            "arrival_ms": at_ms, "record": record}


class ReputationTally:
    """The sink source: the tally is always active, so its cursor keeps pace with the outbox."""

    def __init__(self, ctx: Context) -> None:
        self._sink = TallySink(ctx)

    def sinks(self, conn) -> list[Sink]:
        return [self._sink]

    def close(self) -> None:
        self._sink.close()
