"""A tenant's import and export URLs cannot leave its storage prefixes, however they are spelled.

The attacks are the ones a hostile tenant tried: `..`, percent-encoded dots, absolute paths,
symlinks out of its folder and S3 key traversal, for imports and exports, in all three models.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pinfold.audience import exports, imports, jobs, storage
from pinfold.bootstrap import JOB_RUNNERS
from pinfold.core import sources
from pinfold.core.errors import Forbidden, InvalidInput
from tests.service.helpers import onboard

MODELS = ["sa-sp", "sa-mp", "ma-mp"]


def _folder(ctx, tenant_id: str) -> Path:
    folder = ctx.settings.data_dir.resolve() / "imports" / tenant_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _escapes(ctx, own: Path, victim: Path) -> list[str]:
    """URLs that start with the tenant's own prefix (or not at all) but name somewhere else."""
    data_dir = ctx.settings.data_dir.resolve()
    (own / "link").symlink_to(victim, target_is_directory=True)
    (own / "key-link.csv").symlink_to(data_dir / "master.key")
    return [
        f"{own.as_uri()}/../{victim.name}/",
        f"{own.as_uri()}/../../master.key",
        f"{own.as_uri()}/%2e%2e/{victim.name}/people.csv",
        f"{own.as_uri()}/%2E%2E/%2E%2E/master.key",
        f"{own.as_uri()}/..%2f{victim.name}/",
        f"{own.as_uri()}/link/",
        f"{own.as_uri()}/key-link.csv",
        victim.as_uri() + "/",
        "file:///etc/passwd",
        f"file://localhost{data_dir}/master.key",
    ]


@pytest.fixture
def two_tenants(ctx, admin, request):
    model = request.param
    attacker_row, attacker = onboard(ctx, admin, "mallory", model)
    onboard(ctx, admin, "alice", model)
    own, victim = _folder(ctx, "mallory"), _folder(ctx, "alice")
    (victim / "people.csv").write_text("ChannelType,Address\nEMAIL,alice@example.com\n")
    (ctx.settings.data_dir / "master.key").touch()
    return attacker, attacker_row["project_id"], own, victim


@pytest.mark.parametrize("two_tenants", MODELS, indirect=True)
def test_import_urls_that_escape_the_prefix_are_refused(ctx, two_tenants):
    attacker, project, own, victim = two_tenants
    for url in _escapes(ctx, own, victim):
        with pytest.raises(Forbidden) as refused:
            imports.create(ctx, attacker, project, {"S3Url": url, "Format": "CSV", "RoleArn": ""})
        message = refused.value.message
        assert str(ctx.settings.data_dir.resolve()) not in message, (url, message)
        assert "file://{data_dir}/imports/mallory/" in message, (url, message)
    assert not jobs.run_next(ctx, JOB_RUNNERS)  # nothing was queued


@pytest.mark.parametrize("two_tenants", MODELS, indirect=True)
def test_export_urls_that_escape_the_prefix_are_refused(ctx, two_tenants):
    attacker, project, own, victim = two_tenants
    for url in _escapes(ctx, own, victim):
        with pytest.raises(Forbidden):
            exports.create(ctx, attacker, project, {"RoleArn": "r", "S3UrlPrefix": url})
    assert not jobs.run_next(ctx, JOB_RUNNERS)
    assert sorted(path.name for path in victim.iterdir()) == ["people.csv"]


@pytest.mark.parametrize("two_tenants", MODELS, indirect=True)
def test_s3_key_traversal_is_refused(ctx, two_tenants):
    attacker, project, _own, _victim = two_tenants
    for url in ("s3://pinfold-imports/mallory/../alice/", "s3://pinfold-imports/mallory/%2e%2e/alice/x.csv",
                "s3://pinfold-imports/mallory//../../alice/", "s3://pinfold-imports/mallory/./../alice",
                "s3://pinfold-imports/../../etc/passwd", "s3://pinfold-imports/malloryx/",
                "s3://other-bucket/mallory/"):
        with pytest.raises(Forbidden):
            imports.create(ctx, attacker, project, {"S3Url": url, "Format": "CSV", "RoleArn": ""})
        with pytest.raises(Forbidden):
            exports.create(ctx, attacker, project, {"RoleArn": "r", "S3UrlPrefix": url})


@pytest.mark.parametrize("two_tenants", ["sa-mp"], indirect=True)
def test_the_own_prefix_still_works_however_it_is_spelled(ctx, two_tenants):
    attacker, project, own, _victim = two_tenants
    (own / "in").mkdir()
    (own / "in" / "people.csv").write_text("ChannelType,Address\nEMAIL,m@example.com\n")
    for url in (f"{own.as_uri()}/in/", f"{own.as_uri()}/in/../in/people.csv", f"{own.as_uri()}/%69n/"):
        job = imports.create(ctx, attacker, project, {"S3Url": url, "Format": "CSV", "RoleArn": ""})
        assert jobs.run_next(ctx, JOB_RUNNERS)
        done = imports.get(ctx, attacker, project, job["Id"])
        assert (done["JobStatus"], done["TotalProcessed"], done["TotalFailures"]) == ("COMPLETED", 1, 0), url
    assert storage.authorize(ctx, attacker, "s3://pinfold-imports/mallory/a/./b//c.csv", field="S3Url") == \
        "s3://pinfold-imports/mallory/a/b/c.csv"


@pytest.mark.parametrize("two_tenants", ["sa-mp"], indirect=True)
def test_a_symlink_planted_after_the_request_is_caught_when_the_job_runs(ctx, two_tenants):
    attacker, project, own, victim = two_tenants
    folder = own / "later"
    folder.mkdir()
    (folder / "ok.csv").write_text("ChannelType,Address\nEMAIL,m@example.com\n")
    job = imports.create(ctx, attacker, project, {"S3Url": folder.as_uri() + "/", "Format": "CSV", "RoleArn": ""})
    (folder / "ok.csv").unlink()
    folder.rmdir()
    folder.symlink_to(victim, target_is_directory=True)
    assert jobs.run_next(ctx, JOB_RUNNERS)
    done = imports.get(ctx, attacker, project, job["Id"])
    assert done["JobStatus"] == "FAILED" and done["TotalProcessed"] == 0
    assert "may only use storage" in done["Failures"][0]
    assert "alice@example.com" not in json.dumps(done["Failures"])


def test_listing_skips_symlinks_that_point_out_of_the_folder(tmp_path):
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    inside.mkdir()
    outside.mkdir()
    (outside / "secret.csv").write_text("Id\nsecret\n")
    (inside / "mine.csv").write_text("Id\nmine\n")
    (inside / "leak.csv").symlink_to(outside / "secret.csv")
    (inside / "also-mine.csv").symlink_to(inside / "mine.csv")
    listed = [ref.url for ref in sources.list_objects(inside.as_uri() + "/", sources.S3Settings())]
    assert listed == [(inside / "mine.csv").as_uri()] * 2  # the inner link resolves to the file it names


def test_s3_listing_matches_whole_components(monkeypatch):
    seen = []

    class Pages:
        def paginate(self, **kwargs):
            seen.append(kwargs)
            return [{"Contents": [{"Key": key, "Size": 1} for key in
                                  ("t1", "t1/a.csv", "t10/b.csv", "t1x.csv", "t1/../t2/c.csv", "t1/sub/")]}]

    class Client:
        def get_paginator(self, _name):
            return Pages()

    monkeypatch.setattr(sources, "_client", lambda _s3: Client())
    refs = sources.list_objects("s3://bucket/t1", sources.S3Settings())
    assert [ref.url for ref in refs] == ["s3://bucket/t1", "s3://bucket/t1/a.csv"]
    assert seen == [{"Bucket": "bucket", "Prefix": "t1"}]


@pytest.mark.parametrize("url", ["file:///tmp/a%00b", "file://relative/x", "s3://", "s3:///key", "s3://b%2fx/k",
                                 "http://example.com/x", "file:///tmp/\x00"])
def test_malformed_urls_are_invalid_input(url):
    with pytest.raises(InvalidInput):
        sources.locate(url)


def test_a_non_csv_file_is_not_echoed_in_the_failure(ctx, admin):
    row, tenant = onboard(ctx, admin, "acme", "sa-mp")
    folder = _folder(ctx, "acme")
    (folder / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/sbin/nologin\n")
    job = imports.create(ctx, tenant, row["project_id"], {"S3Url": (folder / "passwd").as_uri(), "Format": "CSV",
                                                          "RoleArn": ""})
    assert jobs.run_next(ctx, JOB_RUNNERS)
    done = imports.get(ctx, tenant, row["project_id"], job["Id"])
    assert done["JobStatus"] == "FAILED"
    assert "x:0:0" not in json.dumps(done["Failures"]) and "/bin/bash" not in json.dumps(done["Failures"])
    assert "not a CSV endpoint file" in done["Failures"][0]


def test_exports_are_gzipped_json_lines_named_after_the_job(ctx, admin):
    row, tenant = onboard(ctx, admin, "acme", "sa-mp")
    folder = _folder(ctx, "acme")
    (folder / "people.csv").write_text("ChannelType,Address,Id\nEMAIL,a@example.com,a\nEMAIL,b@example.com,b\n")
    imports.create(ctx, tenant, row["project_id"], {"S3Url": (folder / "people.csv").as_uri(), "Format": "CSV",
                                                    "RoleArn": ""})
    assert jobs.run_next(ctx, JOB_RUNNERS)
    job = exports.create(ctx, tenant, row["project_id"], {"RoleArn": "r", "S3UrlPrefix": (folder / "out").as_uri()})
    assert jobs.run_next(ctx, JOB_RUNNERS)
    written = folder / "out" / f"{job['Id']}.gz"
    with gzip.open(written, "rt") as handle:
        assert sorted(json.loads(line)["Id"] for line in handle) == ["a", "b"]


def test_a_file_swapped_for_a_symlink_after_listing_is_not_read(tmp_path):
    mine, theirs = tmp_path / "t1", tmp_path / "t2"
    (mine / "sub").mkdir(parents=True)
    theirs.mkdir()
    (theirs / "secret.csv").write_text("Id\nsecret\n")
    (theirs / "a.csv").write_text("Id\nalso-secret\n")
    (mine / "a.csv").write_text("Id\nmine\n")
    (mine / "sub" / "a.csv").write_text("Id\nmine\n")
    refs = sources.list_objects(mine.as_uri() + "/", sources.S3Settings())
    (mine / "a.csv").unlink()
    (mine / "a.csv").symlink_to(theirs / "secret.csv")  # the file itself becomes a link...
    (mine / "sub" / "a.csv").unlink()
    (mine / "sub").rmdir()
    (mine / "sub").symlink_to(theirs, target_is_directory=True)  # ...and a folder above the other
    for ref in refs:
        with pytest.raises((Forbidden, InvalidInput)):
            list(sources.read_lines(ref, sources.S3Settings()))


def test_an_export_never_writes_through_a_planted_symlink(tmp_path):
    folder, victim = tmp_path / "t1" / "out", tmp_path / "t2" / "victim.csv"
    folder.mkdir(parents=True)
    victim.parent.mkdir()
    victim.write_text("precious\n")
    (folder / "job1.gz").symlink_to(victim)
    written = sources.write_object((folder / "job1.gz").as_uri(), [b"exported\n"], sources.S3Settings(),
                                   within=folder.as_uri())
    assert written == 9 and victim.read_text() == "precious\n"
    assert not (folder / "job1.gz").is_symlink() and (folder / "job1.gz").read_bytes() == b"exported\n"
    (tmp_path / "t1" / "elsewhere").symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(Forbidden):
        sources.write_object((tmp_path / "t1" / "elsewhere" / "x.gz").as_uri(), [b"x"], sources.S3Settings(),
                             within=folder.as_uri())
    assert sorted(path.name for path in victim.parent.iterdir()) == ["victim.csv"]


@pytest.mark.parametrize("two_tenants", ["sa-mp"], indirect=True)
def test_an_export_job_whose_object_is_a_planted_symlink_fails_and_writes_nothing_outside(ctx, two_tenants):
    attacker, project, own, victim = two_tenants
    (own / "out").mkdir()
    job = exports.create(ctx, attacker, project, {"RoleArn": "r", "S3UrlPrefix": (own / "out").as_uri()})
    (own / "out" / f"{job['Id']}.gz").symlink_to(victim / "people.csv")  # planted between request and run
    assert jobs.run_next(ctx, JOB_RUNNERS)
    done = exports.get(ctx, attacker, project, job["Id"])
    assert done["JobStatus"] == "FAILED" and "may only use storage" in done["Failures"][0]
    assert (victim / "people.csv").read_text() == "ChannelType,Address\nEMAIL,alice@example.com\n"
