"""Imports, segments and exports stay inside each tenant's placement, in all three tenancy models."""

from __future__ import annotations

import gzip
import json

import pytest

from pinfold.audience import endpoints, exports, imports, jobs, segments
from pinfold.bootstrap import JOB_RUNNERS
from pinfold.core.errors import Forbidden, NotFound, PinfoldError
from tests.service.helpers import onboard

ROWS = "ChannelType,Address,Id,Attributes.plan\n" + "".join(
    f"EMAIL,{name}-{{tenant}}@example.com,{name},gold\n" for name in ("shared-1", "shared-2"))
GOLD = {"Name": "gold", "Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}}}


def _prefix(ctx, tenant_id: str):
    folder = ctx.settings.data_dir.resolve() / "imports" / tenant_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _run(ctx, caller, project: str, create, get, request: dict) -> dict:
    job = create(ctx, caller, project, request)
    assert jobs.run_next(ctx, JOB_RUNNERS)
    return get(ctx, caller, project, job["Id"])


def _exported(ctx, caller, project: str, tenant_id: str, **request) -> list[str]:
    url = (_prefix(ctx, tenant_id) / "out").as_uri()
    done = _run(ctx, caller, project, exports.create, exports.get, {"RoleArn": "r", "S3UrlPrefix": url, **request})
    assert done["JobStatus"] == "COMPLETED", done
    with gzip.open(_prefix(ctx, tenant_id) / "out" / f"{done['Id']}.gz", "rt") as handle:
        return sorted(json.loads(line)["Id"] for line in handle)


@pytest.mark.parametrize("model", ["sa-sp", "sa-mp", "ma-mp"])
def test_imports_segments_and_exports_stay_with_their_tenant(ctx, admin, model):
    (a_row, a), (b_row, b) = onboard(ctx, admin, "acme", model), onboard(ctx, admin, "globex", model)
    a_project, b_project = a_row["project_id"], b_row["project_id"]
    for tenant_id in ("acme", "globex"):
        (_prefix(ctx, tenant_id) / "people.csv").write_text(ROWS.format(tenant=tenant_id))
    a_url = _prefix(ctx, "acme").as_uri() + "/"

    a_job = _run(ctx, a, a_project, imports.create, imports.get,
                 {"S3Url": a_url, "Format": "CSV", "RoleArn": "", "DefineSegment": True, "SegmentName": "mine"})
    assert (a_job["JobStatus"], a_job["TotalFailures"]) == ("COMPLETED", 0)

    # B cannot read from A's prefix, nor reach A's project or A's job.
    with pytest.raises(Forbidden):
        imports.create(ctx, b, b_project, {"S3Url": a_url, "Format": "CSV", "RoleArn": ""})
    if b_project != a_project:
        with pytest.raises((NotFound, Forbidden)):
            imports.create(ctx, b, a_project, {"S3Url": _prefix(ctx, "globex").as_uri() + "/", "Format": "CSV",
                                               "RoleArn": ""})
        with pytest.raises((NotFound, Forbidden)):
            exports.create(ctx, b, a_project, {"RoleArn": "r", "S3UrlPrefix": (_prefix(ctx, "globex") / "o").as_uri()})
    with pytest.raises(NotFound):
        imports.get(ctx, b, b_project, a_job["Id"])
    assert a_job["Id"] not in [job["Id"] for job in imports.list_page(ctx, b, b_project, None, None)["Item"]]
    with pytest.raises(NotFound):
        segments.get(ctx, b, b_project, a_job["Definition"]["SegmentId"])

    # B imports the same ids into its own placement: its own endpoints in sa-mp and ma-mp; in a shared
    # project the ids are A's, so B's rows fail without saying whose they are.
    b_job = _run(ctx, b, b_project, imports.create, imports.get,
                 {"S3Url": _prefix(ctx, "globex").as_uri() + "/", "Format": "CSV", "RoleArn": ""})
    if model == "sa-sp":
        assert b_job["TotalFailures"] == 2 and not any("acme" in failure for failure in b_job["Failures"])
    else:
        assert b_job["TotalFailures"] == 0
    assert endpoints.get(ctx, a, a_project, "shared-1")["Address"] == "shared-1-acme@example.com"

    # A segment over everything gold, and exports of project and segment: only the caller's own.
    b_own = [] if model == "sa-sp" else ["shared-1", "shared-2"]
    for caller, project, tenant_id, own in ((a, a_project, "acme", ["shared-1", "shared-2"]),
                                            (b, b_project, "globex", b_own)):
        segment = segments.create(ctx, caller, project, GOLD)
        assert sorted(e["Id"] for e in segments.members(ctx, caller, project, segment["Id"])) == own
        assert _exported(ctx, caller, project, tenant_id) == own
        assert _exported(ctx, caller, project, tenant_id, SegmentId=segment["Id"]) == own
        addresses = {endpoints.get(ctx, caller, project, name)["Address"] for name in own}
        assert all(address.endswith(f"-{tenant_id}@example.com") for address in addresses)
    with pytest.raises(PinfoldError):
        exports.create(ctx, b, b_project, {"RoleArn": "r", "S3UrlPrefix": (_prefix(ctx, "acme") / "o").as_uri()})
