"""Operating Pinfold from the command line, as real processes: settings from every place they come
from (a misspelt name warned about, a malformed value refused with exit code 2), `pinfold config
show` with secrets masked, the README's table made from the declarations, a data directory or
database that was never initialised refused instead of created, an old database refused and then
upgraded, a missing or wrong master key caught at start, and `pinfold --version`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from pinfold.config import Settings, settings_table
from pinfold.db.database import Database, code_head
from tests.conftest import ON_POSTGRES, _database_url, _postgres_admin_engine, free_port

REPO = Path(__file__).resolve().parents[2]


def _pinfold(*args: str, env: dict, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pinfold", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def _clean_env(tmp_path: Path, **settings: str) -> dict:
    """The environment without any PINFOLD_* the test run itself carries, plus these settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PINFOLD_")}
    return {**env, "PINFOLD_DATA_DIR": str(tmp_path / "data"), "PINFOLD_LOG_LEVEL": "warning", **settings}


@pytest.fixture
def empty_database_url(tmp_path):
    """A database nothing has touched: a SQLite path with no file yet, or an empty PostgreSQL database."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'data' / 'pinfold.db'}"
        return
    name = f"pinfold_e_{uuid.uuid4().hex[:12]}"
    with _postgres_admin_engine().connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    yield _database_url(name)
    with _postgres_admin_engine().connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_misspelt_setting_is_warned_about_with_the_closest_name(tmp_path):
    env = _clean_env(tmp_path, PINFOLD_LOG_LEVL="debug", PINFOLD_EMAIL_BACTH="5")
    result = _pinfold("config", "show", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert "unknown setting PINFOLD_LOG_LEVL in the environment is ignored (did you mean PINFOLD_LOG_LEVEL?)" \
        in result.stderr
    assert "did you mean PINFOLD_EMAIL_BATCH?" in result.stderr
    shown = {row["setting"]: row for row in json.loads(result.stdout)}
    assert shown["PINFOLD_LOG_LEVEL"]["value"] == "warning" and shown["PINFOLD_EMAIL_BATCH"]["value"] == "1000"


@pytest.mark.parametrize(("name", "value", "says"), [
    ("PINFOLD_PORT", "eighty", "PINFOLD_PORT must be a whole number, not 'eighty'"),
    ("PINFOLD_PORT", "70000", "PINFOLD_PORT must be less than or equal to 65535"),
    ("PINFOLD_EMAIL_BATCH", "0", "PINFOLD_EMAIL_BATCH must be greater than or equal to 1"),
    ("PINFOLD_DNS_TIMEOUT", "soon", "PINFOLD_DNS_TIMEOUT must be a number"),
    ("PINFOLD_LOG_FORMAT", "xml", "PINFOLD_LOG_FORMAT must be one of text, json, not 'xml'"),
])
def test_a_malformed_value_stops_every_command_with_exit_code_2_and_one_line(tmp_path, name, value, says):
    env = _clean_env(tmp_path, **{name: value})
    for command in (("serve",), ("worker",), ("tenants", "list"), ("config", "show")):
        result = _pinfold(*command, env=env)
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.strip() == f"error: {says}" or result.stderr.startswith(f"error: {says}"), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was made


def test_settings_come_from_a_config_file_dotenv_the_environment_files_and_flags_in_that_order(tmp_path):
    config = tmp_path / "pinfold.toml"
    config.write_text('region = "eu-west-1"\nport = 9000\nemail_batch = 250\nmail_domian = "x"\n')
    (tmp_path / ".env").write_text("PINFOLD_PORT=9100\nPINFOLD_MAIL_DOMAIN=mail.example.net\nOTHER_TOOL=1\n")
    key_file = tmp_path / "master.key.secret"
    planted_key = Fernet.generate_key().decode()
    key_file.write_text(planted_key + "\n")
    relay_password = "planted-relay-password-Zq8"
    env = _clean_env(tmp_path, PINFOLD_CONFIG=str(config), PINFOLD_MAIL_DOMAIN="mail.example.org",
                     PINFOLD_MASTER_KEY_FILE=str(key_file),
                     PINFOLD_EMAIL_RELAY=f"smtp://user:{relay_password}@relay.example.org:587",
                     PINFOLD_DATABASE_URL="postgresql://pinfold:planted-db-password@db.example.org/pinfold")
    result = _pinfold("config", "show", "--json", "--data-dir", str(tmp_path / "flagged"), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = {row["setting"]: row for row in json.loads(result.stdout)}

    def setting(name: str) -> tuple[str, str]:
        return shown[name]["value"], shown[name]["source"]

    assert setting("PINFOLD_REGION") == ("eu-west-1", "config file")
    assert setting("PINFOLD_EMAIL_BATCH") == ("250", "config file")
    assert setting("PINFOLD_PORT") == ("9100", ".env")  # .env over the config file
    assert setting("PINFOLD_MAIL_DOMAIN") == ("mail.example.org", "environment")  # the environment over .env
    assert setting("PINFOLD_MASTER_KEY") == ("********", f"file {key_file}")
    assert setting("PINFOLD_DATA_DIR") == (str(tmp_path / "flagged"), "command line")
    assert setting("PINFOLD_EMAIL_RELAY")[0] == "********"
    assert setting("PINFOLD_DATABASE_URL")[0] == "postgresql://pinfold:********@db.example.org/pinfold"
    assert "unknown setting mail_domian" in result.stderr and "did you mean mail_domain?" in result.stderr
    for secret in (planted_key, relay_password, "planted-db-password"):
        assert secret not in result.stdout + result.stderr

    table = _pinfold("config", "show", env=env, cwd=tmp_path)
    assert table.returncode == 0 and "PINFOLD_REGION" in table.stdout and planted_key not in table.stdout

    both = _pinfold("config", "show", env={**env, "PINFOLD_MASTER_KEY": planted_key}, cwd=tmp_path)
    assert both.returncode == 2
    assert both.stderr.strip() == "error: set PINFOLD_MASTER_KEY or PINFOLD_MASTER_KEY_FILE, not both"
    unreadable = _pinfold("config", "show", env={**env, "PINFOLD_MASTER_KEY_FILE": str(tmp_path / "nope")})
    assert unreadable.returncode == 2 and "cannot be read" in unreadable.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("port = \n")
    bad_file = _pinfold("config", "show", env={**env, "PINFOLD_CONFIG": str(broken)})
    assert bad_file.returncode == 2 and "is not valid TOML" in bad_file.stderr and "Traceback" not in bad_file.stderr


def test_the_readme_settings_table_is_made_from_the_declarations():
    readme = (REPO / "README.md").read_text()
    start, end = "<!-- settings: made by `pinfold config table` -->\n", "<!-- settings end -->"
    assert start in readme and end in readme
    written = readme[readme.index(start) + len(start):readme.index(end)]
    assert written == settings_table(), "README.md's settings table differs: paste `pinfold config table` into it"
    assert all(f"`PINFOLD_{name.upper()}`" in written for name in Settings.model_fields)


def test_commands_refuse_a_data_directory_that_was_never_initialised(tmp_path, empty_database_url):
    env = _clean_env(tmp_path, PINFOLD_DATABASE_URL=empty_database_url)
    for command in (("tenants", "list"), ("serve",), ("worker",), ("db", "upgrade"), ("accounts", "list")):
        result = _pinfold(*command, env=env)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "pinfold admin bootstrap" in result.stderr and "Traceback" not in result.stderr, result.stderr
    status = _pinfold("db", "status", "--json", env=env)
    assert status.returncode == 1
    assert json.loads(status.stdout)["state"] == ("uninitialised" if ON_POSTGRES else "missing")
    assert not (tmp_path / "data").exists()  # no data directory, database or master key was made
    if ON_POSTGRES:
        with Database(empty_database_url).engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []

    assert _pinfold("admin", "bootstrap", env=env).returncode == 0  # the one command that initialises
    assert (tmp_path / "data" / "master.key").exists()
    assert _pinfold("tenants", "list", env=env).returncode == 0


def _wait_ready(url: str, process: subprocess.Popen) -> httpx.Response:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            return httpx.get(f"{url}/ready")
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer")


def test_an_old_database_is_refused_then_upgraded(tmp_path, empty_database_url):
    env = _clean_env(tmp_path, PINFOLD_DATABASE_URL=empty_database_url, PINFOLD_PORT=str(free_port()))
    assert _pinfold("admin", "bootstrap", env=env).returncode == 0
    head = code_head()
    database = Database(empty_database_url)
    database.downgrade("0013")  # as a database the previous release left
    database.dispose()

    for command in (("serve",), ("worker",), ("tenants", "list")):
        refused = _pinfold(*command, env=env)
        assert refused.returncode == 1, (command, refused.stderr)
        assert refused.stderr.strip() == (f"error: the database is at schema 0013, behind this Pinfold's {head}; "
                                          "run `pinfold db upgrade` (or start with --migrate)")
    status = _pinfold("db", "status", "--json", env=env)
    report = json.loads(status.stdout)
    assert status.returncode == 1 and (report["state"], report["current"], report["head"]) == ("behind", "0013", head)
    applied = [line.split(":")[0] for line in report["pending"]]
    assert applied[0] == "0014" and applied[-1] == head and applied == sorted(applied)

    upgraded = _pinfold("db", "upgrade", env=env)
    assert upgraded.returncode == 0 and f"from 0013 to {head}" in upgraded.stdout, upgraded.stderr
    assert _pinfold("db", "status", env=env).returncode == 0
    assert "already at" in _pinfold("db", "upgrade", env=env).stdout
    assert _pinfold("tenants", "list", env=env).returncode == 0

    database = Database(empty_database_url)
    database.downgrade("0013")
    database.dispose()
    server = subprocess.Popen([sys.executable, "-m", "pinfold", "serve", "--migrate"], env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        answer = _wait_ready(f"http://127.0.0.1:{env['PINFOLD_PORT']}", server)
        assert answer.status_code == 200 and answer.json()["checks"]["migrations"]["database"] == head
    finally:
        server.terminate()
        server.wait(30)


def test_a_database_from_a_newer_pinfold_is_refused(tmp_path, empty_database_url):
    env = _clean_env(tmp_path, PINFOLD_DATABASE_URL=empty_database_url)
    assert _pinfold("admin", "bootstrap", env=env).returncode == 0
    database = Database(empty_database_url)
    with database.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    database.dispose()
    for command in (("tenants", "list"), ("db", "upgrade"), ("serve", "--migrate")):
        result = _pinfold(*command, env=env)
        assert result.returncode == 1 and "a newer version upgraded it" in result.stderr, (command, result.stderr)


def test_a_missing_or_wrong_master_key_is_caught_at_start_and_never_replaced(tmp_path, empty_database_url):
    env = _clean_env(tmp_path, PINFOLD_DATABASE_URL=empty_database_url)
    assert _pinfold("admin", "bootstrap", env=env).returncode == 0
    key_path = tmp_path / "data" / "master.key"
    key = key_path.read_bytes()

    wrong = _pinfold("tenants", "list", env={**env, "PINFOLD_MASTER_KEY": Fernet.generate_key().decode()})
    assert wrong.returncode == 1
    assert "the master key cannot read the secrets this database holds" in wrong.stderr

    key_path.unlink()
    for command in (("tenants", "list"), ("worker",), ("admin", "bootstrap", "--if-needed")):
        missing = _pinfold(*command, env=env)
        assert missing.returncode == 1, (command, missing.stderr)
        assert "no master key" in missing.stderr and "Traceback" not in missing.stderr
        assert not key_path.exists()  # never a new key beside a database that has secrets

    key_path.write_bytes(key)
    assert _pinfold("tenants", "list", env=env).returncode == 0
    assert _pinfold("tenants", "list", env={**env, "PINFOLD_MASTER_KEY": key.decode().strip()}).returncode == 0


def test_version_matches_the_package_metadata():
    result = subprocess.run([sys.executable, "-m", "pinfold", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"pinfold {version('pinfold')}"


def test_the_license_file_matches_the_package_metadata():
    from importlib.metadata import metadata

    declared = metadata("pinfold")
    opening = (REPO / "LICENSE").read_text()[:300]
    assert declared["License-Expression"] == "Apache-2.0"
    assert "Apache License" in opening and "Version 2.0, January 2004" in opening
