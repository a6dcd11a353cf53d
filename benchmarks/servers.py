"""Start and stop the servers under test: Pinfold (SQLite or a fresh PostgreSQL database) and moto."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Far above anything the CreateApp phase makes, so the default cap of 100 never refuses a call.
PROJECT_CAP = 1_000_000


@dataclass(frozen=True)
class Target:
    """Where a client connects and as whom; picklable so client processes can build their own client."""

    endpoint_url: str
    region: str
    access_key_id: str
    secret_access_key: str

    def client(self):
        import boto3
        from botocore.config import Config

        # One attempt only: a failed call must fail the run, not hide inside a retry.
        config = Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=120)
        return boto3.client("pinpoint", endpoint_url=self.endpoint_url, region_name=self.region,
                            aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key, config=config)


@dataclass(frozen=True)
class Server:
    name: str
    target: Target
    pid: int
    data_dir: Path | None = None

    def cpu_seconds(self) -> float:
        """User plus system CPU the process (all its threads) has used so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces; skip past it
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_kib(self) -> int | None:
        """The process's high-water resident set (VmHWM) so far, in KiB; None once it is gone."""
        return peak_rss_kib(self.pid)


@contextmanager
def pinfold_workers(envs: list[dict[str, str]]) -> Iterator[list[subprocess.Popen]]:
    """A `pinfold worker` process per item of `envs`, with its PINFOLD_* settings over the environment's,
    stopped (SIGTERM, then waited for) at exit."""
    workers = [subprocess.Popen([sys.executable, "-m", "pinfold", "worker"], env={**os.environ, **env})
               for env in envs]
    try:
        yield workers
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(60)


def peak_rss_kib(pid: int) -> int | None:
    """A process's high-water resident set (VmHWM) so far, in KiB; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_healthy(process: subprocess.Popen, url: str, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy at {url} after {timeout:.0f}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _pinfold(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "pinfold"), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pinfold {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


@contextmanager
def pinfold_server(database_url: str = "", **settings: str) -> Iterator[Server]:
    """Bootstrap a fresh data directory, raise the project cap, serve; stop and clean up on exit.
    `settings` are extra PINFOLD_* variables for the server."""
    data_dir = Path(tempfile.mkdtemp(prefix="pinfold-bench-"))
    port = free_port()
    env = {**os.environ, "PINFOLD_DATA_DIR": str(data_dir), "PINFOLD_PORT": str(port), **settings}
    if database_url:
        env["PINFOLD_DATABASE_URL"] = database_url
    process = None
    try:
        creds = json.loads(_pinfold(env, "admin", "bootstrap"))
        _pinfold(env, "accounts", "set-project-cap", creds["account_id"], str(PROJECT_CAP))
        log = data_dir / "serve.log"
        with log.open("w") as out:
            process = subprocess.Popen([str(BIN / "pinfold"), "serve"], env=env, stdout=out,
                                       stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(process, f"{url}/health", log)
        target = Target(url, creds["region"], creds["aws_access_key_id"], creds["aws_secret_access_key"])
        yield Server("pinfold", target, process.pid, data_dir)
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def moto_server() -> Iterator[Server]:
    """moto's standalone server, as shipped (`moto_server -p PORT`); any credentials are accepted."""
    log_dir = Path(tempfile.mkdtemp(prefix="moto-bench-"))
    port = free_port()
    log = log_dir / "moto.log"
    process = None
    try:
        with log.open("w") as out:
            process = subprocess.Popen([str(BIN / "moto_server"), "-p", str(port)], stdout=out,
                                       stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        # moto has no health route; any HTTP answer from the dashboard means it is listening.
        _wait_until_healthy(process, f"{url}/moto-api/", log)
        yield Server("moto", Target(url, "us-east-1", "testing", "testing"), process.pid)
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(log_dir, ignore_errors=True)


def postgres_settings(admin_url: str) -> str:
    """The server's version and the settings that move the queue's speed, for a run's first line."""
    import psycopg

    with psycopg.connect(admin_url) as conn:
        shown = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                 for name in ("server_version", "autovacuum", "shared_buffers", "synchronous_commit")}
    return "postgres " + ", ".join(f"{name} {value}" for name, value in shown.items())


@contextmanager
def postgres_database(admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A fresh, uniquely named database for one run; dropped on exit even if a server still holds it."""
    import psycopg

    name = f"pinfold_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
