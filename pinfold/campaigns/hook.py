"""A campaign's FILTER hook at a web URL: called with the endpoints just before they are sent.

Each call POSTs up to 50 endpoints as JSON (ApplicationId, CampaignId, TreatmentId, ActivityId,
ScheduledTime, MessageConfiguration, Endpoints) and takes back the endpoint map: endpoints it leaves
out get nothing, the attributes it changes are used. A call that times out (15 s), fails or answers
something other than a JSON object of endpoints is tried again, three attempts in all; after that the
batch's endpoints fail with HOOK_FAILURE.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable

log = logging.getLogger("pinfold.campaigns")

BATCH = 50
TIMEOUT = 15.0
ATTEMPTS = 3

# (url, JSON body) -> the decoded answer; raises when the call fails. Tests and embedders may swap it.
Poster = Callable[[str, bytes], object]


def post_json(url: str, body: bytes) -> object:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - the campaign's checked URL
        return json.loads(response.read() or b"null")


def filter_endpoints(url: str, event: dict, endpoints: dict[str, dict], poster: Poster = post_json
                     ) -> tuple[dict[str, dict], set[str]]:
    """(the endpoints the hook kept, as it returned them; the ids whose batch failed)."""
    kept: dict[str, dict] = {}
    failed: set[str] = set()
    ids = list(endpoints)
    for start in range(0, len(ids), BATCH):
        batch = {endpoint_id: endpoints[endpoint_id] for endpoint_id in ids[start:start + BATCH]}
        answer = _call(url, {**event, "Endpoints": batch}, poster)
        if answer is None:
            failed.update(batch)
            continue
        for endpoint_id, returned in answer.items():
            if endpoint_id in batch:  # the hook may drop endpoints and change them, not add any
                kept[endpoint_id] = returned
    return kept, failed


def _call(url: str, payload: dict, poster: Poster) -> dict | None:
    body = json.dumps(payload).encode()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            answer = poster(url, body)
        except (OSError, urllib.error.URLError, ValueError) as error:
            log.warning("campaign hook %s failed (attempt %d): %s", url, attempt, error)
            continue
        if isinstance(answer, dict) and all(isinstance(value, dict) for value in answer.values()):
            return answer
        log.warning("campaign hook %s answered something other than an endpoint map (attempt %d)", url, attempt)
    return None
