"""/metrics after real traffic, parsed with the Prometheus text parser: AWS calls by service,
operation and status with their latency, readings from the database, process metrics; bounded labels;
and the same from `pinfold worker --metrics-port`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port, make_client, onboard


def _samples(text: str) -> dict[str, list]:
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def _value(samples: list, **labels) -> float:
    matching = [s.value for s in samples if all(s.labels.get(k) == v for k, v in labels.items())]
    assert matching, f"no sample with {labels}"
    return sum(matching)


def test_metrics_count_calls_and_read_the_database_after_real_traffic(server):
    placed = onboard(server, "ma-mp")
    pinpoint = make_client(server, placed["credentials"])
    before = _samples(httpx.get(f"{server.url}/metrics").text)
    total_before = sum(sample.value for sample in before.get("pinfold_requests_total", []))
    app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "metered"})["ApplicationResponse"]["Id"]
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="e1", EndpointRequest={
        "ChannelType": "EMAIL", "Address": "ann@example.test"})
    with pytest.raises(ClientError):
        pinpoint.get_app(ApplicationId="0" * 32)

    answer = httpx.get(f"{server.url}/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    requests = samples["pinfold_requests_total"]
    assert _value(requests, service="pinpoint", operation="CreateApp", status="201") >= 1
    assert _value(requests, service="pinpoint", operation="GetApp", status="404") >= 1
    assert _value(requests) >= total_before + 3
    assert _value(samples["pinfold_request_seconds_count"], service="pinpoint", operation="UpdateEndpoint") >= 1
    assert samples["pinfold_request_seconds_bucket"]
    assert _value(samples["pinfold_sending_queue_messages"], channel="email") >= 0
    assert _value(samples["pinfold_sending_queue_overdue_seconds"], channel="email") >= 0
    assert any(s.labels["sink"] == "lake" for s in samples["pinfold_outbox_lag_records"])
    assert "# TYPE pinfold_jobs gauge" in answer.text  # declared even while no job exists
    assert _value(samples["process_resident_memory_bytes"]) > 0

    # Bounded labels: operation names come from the model, never ids or addresses.
    for sample in requests:
        assert "@" not in sample.labels["operation"] and app_id not in sample.labels["operation"]
        assert sample.labels["operation"] == "-" or sample.labels["operation"][0].isupper()


def test_a_worker_answers_scrapes_on_its_metrics_port(tmp_path):
    port = free_port()
    env = {**os.environ, "PINFOLD_DATA_DIR": str(tmp_path / "data"), "PINFOLD_LOG_LEVEL": "warning",
           "PINFOLD_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}"}
    subprocess.run([sys.executable, "-m", "pinfold", "admin", "bootstrap"], env=env, check=True, capture_output=True)
    worker = subprocess.Popen([sys.executable, "-m", "pinfold", "worker", "--metrics-port", str(port)], env=env)
    try:
        deadline, text = time.monotonic() + 30, None
        while text is None and time.monotonic() < deadline:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            except httpx.TransportError:
                time.sleep(0.2)
        assert text is not None, "the worker did not answer on its metrics port"
        samples = _samples(text)
        assert _value(samples["pinfold_sending_queue_messages"], channel="email") == 0
        assert _value(samples["process_cpu_seconds_total"]) >= 0
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)


def test_messages_are_counted_by_channel_account_and_outcome_once_committed(server):
    placed = onboard(server, "ma-mp")
    account = placed["tenant"]["account_id"]
    ses = make_client(server, placed["credentials"], "sesv2")
    ses.create_email_identity(EmailIdentity="metered.example.com")
    server.cli("identities", "verify", "metered.example.com", "--account", account)
    server.cli("accounts", "production", account, "--max-24h", "1000", "--max-rate", "100")
    ses.put_suppressed_destination(EmailAddress="gone@example.org", Reason="BOUNCE")
    for to in ("success@simulator.amazonses.com", "bounce@simulator.amazonses.com", "gone@example.org",
               "complaint@simulator.amazonses.com"):
        ses.send_email(FromEmailAddress="news@metered.example.com", Destination={"ToAddresses": [to]},
                       Content={"Simple": {"Subject": {"Data": "n"}, "Body": {"Text": {"Data": "n"}}}})
    with pytest.raises(ClientError):  # refused before anything is queued: nothing is counted
        ses.send_email(FromEmailAddress="news@unverified.example.com", Destination={"ToAddresses": ["a@b.org"]},
                       Content={"Simple": {"Subject": {"Data": "n"}, "Body": {"Text": {"Data": "n"}}}})

    # The complaint arrives after its delivery: both are counted.
    wanted = {"accepted": 4, "delivered": 2, "bounced": 1, "suppressed": 1, "complained": 1}
    deadline, counted = time.monotonic() + 30, {}
    while counted != wanted and time.monotonic() < deadline:
        samples = _samples(httpx.get(f"{server.url}/metrics").text).get("pinfold_messages_total", [])
        counted = {s.labels["outcome"]: s.value for s in samples if s.labels["account"] == account}
        time.sleep(0.2)
    assert counted == wanted
    assert {s.labels["channel"] for s in samples if s.labels["account"] == account} == {"email"}


def test_texts_are_counted_like_mail(server):
    placed = onboard(server, "ma-mp")
    account = placed["tenant"]["account_id"]
    sms = make_client(server, placed["credentials"], "pinpoint-sms-voice-v2")
    number = sms.request_phone_number(IsoCountryCode="US", MessageType="TRANSACTIONAL", NumberCapabilities=["SMS"],
                                      NumberType="SIMULATOR")["PhoneNumber"]
    for destination in ("+14254147755", "+14254147167"):  # AWS's US simulator success and failure numbers
        sms.send_text_message(DestinationPhoneNumber=destination, OriginationIdentity=number, MessageBody="hi")
    wanted = {"accepted": 2, "delivered": 1, "failed": 1}
    deadline, counted = time.monotonic() + 30, {}
    while counted != wanted and time.monotonic() < deadline:
        samples = _samples(httpx.get(f"{server.url}/metrics").text).get("pinfold_messages_total", [])
        counted = {s.labels["outcome"]: s.value for s in samples
                   if s.labels["account"] == account and s.labels["channel"] == "sms"}
        time.sleep(0.2)
    assert counted == wanted
