"""A scheduler that takes the campaigns lease frees the activities its dead predecessor had claimed
(CampaignScheduler.take_over) instead of waiting for their claims to run out; an event-based
campaign's activity, held for good, stays held."""

from __future__ import annotations

from pinfold.campaigns import event_runs, runs
from pinfold.campaigns.scheduler import CampaignScheduler
from pinfold.campaigns.store import activities as activity_store
from pinfold.core import ids
from tests.service import test_campaign_runs as runs_test
from tests.service.test_campaign_runs import shop  # noqa: F401  (the fixture)

T0 = runs_test.T0


def test_a_new_scheduler_takes_a_dead_ones_activity_over_at_once(ctx, shop):  # noqa: F811
    owner, project = shop
    members = runs_test._endpoints(ctx, owner, project, 25)
    campaign_id = runs_test._campaign(ctx, project, runs_test._segment(ctx, owner, project))
    runs.start_run(ctx, campaign_id, T0)
    (activity,) = runs_test._activities(ctx, campaign_id)
    assert runs.advance(ctx, activity["id"], T0, size=10, queue_bound=10_000) == 10
    event_activity = {"id": ids.new_project_id(), "campaign_id": ids.new_project_id(), "project_id": project,
                      "run": 1, "treatment_id": "0", "campaign_version": 1, "segment_version": 1,
                      "state": "RUNNING", "scheduled_at": T0, "counts": runs.new_counts(),
                      "lease_until": event_runs.HELD_FOR_GOOD}
    with ctx.db.write() as conn:  # the first scheduler claims the activity, then dies mid-slice
        assert [a["id"] for a in activity_store.claim(conn, now=T0, until=T0 + 60, limit=8)] == [activity["id"]]
        activity_store.add(conn, event_activity)

    second = CampaignScheduler(ctx, slice_size=10, clock=lambda: T0 + 5)
    try:
        assert second.enabled()  # it takes the lease the dead scheduler's process let go of
        with ctx.db.read() as conn:
            assert activity_store.get(conn, activity["id"])["lease_until"] == T0 + 5
            assert activity_store.get(conn, event_activity["id"])["lease_until"] == event_runs.HELD_FOR_GOOD
        runs_test._drain(second, T0 + 5)  # well before the dead scheduler's claim would have run out
    finally:
        second.stopped()
    assert sorted(r["client"]["client_id"] for r in runs_test._sends(ctx, campaign_id)) == members  # each once
    assert len(runs_test._queued(ctx)) == 25
    assert runs_test._activities(ctx, campaign_id)[0]["state"] == "COMPLETED"
