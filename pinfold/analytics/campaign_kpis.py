"""Pinpoint's GetCampaignDateRangeKpi: one campaign's KPIs from the lake, computed as the
application's are (analytics/kpis.py: distinct messages, rates as fractions, every Value a string,
the same range rules), over the records that carry that campaign's `campaign_id`.

Analytics knows nothing of campaigns beyond that attribute: whether the caller may see the campaign
is the API's to check (a campaign of another sa-sp tenant is NotFound there), and the lake view is
the caller's own in any case.

"+activity" and "+date" mark the variants also answered with the suffix
`-grouped-by-campaign-activity` (GroupedBys Key `CampaignActivityId`: one row per activity with data)
or `-grouped-by-date` (Key `Date`: every UTC day of the range); "activity only" names exist only
grouped by activity.

| KpiName                  | variants        | Values Key             | computed as                          |
|--------------------------|-----------------|------------------------|--------------------------------------|
| successful-delivery-rate | +activity +date | SuccessfulDeliveryRate | delivered ÷ attempted                |
| unique-deliveries        | +activity +date | UniqueDeliveries       | distinct endpoints delivered to      |
| email-open-rate          | +activity       | EmailOpenRate          | emails opened ÷ emails sent          |
| hard-bounce-rate         | +activity       | HardBounceRate         | emails hard-bounced ÷ emails sent    |
| push-open-rate           | +activity       | PushOpenRate           | push opens ÷ push sends (0: no push) |
| direct-email-opens       | activity only   | DirectEmailOpens       | emails opened                        |
| direct-push-opens        | activity only   | DirectPushOpens        | push opens (0 until push lands)      |
| clicks                   | activity only   | Clicks                 | _email.click records (every click)   |
| successful-deliveries    | activity only   | SuccessfulDeliveries   | delivered                            |
| attempted-deliveries     | activity only   | AttemptedDeliveries    | attempted                            |
| sms-spend                | -               | SmsSpend               | SMS price, in millicents (USD)       |

`campaign_totals` gives `pinfold report` each campaign's figures since a moment: endpoints targeted
(`_campaign.send` records, one per endpoint and run), messages sent, delivered, opened, clicked and
failed (hard or soft bounce, rejected, not rendered, SMS failure), counted as the KPIs count.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pinfold.analytics.engine import open_for, viewer_for
from pinfold.analytics.kpis import MEASURES, Kpi, date_range_kpi, family, pairs, parse_since
from pinfold.context import Context
from pinfold.core.access import Caller

_EVERY, _BY_ACTIVITY = (None, "campaign-activity", "date"), (None, "campaign-activity")
_ACTIVITY_ONLY = ("campaign-activity",)
CAMPAIGN_KPIS: dict[str, Kpi] = {
    **family("successful-delivery-rate", "deliveries", "attempts", True, _EVERY),
    **family("unique-deliveries", "endpoints_delivered", None, True, _EVERY),
    **family("email-open-rate", "email_opens", "email_sends", True, _BY_ACTIVITY),
    **family("hard-bounce-rate", "email_hard_bounces", "email_sends", True, _BY_ACTIVITY),
    **family("push-open-rate", "push_opens", "push_sends", True, _BY_ACTIVITY),
    **family("direct-email-opens", "email_opens", None, True, _ACTIVITY_ONLY),
    **family("direct-push-opens", "push_opens", None, True, _ACTIVITY_ONLY),
    **family("clicks", "click_records", None, True, _ACTIVITY_ONLY),
    **family("successful-deliveries", "deliveries", None, True, _ACTIVITY_ONLY),
    **family("attempted-deliveries", "attempts", None, True, _ACTIVITY_ONLY),
    **family("sms-spend", "sms_spend", None, True, (None,)),
}


def campaign_date_range_kpi(ctx: Context, caller: Caller, project_id: str, campaign_id: str, kpi_name: str,
                            start_time: datetime | str | None = None, end_time: datetime | str | None = None,
                            page_size: str | int | None = None, next_token: str | None = None) -> dict:
    """Pinpoint's CampaignDateRangeKpiResponse for one KPI of one campaign (see the module's table)."""
    found = date_range_kpi(ctx, caller, project_id, CAMPAIGN_KPIS, kpi_name, start_time, end_time, page_size,
                           next_token, campaign_id=campaign_id)
    return {"ApplicationId": project_id, "CampaignId": campaign_id, **found}


FIGURES = ("targeted", "sends", "deliveries", "opens", "clicks", "failures")
_FAILURES = pairs("_email.hardbounce", "_email.softbounce", "_email.rejected", "_email.rendering_failure",
                  "_SMS.FAILURE")


def campaign_totals(ctx: Context, caller: Caller, *, tenant_id: str | None = None, since: str = "7d",
                    campaign_id: str | None = None) -> list[dict]:
    """Each campaign's figures (FIGURES) since `since`, over what the caller sees, or (organization
    administrators) what tenant `tenant_id` sees; only campaign `campaign_id`'s when given."""
    viewer = viewer_for(ctx, caller, tenant_id)
    first = parse_since(since, datetime.now(UTC)).replace(tzinfo=None)
    where, params = "campaign_id IS NOT NULL AND event_time >= ?", [first]
    if campaign_id is not None:
        where, params = f"{where} AND campaign_id = ?", [*params, campaign_id]
    query = f"""
        WITH facts AS (
            SELECT campaign_id, endpoint_id, event_type, coalesce(message_id, event_id) AS message_key
            FROM all_events WHERE {where}
        )
        SELECT campaign_id,
            count(*) FILTER (WHERE event_type = '_campaign.send') AS targeted,
            {MEASURES["attempts"]} AS sends, {MEASURES["deliveries"]} AS deliveries,
            {MEASURES["email_opens"]} AS opens, {MEASURES["email_clicks"]} AS clicks, {_FAILURES} AS failures
        FROM facts GROUP BY campaign_id ORDER BY campaign_id
    """
    with open_for(ctx, viewer) as lake:
        return lake.fetch(query, params)
