"""Which treatment an endpoint belongs to, deterministically, with no I/O.

An endpoint's bucket (0..99) comes from a hash of the campaign and endpoint ids, so every treatment's
activity, in every run, puts it in the same cohort. Buckets [0, HoldoutPercent) are the holdout; each
additional treatment in order takes the next SizePercent buckets; the default treatment "0" takes the
rest (which may be none).
"""

from __future__ import annotations

import hashlib

DEFAULT = "0"


def bucket(campaign_id: str, endpoint_id: str) -> int:
    digest = hashlib.sha256(f"{campaign_id}:{endpoint_id}".encode()).hexdigest()
    return int(digest, 16) % 100


def cohort(definition: dict, bucket: int) -> str | None:
    """The treatment id ("0".."4") a bucket belongs to, or None for the holdout."""
    edge = int(definition.get("HoldoutPercent") or 0)
    if bucket < edge:
        return None
    for number, treatment in enumerate(definition.get("AdditionalTreatments") or [], start=1):
        edge += int(treatment.get("SizePercent") or 0)
        if bucket < edge:
            return str(number)
    return DEFAULT


def treatment_ids(definition: dict) -> list[str]:
    """Every treatment of a campaign: "0" and one per additional treatment."""
    return [DEFAULT] + [str(n) for n in range(1, len(definition.get("AdditionalTreatments") or []) + 1)]


def treatment(definition: dict, treatment_id: str) -> dict:
    """A treatment's effective settings: its own MessageConfiguration, TemplateConfiguration, Schedule and
    CustomDeliveryConfiguration where it gives them, the campaign's otherwise."""
    keys = ("MessageConfiguration", "TemplateConfiguration", "Schedule", "CustomDeliveryConfiguration")
    merged = {key: definition.get(key) for key in keys}
    if treatment_id != DEFAULT:
        own = (definition.get("AdditionalTreatments") or [])[int(treatment_id) - 1]
        merged.update({key: own[key] for key in keys if own.get(key)})
    return merged
