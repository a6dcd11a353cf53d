"""What an SMS sending pass decided: message states, refunds and event records, for the pipeline to
write in the group's transaction (sending/outcomes.py).

A message the carrier delivered is `delivered` (`sent` when the carrier only accepted it and a
delivery report is to follow); one it refused for good is `failed`; one it could not take for now is
tried again with doubling waits until its TimeToLive runs out (then `expired`). A message held back at
the gate is `expired` (TimeToLive) or `opted_out` (the destination opted out after the send was
accepted). A message no carrier ever took is not charged: its price, added to the month's spend when
it was accepted, is taken off again.

Each outcome gives one `_SMS.*` record (sms/events.py): `_SMS.SUCCESS` for DELIVERED, `_SMS.BUFFERED`
while it is still on its way (accepted, pending, retried), `_SMS.FAILURE` otherwise.
"""

from __future__ import annotations

from pinfold.sending.outcomes import retry_at
from pinfold.sms import events
from pinfold.sms.store import spend

FIRST_RETRY_SECONDS = 30.0
_HELD = {"TTL_EXPIRED": "expired", "OPTED_OUT": "opted_out"}
_HELD_DETAIL = {"TTL_EXPIRED": "the TimeToLive ran out before a carrier took the message",
                "OPTED_OUT": "the destination opted out before the message was sent"}


def decide(conn, group: list, *, now: float) -> tuple[list[dict], list[dict]]:
    """Each message's result (for store.finish_held) and the group's outbox rows; refunds go into `conn`."""
    results, rows = [], []
    for item in group:
        result, record_status = _decide(conn, item, now)
        results.append(result)
        rows.append(events.outbox_row(item.row, record_status, at=now, detail=result["detail"]))
    return results, rows


def _decide(conn, item, now: float) -> tuple[dict, str]:
    row = item.row
    result = {"id": row["id"], "account": row["account_id"], "attempts": row["attempts"] + 1,
              "sent_at": row["sent_at"], "due_at": now, "remote_id": None}
    if item.held is not None:
        _refund(conn, row)
        return {**result, "status": _HELD[item.held], "detail": _HELD_DETAIL[item.held]}, item.held
    outcome = item.outcome
    result.update(remote_id=outcome.remote_id, detail=outcome.detail)
    if outcome.status == "delivered":
        status = outcome.enhanced or "DELIVERED"
        return {**result, "status": "delivered" if status == "DELIVERED" else "sent", "sent_at": now}, status
    if outcome.status == "permanent":
        return {**result, "status": "failed", "sent_at": now}, outcome.enhanced or "UNREACHABLE"
    if outcome.status == "skipped":  # the adapter would not try: no carrier took it
        _refund(conn, row)
        return {**result, "status": "failed"}, outcome.enhanced or "BLOCKED"
    message = row["message"]
    due = retry_at(now=now, created_at=row["created_at"], attempts=row["attempts"],
                   budget=message["expires_at"] - row["created_at"], first_wait=FIRST_RETRY_SECONDS)
    if due is None or due > message["expires_at"]:
        _refund(conn, row)
        return {**result, "status": "expired", "detail": f"{_HELD_DETAIL['TTL_EXPIRED']} ({outcome.detail})"}, \
            "TTL_EXPIRED"
    return {**result, "status": "queued", "due_at": due}, outcome.enhanced or "CARRIER_UNREACHABLE"


def _refund(conn, row: dict) -> None:
    price = row["message"]["price"]
    if price:
        spend.add(conn, row["account_id"], row["region"], spend.month_of(row["created_at"]), -price)
