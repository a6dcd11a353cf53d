"""Logs from real processes: JSON lines when asked for (start-up lines included), one access line per
AWS call with the request id the response carries, planted secrets nowhere, and a wrong log setting
refused with exit code 2 and no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, make_client, onboard

RELAY_PASSWORD = "planted-relay-password-7Qx"
BODY_SECRET = "planted-message-body-9Kz"


@pytest.fixture
def json_server(tmp_path, database_url, moto_s3):
    running = Server(tmp_path / "data", database_url, moto_s3, PINFOLD_LOG_FORMAT="json", PINFOLD_LOG_LEVEL="info",
                     PINFOLD_EMAIL_RELAY=f"smtp://user:{RELAY_PASSWORD}@127.0.0.1:9?starttls=off")
    yield running
    running.stop()


def _lines(server: Server) -> list[dict]:
    text = server.logs()
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "the server wrote no log lines"
    return [json.loads(line) for line in lines]  # every line is JSON, or this fails


def test_json_logs_carry_one_access_line_per_call_and_no_secret(json_server):
    placed = onboard(json_server, "ma-mp")
    creds = placed["credentials"]
    pinpoint = make_client(json_server, creds)
    created = pinpoint.create_app(CreateApplicationRequest={"Name": "logged"})
    app_id = created["ApplicationResponse"]["Id"]
    with pytest.raises(ClientError) as missing:
        pinpoint.get_app(ApplicationId="0" * 32)
    sent = pinpoint.send_messages(ApplicationId=app_id, MessageRequest={
        "Addresses": {"ann@example.test": {"ChannelType": "EMAIL"}},
        "MessageConfiguration": {"EmailMessage": {"SimpleEmail": {
            "Subject": {"Data": "hello"}, "TextPart": {"Data": BODY_SECRET}}}}})
    forged = make_client(json_server, {**creds, "aws_secret_access_key": "planted-wrong-secret-4Rt"})
    with pytest.raises(ClientError) as refused:
        forged.get_apps()
    time.sleep(0.5)  # let the handler flush

    lines = _lines(json_server)
    assert any(line["message"].startswith("Pinfold serving on http://") for line in lines)
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # uvicorn's own start-up lines, as JSON
    access = {line["request_id"]: line for line in lines if line["logger"] == "pinfold.access"}

    create_line = access[created["ResponseMetadata"]["RequestId"]]
    assert (create_line["service"], create_line["operation"], create_line["status"]) == ("pinpoint", "CreateApp", 201)
    tenant = placed["tenant"]
    assert (create_line["account"], create_line["tenant"]) == (tenant["account_id"], tenant["tenant_id"])
    assert create_line["error"] is None and isinstance(create_line["ms"], float)
    missing_line = access[missing.value.response["ResponseMetadata"]["RequestId"]]
    assert (missing_line["operation"], missing_line["status"], missing_line["error"]) == \
        ("GetApp", 404, "NotFoundException")
    assert access[sent["ResponseMetadata"]["RequestId"]]["operation"] == "SendMessages"
    refused_line = access[refused.value.response["ResponseMetadata"]["RequestId"]]
    assert refused_line["status"] == 403 and refused_line["account"] is None

    text = json_server.logs()
    for secret in (creds["aws_secret_access_key"], json_server.admin["aws_secret_access_key"], RELAY_PASSWORD,
                   BODY_SECRET, "planted-wrong-secret-4Rt", "Signature="):
        assert secret not in text, f"{secret!r} reached the log"


def test_an_import_jobs_start_and_end_are_logged_without_its_data(json_server):
    placed = onboard(json_server, "sa-mp")
    tenant_id, project = placed["tenant"]["tenant_id"], placed["tenant"]["project_id"]
    folder = Path(json_server.env["PINFOLD_DATA_DIR"]).resolve() / "imports" / tenant_id / "logged"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text(f"ChannelType,Address,Id\nEMAIL,{BODY_SECRET}@example.com,a\nFAX,x,b\n")
    pinpoint = make_client(json_server, placed["credentials"])
    job_id = pinpoint.create_import_job(ApplicationId=project, ImportJobRequest={
        "S3Url": folder.as_uri(), "Format": "CSV", "RoleArn": "r", "DefineSegment": False})["ImportJobResponse"]["Id"]
    deadline, ended = time.monotonic() + 30, []
    while not ended and time.monotonic() < deadline:
        time.sleep(0.2)
        ended = [line for line in _lines(json_server) if line["message"].startswith(f"import job {job_id} ended")]

    jobs = [line for line in _lines(json_server) if line["logger"] == "pinfold.jobs" and job_id in line["message"]]
    assert [line["message"] for line in jobs][0] == f"import job {job_id} started in project {project}"
    assert len(ended) == 1 and ended[0]["level"] == "info"
    assert ended[0]["message"].startswith(f"import job {job_id} ended COMPLETED after ")
    assert ended[0]["message"].endswith(": 2 processed, 1 failed")
    assert BODY_SECRET not in json_server.logs()  # the imported data stays out of the log


def test_the_worker_logs_as_text_at_info_and_a_wrong_log_setting_is_refused(tmp_path):
    env = {**os.environ, "PINFOLD_DATA_DIR": str(tmp_path / "data"), "PINFOLD_LOG_LEVEL": "info",
           "PINFOLD_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}"}
    subprocess.run([sys.executable, "-m", "pinfold", "admin", "bootstrap"], env=env, check=True, capture_output=True)
    worker = subprocess.Popen([sys.executable, "-m", "pinfold", "worker"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        first = worker.stderr.readline()  # the first line is the worker's own: library chatter stays quiet at info
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    assert " INFO    pinfold: Pinfold worker running (data in " in first, first
    assert first[:4].isdigit() and first[10] == "T"  # an ISO timestamp opens the line

    for name, value in (("PINFOLD_LOG_FORMAT", "xml"), ("PINFOLD_LOG_LEVEL", "loud")):
        result = subprocess.run([sys.executable, "-m", "pinfold", "tenants", "list"], env={**env, name: value},
                                capture_output=True, text=True)
        assert result.returncode == 2
        assert f"error: {name} must be one of" in result.stderr and repr(value) in result.stderr
        assert "Traceback" not in result.stderr
