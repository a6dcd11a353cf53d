"""Export jobs write endpoints as JSON lines in GetEndpoint's shape; tenants export only their own."""

from __future__ import annotations

import gzip
import json

import pytest

from pinfold.audience import endpoints, exports, jobs, segments
from pinfold.bootstrap import JOB_RUNNERS
from pinfold.core.errors import Forbidden, NotFound
from tests.service.helpers import onboard


def _read(url: str) -> list[dict]:
    """An export object: gzip-compressed JSON lines, as Pinpoint writes them."""
    path = url.removeprefix("file://")
    with gzip.open(path, "rt") as handle:
        return [json.loads(line) for line in handle]


def _export(ctx, caller, project: str, **request) -> dict:
    job = exports.create(ctx, caller, project, {"RoleArn": "r", **request})
    assert job["JobStatus"] == "CREATED" and job["Type"] == "EXPORT"
    assert jobs.run_next(ctx, JOB_RUNNERS)
    return exports.get(ctx, caller, project, job["Id"])


def test_a_project_or_a_segment_version_exports_as_get_endpoint_shapes(ctx, admin, project, tmp_path):
    items = [{"Id": f"e{n}", "ChannelType": "EMAIL", "Address": f"e{n}@example.com",
              "Attributes": {"plan": ["gold" if n % 2 else "free"]}} for n in range(5)]
    endpoints.update_batch(ctx, admin, project, items)
    done = _export(ctx, admin, project, S3UrlPrefix=(tmp_path / "out").as_uri())
    assert (done["JobStatus"], done["TotalProcessed"], done["CompletedPieces"]) == ("COMPLETED", 5, 1)
    written = _read(f"{(tmp_path / 'out').as_uri()}/{done['Id']}.gz")
    assert written == [endpoints.get(ctx, admin, project, f"e{n}") for n in range(5)]
    gold = segments.create(ctx, admin, project, {"Name": "gold", "Dimensions": {
        "Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}}})
    segments.update(ctx, admin, project, gold["Id"], {"Dimensions": {}})  # version 2: everyone
    first = _export(ctx, admin, project, S3UrlPrefix=(tmp_path / "seg").as_uri(), SegmentId=gold["Id"],
                    SegmentVersion=1)
    assert [e["Id"] for e in _read(f"{(tmp_path / 'seg').as_uri()}/{first['Id']}.gz")] == ["e1", "e3"]
    assert [j["Id"] for j in exports.list_page(ctx, admin, project, None, None, gold["Id"])["Item"]] == [first["Id"]]
    with pytest.raises(NotFound):
        exports.create(ctx, admin, project, {"RoleArn": "r", "S3UrlPrefix": (tmp_path / "x").as_uri(),
                                             "SegmentId": gold["Id"], "SegmentVersion": 3})


def test_a_shared_project_tenant_exports_only_its_endpoints_to_its_prefix(ctx, admin, tmp_path):
    a_row, a = onboard(ctx, admin, "acme", "sa-sp")
    _b_row, b = onboard(ctx, admin, "globex", "sa-sp")
    project = a_row["project_id"]
    endpoints.update_endpoint(ctx, a, project, "a1", {"ChannelType": "SMS", "Address": "+15550111"})
    endpoints.update_endpoint(ctx, b, project, "b1", {"ChannelType": "SMS", "Address": "+15550112"})
    with pytest.raises(Forbidden):
        exports.create(ctx, a, project, {"RoleArn": "r", "S3UrlPrefix": (tmp_path / "anywhere").as_uri()})
    own = (ctx.settings.data_dir.resolve() / "imports" / "acme" / "exports").as_uri()
    done = _export(ctx, a, project, S3UrlPrefix=own)
    assert [e["Id"] for e in _read(f"{own}/{done['Id']}.gz")] == ["a1"]
    with pytest.raises(NotFound):  # and globex cannot even see acme's job
        exports.get(ctx, b, project, done["Id"])
