"""KPIs from the lake: daily counts and rates (admin API, CLI report) and Pinpoint's
GetApplicationDateRangeKpi.

GetApplicationDateRangeKpi answers the KpiNames below. "+date" and "+campaign" mark the variants
also answered with the suffix `-grouped-by-date` (GroupedBys Key `Date`: one row per UTC day of the
range, days without data included) or `-grouped-by-campaign` (Key `CampaignId`: campaigns with
data); "campaign only" names exist only with `-grouped-by-campaign`.

An email is one distinct (endpoint, message id) pair, an SMS one message id. Campaign KPIs count
messages whose records carry a campaign_id; `txn-*` KPIs count messages with neither campaign_id
nor journey_id. Rates are fractions (0-1), 0 when nothing was sent; every Value is a string.

| KpiName                    | variants         | Values Key              | computed as                          |
|----------------------------|------------------|-------------------------|--------------------------------------|
| successful-delivery-rate   | +date +campaign  | SuccessfulDeliveryRate  | delivered ÷ attempted (see below)    |
| unique-deliveries          | +date +campaign  | UniqueDeliveries        | distinct endpoints delivered to      |
| email-open-rate            | +campaign        | EmailOpenRate           | emails opened ÷ emails sent          |
| successful-deliveries      | campaign only    | SuccessfulDeliveries    | delivered                            |
| attempted-deliveries       | campaign only    | AttemptedDeliveries     | attempted                            |
| direct-email-opens         | campaign only    | DirectEmailOpens        | emails opened                        |
| clicks                     | campaign only    | Clicks                  | _email.click records (every click)   |
| hard-bounce-rate           | campaign only    | HardBounceRate          | emails hard-bounced ÷ emails sent    |
| txn-emails-sent            | +date            | TxnEmailsSent           | emails sent                          |
| txn-emails-delivered       | +date            | TxnEmailsDelivered      | emails delivered                     |
| txn-emails-opened          | +date            | TxnEmailsOpened         | emails opened                        |
| txn-emails-clicked         | +date            | TxnEmailsClicked        | emails clicked                       |
| txn-emails-hard-bounced    | +date            | TxnEmailsHardBounced    | emails hard-bounced                  |
| txn-emails-with-complaints | +date            | TxnEmailsWithComplaints | emails complained about              |
| txn-emails-complaint-rate  | +date            | TxnEmailsComplaintRate  | emails complained about ÷ sent       |
| txn-sms-sent               | +date            | TxnSmsSent              | SMS with SUCCESS or FAILURE          |
| txn-sms-delivered          | +date            | TxnSmsDelivered         | SMS with SUCCESS                     |

"Delivered" is emails delivered plus SMS SUCCESS; "attempted" is emails sent plus SMS SUCCESS or
FAILURE.

Without StartTime/EndTime the range is the preceding 31 days, as Pinpoint documents; a range
longer than 31 days, or one starting 90 days ago or earlier, is refused, as Pinpoint does. Times
are those of the events (event_timestamp).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pinfold.analytics import views
from pinfold.analytics.engine import open_for, viewer_for
from pinfold.context import Context
from pinfold.core.access import Caller
from pinfold.core.errors import InvalidInput
from pinfold.core.paging import page_size as parse_page_size
from pinfold.projects import projects as project_service

RANGE = timedelta(days=31)
RETENTION = timedelta(days=90)  # Pinpoint answers only ranges that start less than 90 days ago
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_SINCE = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime) -> datetime:
    """The start of a look-back window: `24h`, `7d`, `2w` before `now`, or an ISO date or time (UTC)."""
    match = _SINCE.match(text.strip())
    if match:
        try:
            return now - timedelta(**{_UNITS[match[2]]: int(match[1])})
        except OverflowError:  # further back than datetime reaches
            raise InvalidInput(f"since {text[:64]!r} reaches back before year 1", field="since") from None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"since must look like 7d, 24h, 2w or an ISO date, not {text!r}", field="since") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def daily_kpis(ctx: Context, caller: Caller, *, tenant_id: str | None = None, project_id: str | None = None,
               since: str = "7d") -> dict:
    """Email and SMS counts and rates per UTC day since `since` (every day listed), and their totals,
    over what the caller sees, or (organization administrators) what tenant `tenant_id` sees."""
    viewer = viewer_for(ctx, caller, tenant_id)
    now = datetime.now(UTC)
    first = parse_since(since, now).date()
    where, params = "day >= ?", [first]
    if project_id:
        where, params = f"{where} AND project_id = ?", [*params, project_id]
    with open_for(ctx, viewer) as lake:
        days = {row["day"]: row for row in lake.fetch(views.kpi_rollup_sql(("day",), where), params)}
        totals = lake.fetch(views.kpi_rollup_sql((), where), params)[0]
    last = max([now.date(), *days])
    every = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return {"tenant_id": tenant_id, "project_id": project_id, "since": first.isoformat(), "until": last.isoformat(),
            "totals": totals, "days": [_day_row(day, days.get(day)) for day in every]}


def _day_row(day: date, row: dict | None) -> dict:
    if row is None:
        row = {**dict.fromkeys(views.COUNTS, 0), "sms_price_usd": 0.0}
    return {**row, "day": day.isoformat()}


@dataclass(frozen=True)
class Kpi:
    key: str
    numerator: str
    denominator: str | None
    campaigns: bool  # True: campaign messages; False: transactional ones
    group: str | None  # None, "date", "campaign" or "campaign-activity"


def pairs(*event_types: str) -> str:
    """SQL counting the distinct (endpoint, message) pairs among records of these types."""
    types = ", ".join(f"'{name}'" for name in event_types)
    return f"count(DISTINCT (endpoint_id, message_key)) FILTER (WHERE event_type IN ({types}))"


_PUSH_TYPES = "'APNS', 'APNS_SANDBOX', 'APNS_VOIP', 'APNS_VOIP_SANDBOX', 'GCM', 'BAIDU', 'ADM', 'PUSH'"
MEASURES = {
    "attempts": pairs("_email.send", "_SMS.SUCCESS", "_SMS.FAILURE"),
    "deliveries": pairs("_email.delivered", "_SMS.SUCCESS"),
    "endpoints_delivered": ("count(DISTINCT endpoint_id) "
                            "FILTER (WHERE event_type IN ('_email.delivered', '_SMS.SUCCESS'))"),
    "email_sends": pairs("_email.send"),
    "email_deliveries": pairs("_email.delivered"),
    "email_opens": pairs("_email.open"),
    "email_clicks": pairs("_email.click"),
    "click_records": "count(*) FILTER (WHERE event_type = '_email.click')",
    "email_hard_bounces": pairs("_email.hardbounce"),
    "email_complaints": pairs("_email.complaint"),
    "sms_sends": pairs("_SMS.SUCCESS", "_SMS.FAILURE"),
    "sms_deliveries": pairs("_SMS.SUCCESS"),
    # Push has no channel yet: its campaign sends and Amplify's open receipts, 0 until it lands.
    "push_sends": ("count(DISTINCT endpoint_id) FILTER (WHERE event_type = '_campaign.send' "
                   f"AND delivery_type IN ({_PUSH_TYPES}) AND send_status = 'SUCCESS')"),
    "push_opens": "count(DISTINCT endpoint_id) FILTER (WHERE event_type = '_campaign.opened_notification')",
    "sms_spend": "coalesce(sum(price) FILTER (WHERE event_type IN ('_SMS.SUCCESS', '_SMS.FAILURE')), 0)",
}
_SUFFIX = {None: "", "date": "-grouped-by-date", "campaign": "-grouped-by-campaign",
           "campaign-activity": "-grouped-by-campaign-activity"}
_GROUP_SQL = {None: "NULL", "date": "CAST(day AS VARCHAR)", "campaign": "campaign_id",
              "campaign-activity": "campaign_activity_id"}
_GROUP_KEY = {"date": "Date", "campaign": "CampaignId", "campaign-activity": "CampaignActivityId"}


def family(name: str, numerator: str, denominator: str | None, campaigns: bool, groups: tuple) -> dict[str, Kpi]:
    """A KPI under its name and its grouped variants (`groups`: None, "date", "campaign", ...)."""
    key = "".join(part.capitalize() for part in name.split("-"))
    return {name + _SUFFIX[group]: Kpi(key, numerator, denominator, campaigns, group) for group in groups}


_EVERY, _BY_DATE, _BY_CAMPAIGN = (None, "date", "campaign"), (None, "date"), ("campaign",)
KPIS: dict[str, Kpi] = {
    **family("successful-delivery-rate", "deliveries", "attempts", True, _EVERY),
    **family("unique-deliveries", "endpoints_delivered", None, True, _EVERY),
    **family("email-open-rate", "email_opens", "email_sends", True, (None, "campaign")),
    **family("successful-deliveries", "deliveries", None, True, _BY_CAMPAIGN),
    **family("attempted-deliveries", "attempts", None, True, _BY_CAMPAIGN),
    **family("direct-email-opens", "email_opens", None, True, _BY_CAMPAIGN),
    **family("clicks", "click_records", None, True, _BY_CAMPAIGN),
    **family("hard-bounce-rate", "email_hard_bounces", "email_sends", True, _BY_CAMPAIGN),
    **family("txn-emails-sent", "email_sends", None, False, _BY_DATE),
    **family("txn-emails-delivered", "email_deliveries", None, False, _BY_DATE),
    **family("txn-emails-opened", "email_opens", None, False, _BY_DATE),
    **family("txn-emails-clicked", "email_clicks", None, False, _BY_DATE),
    **family("txn-emails-hard-bounced", "email_hard_bounces", None, False, _BY_DATE),
    **family("txn-emails-with-complaints", "email_complaints", None, False, _BY_DATE),
    **family("txn-emails-complaint-rate", "email_complaints", "email_sends", False, _BY_DATE),
    **family("txn-sms-sent", "sms_sends", None, False, _BY_DATE),
    **family("txn-sms-delivered", "sms_deliveries", None, False, _BY_DATE),
}


def application_date_range_kpi(ctx: Context, caller: Caller, project_id: str, kpi_name: str,
                               start_time: datetime | str | None = None, end_time: datetime | str | None = None,
                               page_size: str | int | None = None, next_token: str | None = None) -> dict:
    """Pinpoint's ApplicationDateRangeKpiResponse for one KPI of a project (see the module's table)."""
    found = date_range_kpi(ctx, caller, project_id, KPIS, kpi_name, start_time, end_time, page_size, next_token)
    return {"ApplicationId": project_id, **found}


def date_range_kpi(ctx: Context, caller: Caller, project_id: str, table: dict[str, Kpi], kpi_name: str,
                   start_time: datetime | str | None, end_time: datetime | str | None,
                   page_size: str | int | None, next_token: str | None, *, campaign_id: str | None = None) -> dict:
    """KpiName, StartTime, EndTime, KpiResult and NextToken of one KPI of `table` over a project's
    records in the caller's view of the lake (only one campaign's, given `campaign_id`)."""
    kpi = table.get(kpi_name)
    if kpi is None:
        raise InvalidInput(f"KpiName {kpi_name!r} is not supported; supported: {', '.join(sorted(table))}",
                           field="KpiName")
    start, end = _range(start_time, end_time)
    with ctx.db.read() as conn:
        project_service.require(conn, caller, project_id)
    params = [project_id, start.replace(tzinfo=None), end.replace(tzinfo=None)]
    with open_for(ctx, caller) as lake:
        found = lake.fetch(_kpi_sql(kpi, by_campaign=campaign_id is not None),
                           params if campaign_id is None else [*params, campaign_id])
    rows = [_row(kpi, found_row) for found_row in _fill_days(kpi, found, start.date(), end.date())]
    size = parse_page_size(None if page_size is None else str(page_size))
    offset = _offset(next_token)
    response = {"KpiName": kpi_name, "StartTime": _iso(start), "EndTime": _iso(end),
                "KpiResult": {"Rows": rows[offset:offset + size]}}
    if offset + size < len(rows):
        response["NextToken"] = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
    return response


def _range(start_time, end_time) -> tuple[datetime, datetime]:
    end = _instant(end_time, "EndTime") if end_time is not None else datetime.now(UTC)
    # max(): an EndTime in the first days of year 1 has no full range before it (a start that would
    # be before year 1 overflows); its range starts at the earliest instant and fails retention below.
    start = _instant(start_time, "StartTime") if start_time is not None else max(end, _EARLIEST + RANGE) - RANGE
    if start > end:
        raise InvalidInput("StartTime must not be after EndTime", field="StartTime")
    if end - start > RANGE:
        raise InvalidInput("The date range must be 31 days or less", field="StartTime")
    if start <= datetime.now(UTC) - RETENTION:
        raise InvalidInput("StartTime must be less than 90 days ago", field="StartTime")
    return start, end


def _instant(value: datetime | str, field: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{field} must be an ISO 8601 date and time", field=field) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _kpi_sql(kpi: Kpi, *, by_campaign: bool = False) -> str:
    sends = "campaign_id IS NOT NULL" if kpi.campaigns else "send_type = 'TRANSACTIONAL'"
    if by_campaign:
        sends = "campaign_id = ?"
    group = _GROUP_SQL[kpi.group]
    denominator = MEASURES[kpi.denominator] if kpi.denominator else "NULL"
    grouping = " GROUP BY grp HAVING grp IS NOT NULL ORDER BY grp" if kpi.group else ""
    return f"""
        WITH facts AS (
            SELECT CAST(event_time AS DATE) AS day, campaign_id, endpoint_id, event_type,
                   coalesce(message_id, event_id) AS message_key,
                   attributes['campaign_activity_id'] AS campaign_activity_id,
                   attributes['delivery_type'] AS delivery_type, attributes['campaign_send_status'] AS send_status,
                   metrics['price_in_millicents_usd'] AS price
            FROM all_events
            WHERE project_id = ? AND event_time BETWEEN ? AND ? AND {sends}
        )
        SELECT {group} AS grp, {MEASURES[kpi.numerator]} AS numerator, {denominator} AS denominator
        FROM facts{grouping}
    """


def _fill_days(kpi: Kpi, found: list[dict], first: date, last: date) -> list[dict]:
    """Grouped by date: one row per day of the range, zero where nothing happened."""
    if kpi.group != "date":
        return found
    by_day = {row["grp"]: row for row in found}
    days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    return [by_day.get(day, {"grp": day, "numerator": 0, "denominator": 0}) for day in days]


def _row(kpi: Kpi, found: dict) -> dict:
    numerator = found["numerator"] or 0
    if kpi.denominator is None:
        value = float(numerator)
    else:
        value = numerator / found["denominator"] if found["denominator"] else 0.0
    grouped = [] if kpi.group is None else [{"Key": _GROUP_KEY[kpi.group], "Type": "String", "Value": found["grp"]}]
    return {"GroupedBys": grouped, "Values": [{"Key": kpi.key, "Type": "Double", "Value": str(value)}]}


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(token.encode()).decode())
    except ValueError:
        offset = -1
    if offset < 0:
        raise InvalidInput("NextToken is not a token this service issued", field="NextToken")
    return offset


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
