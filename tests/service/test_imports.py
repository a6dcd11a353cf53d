"""Import jobs from file:// sources: rows, failures, imported segments, resume after a crash, tenancy."""

from __future__ import annotations

import gzip
import time

import pytest

from pinfold.audience import endpoints, imports, jobs, segments
from pinfold.audience.store import jobs as job_store
from pinfold.bootstrap import JOB_RUNNERS
from pinfold.core.errors import Forbidden, NotFound
from tests.service.helpers import onboard

CSV = (
    "ChannelType,Address,Id,User.UserId,Attributes.plan,Attributes.plan,Metrics.visits\n"
    "EMAIL,ann@example.com,ann,u-ann,gold,silver,3\n"
    "EMAIL,bob@example.com,bob,u-bob,free,,x\n"  # line 3: visits is not a number
    "SMS,+15550100,cy,u-cy,gold,,1\n"
    "SMS,5550100,dee,u-dee,gold,,1\n"  # line 5: not E.164
    "EMAIL,eve@example.com,,u-eve,gold,,2\n"  # no Id: a stable id is made from the address
)


def _import(ctx, caller, project: str, url: str, **request) -> dict:
    job = imports.create(ctx, caller, project, {"S3Url": url, "Format": "CSV", "RoleArn": "", **request})
    assert job["JobStatus"] == "CREATED"
    assert jobs.run_next(ctx, JOB_RUNNERS)
    return imports.get(ctx, caller, project, job["Id"])


def test_good_rows_land_and_bad_rows_are_named(ctx, admin, project, tmp_path):
    (tmp_path / "people.csv").write_text(CSV)
    done = _import(ctx, admin, project, (tmp_path / "people.csv").as_uri(), DefineSegment=True, SegmentName="people")
    assert done["JobStatus"] == "COMPLETED" and done["TotalPieces"] == done["CompletedPieces"] == 1
    assert done["TotalProcessed"] == 5 and done["TotalFailures"] == 2
    assert [f.split(": ")[0] for f in done["Failures"]] == [f"{(tmp_path / 'people.csv').as_uri()}:3",
                                                             f"{(tmp_path / 'people.csv').as_uri()}:5"]
    assert endpoints.get(ctx, admin, project, "ann")["Attributes"]["plan"] == ["gold", "silver"]
    segment_id = done["Definition"]["SegmentId"]
    imported = segments.get(ctx, admin, project, segment_id)
    assert imported["SegmentType"] == "IMPORT"
    assert imported["ImportDefinition"]["Size"] == 3 and imported["ImportDefinition"]["ChannelCounts"] == {
        "EMAIL": 2, "SMS": 1}
    assert sorted(e["Address"] for e in segments.preview(ctx, admin, project, segment_id)) == [
        "+15550100", "ann@example.com", "eve@example.com"]
    # Importing the same file again updates the same endpoints (no address conflicts, no duplicates).
    again = _import(ctx, admin, project, (tmp_path / "people.csv").as_uri())
    assert again["JobStatus"] == "COMPLETED" and again["TotalFailures"] == 2
    listed = imports.list_page(ctx, admin, project, None, None)["Item"]
    assert [job["Id"] for job in listed] == [done["Id"], again["Id"]]
    assert [j["Id"] for j in imports.list_page(ctx, admin, project, None, None, segment_id)["Item"]] == [done["Id"]]


def test_a_folder_with_json_lines_and_a_user_id_file(ctx, admin, project, tmp_path):
    tmp_path = tmp_path / "source"  # the test's own folder: the data directory sits beside it
    (tmp_path / "a").mkdir(parents=True)
    (tmp_path / "a" / "one.json").write_text('{"Id": "j1", "ChannelType": "EMAIL", "Address": "j1@example.com", '
                                             '"User": {"UserId": "u1"}}\n')
    (tmp_path / "b.json").write_text('{"Id": "j2", "ChannelType": "EMAIL", "Address": "j2@example.com"}\nnot json\n')
    done = _import(ctx, admin, project, tmp_path.as_uri(), Format="JSON")
    assert (done["JobStatus"], done["TotalPieces"], done["TotalProcessed"], done["TotalFailures"]) == (
        "COMPLETED", 2, 3, 1)
    users = tmp_path / "users"
    users.mkdir()
    (users / "ids.csv").write_text("User.UserId\nu1 nobody\n")
    by_user = _import(ctx, admin, project, users.as_uri(), DefineSegment=True, SegmentName="by user")
    assert by_user["TotalFailures"] == 1 and "nobody" in by_user["Failures"][0]
    assert [e["Id"] for e in segments.preview(ctx, admin, project, by_user["Definition"]["SegmentId"])] == ["j1"]


def test_an_object_that_is_not_csv_fails_the_job_clearly(ctx, admin, project, tmp_path):
    (tmp_path / "data.csv").write_bytes(gzip.compress(CSV.encode()))
    done = _import(ctx, admin, project, (tmp_path / "data.csv").as_uri())
    assert done["JobStatus"] == "FAILED" and "compressed" in done["Failures"][-1]
    assert done["FailedPieces"] == 1


def test_nothing_under_the_url_fails_the_job(ctx, admin, project, tmp_path):
    done = _import(ctx, admin, project, (tmp_path / "missing").as_uri())
    assert done["JobStatus"] == "FAILED" and done["Failures"]


class Crash(BaseException):
    """Stands for the process dying: not an error the job could catch and record."""


def test_a_crashed_job_resumes_after_its_last_committed_chunk(ctx, admin, project, tmp_path, monkeypatch):
    rows = "".join(f"EMAIL,p{n}@example.com,p{n}\n" for n in range(10))
    (tmp_path / "p.csv").write_text("ChannelType,Address,Id\n" + rows)
    monkeypatch.setattr(imports, "CHUNK", 3)
    job = imports.create(ctx, admin, project, {"S3Url": (tmp_path / "p.csv").as_uri(), "Format": "CSV",
                                               "RoleArn": ""})
    calls = []

    def crash_after_first_chunk(progress):
        calls.append(progress["TotalProcessed"])
        raise Crash()

    with pytest.raises(Crash):
        jobs.run_next(ctx, JOB_RUNNERS, crash_after_first_chunk)
    stuck = imports.get(ctx, admin, project, job["Id"])
    assert stuck["JobStatus"] == "PROCESSING" and stuck["TotalProcessed"] == 3
    assert not jobs.run_next(ctx, JOB_RUNNERS)  # its heartbeat is fresh: nobody takes it over yet
    with ctx.db.write() as conn:
        job_store.update(conn, job["Id"], heartbeat_at=time.time() - ctx.settings.job_stale_seconds - 1)
    assert jobs.run_next(ctx, JOB_RUNNERS)
    done = imports.get(ctx, admin, project, job["Id"])
    assert done["JobStatus"] == "COMPLETED" and done["TotalProcessed"] == 10 and done["TotalFailures"] == 0
    assert all(endpoints.get(ctx, admin, project, f"p{n}") for n in range(10))


def test_a_tenant_imports_only_its_own_rows_from_its_own_prefix(ctx, admin, tmp_path):
    row, tenant = onboard(ctx, admin, "acme", "sa-sp")
    project = row["project_id"]
    outside = tmp_path / "x.csv"
    outside.write_text(CSV)
    with pytest.raises(Forbidden, match="may only use storage under"):
        imports.create(ctx, tenant, project, {"S3Url": outside.as_uri(), "Format": "CSV", "RoleArn": ""})
    own = ctx.settings.data_dir.resolve() / "imports" / "acme"
    own.mkdir(parents=True)
    (own / "t.csv").write_text("ChannelType,Address,Id,Attributes.TenantId\n"
                               "EMAIL,t1@example.com,t1,\nEMAIL,t2@example.com,t2,globex\n")
    job = imports.create(ctx, tenant, project, {"S3Url": own.as_uri() + "/", "Format": "CSV", "RoleArn": ""})
    assert jobs.run_next(ctx, JOB_RUNNERS)
    done = imports.get(ctx, tenant, project, job["Id"])
    assert done["TotalProcessed"] == 2 and done["TotalFailures"] == 1 and "TenantId" in done["Failures"][0]
    assert endpoints.get(ctx, tenant, project, "t1")["Attributes"]["TenantId"] == ["acme"]


def test_an_import_into_an_existing_segment_adds_to_it(ctx, admin, project, tmp_path):
    (tmp_path / "first.csv").write_text("ChannelType,Address,Id\nEMAIL,a@example.com,a\nSMS,+15550100,b\n")
    (tmp_path / "second.csv").write_text("ChannelType,Address,Id\nEMAIL,c@example.com,c\nSMS,+15550100,b\n")
    first = _import(ctx, admin, project, (tmp_path / "first.csv").as_uri(), DefineSegment=True, SegmentName="s")
    segment_id = first["Definition"]["SegmentId"]
    second = _import(ctx, admin, project, (tmp_path / "second.csv").as_uri(), SegmentId=segment_id)
    assert second["JobStatus"] == "COMPLETED" and second["Definition"]["SegmentId"] == segment_id
    imported = segments.get(ctx, admin, project, segment_id)["ImportDefinition"]
    assert (imported["Size"], imported["ChannelCounts"]) == (3, {"EMAIL": 2, "SMS": 1})
    assert sorted(e["Id"] for e in segments.members(ctx, admin, project, segment_id)) == ["a", "b", "c"]
    assert [j["Id"] for j in imports.list_page(ctx, admin, project, None, None, segment_id)["Item"]] == [
        first["Id"], second["Id"]]


def test_the_creation_answer_names_the_segment_and_external_id(ctx, admin, project, tmp_path):
    (tmp_path / "people.csv").write_text("ChannelType,Address\nEMAIL,a@example.com\n")
    created = imports.create(ctx, admin, project, {"S3Url": (tmp_path / "people.csv").as_uri(), "Format": "CSV",
                                                   "RoleArn": "r", "DefineSegment": True, "SegmentName": "fresh"})
    segment_id = created["Definition"]["SegmentId"]
    assert created["Definition"]["ExternalId"] == admin.account_id
    assert segments.get(ctx, admin, project, segment_id)["Name"] == "fresh"  # it exists before the job runs
    assert jobs.run_next(ctx, JOB_RUNNERS)
    done = imports.get(ctx, admin, project, created["Id"])
    assert done["Definition"]["SegmentId"] == segment_id and done["Definition"]["ExternalId"] == admin.account_id
    assert segments.get(ctx, admin, project, segment_id)["ImportDefinition"]["Size"] == 1
    given = imports.create(ctx, admin, project, {"S3Url": (tmp_path / "people.csv").as_uri(), "Format": "CSV",
                                                 "RoleArn": "r", "ExternalId": "ext-1"})
    assert given["Definition"]["ExternalId"] == "ext-1" and "SegmentId" not in given["Definition"]


def test_a_new_endpoint_needs_a_channel_and_an_address(ctx, admin, project, tmp_path):
    endpoints.update_endpoint(ctx, admin, project, "known", {"ChannelType": "EMAIL", "Address": "k@example.com"})
    (tmp_path / "people.csv").write_text(
        "Id,ChannelType,Address,Attributes.plan\n"
        "known,,,gold\n"  # an update of an existing endpoint: fine without them
        "new-1,EMAIL,,gold\n"  # line 3: new, no address
        "new-2,,n2@example.com,gold\n"  # line 4: new, no channel
        ",EMAIL,,gold\n"  # line 5: no id and no address
        "new-3,EMAIL,n3@example.com,gold\n")
    (tmp_path / "people.json").write_text('{"Id": "new-4", "ChannelType": "EMAIL", "Address": ""}\n'
                                          '{"ChannelType": "EMAIL", "Address": ""}\n')
    done = _import(ctx, admin, project, (tmp_path / "people.csv").as_uri())
    assert (done["TotalProcessed"], done["TotalFailures"]) == (5, 3)
    assert sorted(int(f.split(": ")[0].rsplit(":", 1)[1]) for f in done["Failures"]) == [3, 4, 5]
    assert endpoints.get(ctx, admin, project, "known")["Attributes"]["plan"] == ["gold"]
    assert endpoints.get(ctx, admin, project, "new-3")["Address"] == "n3@example.com"
    for missing in ("new-1", "new-2"):
        with pytest.raises(NotFound):
            endpoints.get(ctx, admin, project, missing)
    done = _import(ctx, admin, project, (tmp_path / "people.json").as_uri(), Format="JSON")
    assert (done["TotalProcessed"], done["TotalFailures"]) == (2, 2)
