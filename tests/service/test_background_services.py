"""PINFOLD_SERVICES: a process runs only the background work it names, so an operator can give the
event pump, the campaign scheduler and campaign sending processes of their own."""

from __future__ import annotations

import pytest

from pinfold import bootstrap
from pinfold.config import SERVICES, Settings
from pinfold.context import Context


def _started(tmp_path, database_url: str, services: str) -> dict:
    ctx = Context.open(Settings(data_dir=tmp_path / "data", database_url=database_url, services=services))
    running = bootstrap.background(ctx, feedback_listener=False)
    try:
        states = {name: service.state() for name, service in running.items()}
        if "sending" in running:
            states["lanes"] = {name: (running[service].worker.state(), running[service].campaign_worker.state())
                               for name, service in (("email", "sending"), ("sms", "sms"), ("push", "push"),
                                                     ("custom", "custom")) if service in running}
        return states
    finally:
        bootstrap.stop(running)
        ctx.close()


def test_by_default_a_process_runs_all_of_it(tmp_path, database_url):
    states = _started(tmp_path, database_url, "all")
    assert set(states) == {"jobs", "pump", "campaigns", "sending", "sms", "push", "custom", "lanes"}
    assert states["lanes"] == {"email": ("running", "running"), "sms": ("running", "running"),
                               "push": ("running", "running"), "custom": ("stopped", "running")}


def test_a_server_may_keep_only_transactional_sending(tmp_path, database_url):
    states = _started(tmp_path, database_url, "sending")
    assert set(states) == {"sending", "sms", "push", "lanes"}
    assert states["sending"] == states["sms"] == states["push"] == "running"  # /ready counts only what runs here
    assert states["lanes"] == {"email": ("running", "stopped"), "sms": ("running", "stopped"),
                               "push": ("running", "stopped")}


def test_a_worker_may_take_the_campaigns_and_the_pump(tmp_path, database_url):
    states = _started(tmp_path, database_url, "pump,campaigns,campaign-sending")
    assert set(states) == {"pump", "campaigns", "sending", "sms", "push", "custom", "lanes"}
    assert states["lanes"] == {"email": ("stopped", "running"), "sms": ("stopped", "running"),
                               "push": ("stopped", "running"), "custom": ("stopped", "running")}


def test_none_runs_nothing_beside_requests(tmp_path, database_url):
    assert _started(tmp_path, database_url, "none") == {}


@pytest.mark.parametrize("value", ["pumps", "all,pump", "none,jobs", " , "])
def test_an_unknown_or_contradictory_list_is_refused_naming_the_choices(value):
    with pytest.raises(ValueError, match="name some of jobs, pump, campaigns, sending, campaign-sending"):
        Settings(services=value)


def test_names_are_read_in_any_order_with_spaces():
    assert Settings(services=" campaigns , jobs").background_services == ("jobs", "campaigns")
    assert Settings().background_services == SERVICES
