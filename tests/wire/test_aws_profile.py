"""`pinfold admin bootstrap --aws-profile`: a boto3 client configured only by that output reaches the server."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3
import pytest

from tests.conftest import Server, free_port


@pytest.fixture
def profiled_server(tmp_path, database_url, moto_s3):
    """A fresh server whose organization was bootstrapped with --aws-profile (its output kept as a file)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = object.__new__(Server)  # Server() would bootstrap for JSON; here the profile output is the point
    server.port = free_port()
    server.url = f"http://127.0.0.1:{server.port}"
    server.env = {**os.environ, "PINFOLD_DATA_DIR": str(data_dir), "PINFOLD_DATABASE_URL": database_url,
                  "PINFOLD_PORT": str(server.port), "PINFOLD_LOG_LEVEL": "warning",
                  "PINFOLD_S3_ENDPOINT_URL": moto_s3}
    printed = subprocess.run([sys.executable, "-m", "pinfold", "admin", "bootstrap", "--aws-profile", "pinfold-test"],
                             env=server.env, capture_output=True, text=True, check=True).stdout
    config = tmp_path / "aws-config"
    config.write_text(printed)
    server.log = open(data_dir / "server.log", "a+")
    server.start()
    yield server, config
    server.stop()


def test_a_client_configured_only_by_the_printed_profile_works(profiled_server, tmp_path, monkeypatch):
    server, config = profiled_server
    assert "[profile pinfold-test]" in config.read_text()
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    session = boto3.Session(profile_name="pinfold-test")
    pinpoint = session.client("pinpoint")
    assert pinpoint.meta.endpoint_url == server.url
    created = pinpoint.create_app(CreateApplicationRequest={"Name": "from-profile"})["ApplicationResponse"]
    assert pinpoint.get_app(ApplicationId=created["Id"])["ApplicationResponse"]["Name"] == "from-profile"
    assert "SendQuota" in session.client("sesv2").get_account()


def test_the_other_ways_the_readme_shows_reach_the_server_too(profiled_server, tmp_path, monkeypatch):
    """Per-service `services` sections in the config file, then AWS_ENDPOINT_URL_<SERVICE> variables."""
    server, config = profiled_server
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    lines = [line for line in config.read_text().splitlines() if not line.startswith("endpoint_url")]
    sections = tmp_path / "aws-config-services"
    sections.write_text("\n".join([*lines, "services = pinfold", "", "[services pinfold]",
                                   *(f"{service} =\n  endpoint_url = {server.url}"
                                     for service in ("pinpoint", "sesv2", "pinpoint_sms_voice_v2"))]) + "\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(sections))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    session = boto3.Session(profile_name="pinfold-test")
    for service in ("pinpoint", "sesv2", "pinpoint-sms-voice-v2"):
        assert session.client(service).meta.endpoint_url == server.url
    assert "ApplicationsResponse" in session.client("pinpoint").get_apps()
    plain = tmp_path / "aws-config-plain"
    plain.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(plain))
    for variable, service in (("AWS_ENDPOINT_URL_PINPOINT", "pinpoint"), ("AWS_ENDPOINT_URL_SESV2", "sesv2"),
                              ("AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2", "pinpoint-sms-voice-v2"),
                              ("AWS_ENDPOINT_URL", "pinpoint")):
        monkeypatch.setenv(variable, server.url)
        assert boto3.Session(profile_name="pinfold-test").client(service).meta.endpoint_url == server.url
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    assert "SendQuota" in boto3.Session(profile_name="pinfold-test").client("sesv2").get_account()
