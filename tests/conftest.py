"""Shared fixtures: a fresh database per test (SQLite or PostgreSQL) and a real `pinfold serve`.

PINFOLD_TEST_DATABASE chooses the engine: `sqlite` (default) or a PostgreSQL URL. Under CI=true a
missing PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from pinfold.config import Settings
from pinfold.context import Context
from pinfold.db.database import Database
from tests import webhook_receiver

TEST_DATABASE = os.environ.get("PINFOLD_TEST_DATABASE", "sqlite")
ON_POSTGRES = TEST_DATABASE.startswith("postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_admin_engine() -> sa.Engine:
    url = sa.engine.make_url(Database(TEST_DATABASE).url)
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """A migrated template database per test process, which each test copies (fast) instead of
    migrating its own: a SQLite file, or (on PostgreSQL) the name of a database to clone."""
    if not ON_POSTGRES:
        path = tmp_path_factory.mktemp("template") / "pinfold.db"
        template = Database(f"sqlite:///{path}")
        template.migrate()
        template.dispose()  # the last connection closes the write-ahead log into the file
        yield path
        return
    engine = _postgres_admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true and is not reachable: {error}")
        pytest.skip("PostgreSQL is not reachable")
    name = f"pinfold_tmpl_{uuid.uuid4().hex[:10]}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    template = Database(_database_url(name))
    template.migrate()
    template.dispose()
    yield name
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _database_url(name: str) -> str:
    url = Database(TEST_DATABASE).url.set(database=name)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def database_url(tmp_path: Path, database_template) -> str:
    """An empty, migrated database that only this test uses."""
    if not ON_POSTGRES:
        shutil.copyfile(database_template, tmp_path / "pinfold.db")
        yield f"sqlite:///{tmp_path / 'pinfold.db'}"
        return
    name = f"pinfold_t_{uuid.uuid4().hex[:12]}"
    engine = _postgres_admin_engine()
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{database_template}"'))
    yield _database_url(name)
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def ctx(tmp_path: Path, database_url: str):
    """A service context on a fresh database and data directory."""
    context = Context.open(Settings(data_dir=tmp_path / "data", database_url=database_url))
    yield context
    context.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unavailable(reason: str):
    """Skip a test whose outside service is missing, except under CI=true, where that is a failure."""
    if IN_CI:
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory) -> str:
    """A real S3 server (moto's server mode) on a loopback port; yields its endpoint URL."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w+")
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_http(process, f"http://127.0.0.1:{port}/moto-api/", log, "moto_server")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _wait_http(process: subprocess.Popen, url: str, log, name: str) -> None:
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            unavailable(f"{name} exited with {process.returncode}: {log.read()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    unavailable(f"{name} did not answer within 30 seconds")


class Server:
    """A real `pinfold serve` process on a loopback port, with its bootstrap credentials."""

    def __init__(self, data_dir: Path, database_url: str, s3_endpoint: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.s3_endpoint = s3_endpoint
        self.env = {**os.environ, "PINFOLD_DATA_DIR": str(data_dir), "PINFOLD_DATABASE_URL": database_url,
                    "PINFOLD_PORT": str(self.port), "PINFOLD_LOG_LEVEL": "warning",
                    "PINFOLD_S3_ENDPOINT_URL": s3_endpoint, "PINFOLD_S3_ACCESS_KEY_ID": "test",
                    "PINFOLD_S3_SECRET_ACCESS_KEY": "test", **env}
        self.admin = json.loads(self.cli("admin", "bootstrap").stdout)
        self.log = open(data_dir / "server.log", "a+")
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "pinfold", "serve"], env=self.env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def kill(self) -> None:
        """Stop the server the hard way (SIGKILL): no shutdown code runs."""
        self.process.kill()
        self.process.wait(10)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "pinfold", *args], env=self.env,
                                capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"pinfold {' '.join(args)} failed: {result.stderr}")
        return result

    def _wait_ready(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"pinfold serve exited: {self.log.read()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("pinfold serve did not become ready in 30 s")

    def logs(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory, database_template, moto_s3):
    """One server per test process; tests keep apart by creating their own projects and tenants."""
    data_dir = tmp_path_factory.mktemp("server")
    if ON_POSTGRES:
        name = f"pinfold_s_{uuid.uuid4().hex[:12]}"
        with _postgres_admin_engine().connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{database_template}"'))
        url = _database_url(name)
    else:
        url = f"sqlite:///{data_dir / 'pinfold.db'}"
    running = Server(data_dir, url, moto_s3)
    yield running
    running.stop()
    if ON_POSTGRES:
        with _postgres_admin_engine().connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def make_client(server: Server, creds: dict, service: str = "pinpoint", region: str | None = None):
    """A boto3 client that knows nothing but the endpoint URL and the credentials."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, endpoint_url=server.url, region_name=region or creds["region"],
        aws_access_key_id=creds["aws_access_key_id"], aws_secret_access_key=creds["aws_secret_access_key"],
        config=Config(retries={"max_attempts": 1}),
    )


def admin_request(server: Server, creds: dict, method: str, path: str, body: dict | None = None):
    """Call the admin API signed with SigV4 (signing name `pinfold`) as botocore would sign it."""
    return signed_request(server, creds, "pinfold", method, path, body)


def signed_request(server: Server, creds: dict, service: str, method: str, path: str, body: dict | None = None):
    """An HTTP request signed with botocore's SigV4 signer for `service`."""
    import httpx
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    data = json.dumps(body).encode() if body is not None else b""
    request = AWSRequest(method=method, url=f"{server.url}{path}", data=data,
                         headers={"Content-Type": "application/json"} if body is not None else {})
    SigV4Auth(Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"]), service,
              creds["region"]).add_auth(request)
    return httpx.request(method, request.url, headers=dict(request.headers), content=data)


def onboard(server: Server, model: str, **extra) -> dict:
    """Onboard a uniquely named tenant through the admin API; returns placement and credentials."""
    tenant_id = extra.pop("tenant_id", f"t{uuid.uuid4().hex[:10]}")
    response = admin_request(server, server.admin, "POST", "/admin/v1/tenants",
                             {"tenant_id": tenant_id, "model": model, **extra})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def receiver():
    """A custom channel's webhook receiver on loopback: (base URL, Receiver with `calls`, `script`, `account`)."""
    with webhook_receiver.serving() as running:
        yield running
