"""/health and /ready: unauthenticated, cheap, JSON saying what was checked; /ready turns 503 when
the schema is behind the code or a background service has stopped."""

from __future__ import annotations

import httpx
from starlette.testclient import TestClient

from pinfold.audience.runner import JobRunner
from pinfold.bootstrap import JOB_RUNNERS, create_app
from pinfold.db.database import code_head


def test_a_running_server_is_healthy_and_ready_with_its_services(server):
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    answer = httpx.get(f"{server.url}/ready")
    assert answer.status_code == 200
    report = answer.json()
    assert report["status"] == "ready" and report["checks"]["database"] == "ok"
    assert report["checks"]["migrations"] == {"database": code_head(), "code": code_head(), "ok": True}
    services = report["checks"]["services"]
    assert services["jobs"] == "running" and services["sending"] == "running"
    assert services["pump"] in ("leading", "standby")


def test_ready_says_503_for_a_schema_behind_the_code_and_for_a_stopped_service(ctx):
    runner = JobRunner(ctx, JOB_RUNNERS).start()
    client = TestClient(create_app(ctx, {"jobs": runner}))
    assert client.get("/ready").json()["checks"]["services"] == {"jobs": "running"}

    runner.stop()
    stopped = client.get("/ready")
    assert stopped.status_code == 503 and stopped.json()["checks"]["services"] == {"jobs": "stopped"}

    ctx.db.downgrade("-1")
    behind = TestClient(create_app(ctx)).get("/ready")
    assert behind.status_code == 503
    migrations = behind.json()["checks"]["migrations"]
    assert migrations["ok"] is False and migrations["database"] != migrations["code"] == code_head()
    assert TestClient(create_app(ctx)).get("/health").status_code == 200  # up, though not ready
    ctx.db.migrate()
    assert TestClient(create_app(ctx)).get("/ready").status_code == 200
