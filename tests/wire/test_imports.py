"""Import jobs through boto3: an s3:// prefix on a real S3 server, run by the server's own runner."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, make_client, onboard


def _bucket(server):
    """A boto3 S3 client on the test S3 server, with the tenants' bucket in place."""
    s3 = boto3.client("s3", endpoint_url=server.s3_endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    try:
        s3.create_bucket(Bucket="pinfold-imports")
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    return s3


def _wait(pinpoint, project: str, job_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = pinpoint.get_import_job(ApplicationId=project, JobId=job_id)["ImportJobResponse"]
        if job["JobStatus"] in ("COMPLETED", "FAILED"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"import job {job_id} did not finish: {job}")


def test_import_from_s3_defines_a_segment(server):
    tenant = onboard(server, "sa-mp")
    project, pinpoint = tenant["tenant"]["project_id"], make_client(server, tenant["credentials"])
    s3, bucket = _bucket(server), "pinfold-imports"
    prefix = f"{tenant['tenant']['tenant_id']}/batch-{uuid.uuid4().hex[:6]}/"
    s3.put_object(Bucket=bucket, Key=prefix + "a.csv", Body=b"ChannelType,Address,Id\nEMAIL,a@example.com,a\n"
                                                           b"FAX,b@example.com,b\n")
    s3.put_object(Bucket=bucket, Key=prefix + "more/b.csv", Body=b"ChannelType,Address,Id\nSMS,+15550101,c\n")
    created = pinpoint.create_import_job(ApplicationId=project, ImportJobRequest={
        "S3Url": f"s3://{bucket}/{prefix}", "Format": "CSV", "RoleArn": "arn:aws:iam::123456789012:role/import",
        "DefineSegment": True, "SegmentName": "from s3"})["ImportJobResponse"]
    assert created["JobStatus"] == "CREATED" and created["Type"] == "IMPORT"
    done = _wait(pinpoint, project, created["Id"])
    assert (done["JobStatus"], done["TotalPieces"], done["CompletedPieces"]) == ("COMPLETED", 2, 2)
    assert done["TotalProcessed"] == 3 and done["TotalFailures"] == 1
    assert done["Failures"][0].startswith(f"s3://{bucket}/{prefix}a.csv:3: ")
    segment_id = done["Definition"]["SegmentId"]
    segment = pinpoint.get_segment(ApplicationId=project, SegmentId=segment_id)["SegmentResponse"]
    assert segment["SegmentType"] == "IMPORT" and segment["ImportDefinition"]["Size"] == 2
    jobs = pinpoint.get_segment_import_jobs(ApplicationId=project, SegmentId=segment_id)["ImportJobsResponse"]
    assert [job["Id"] for job in jobs["Item"]] == [created["Id"]]
    assert pinpoint.get_endpoint(ApplicationId=project, EndpointId="c")["EndpointResponse"]["Address"] == "+15550101"


def test_tenants_import_only_under_their_prefix(server):
    tenant = onboard(server, "sa-mp")
    project, pinpoint = tenant["tenant"]["project_id"], make_client(server, tenant["credentials"])
    with pytest.raises(ClientError) as caught:
        pinpoint.create_import_job(ApplicationId=project, ImportJobRequest={
            "S3Url": "s3://pinfold-imports/someone-else/", "Format": "CSV", "RoleArn": "r"})
    assert caught.value.response["Error"]["Code"] == "ForbiddenException"
    assert "may only use storage under" in caught.value.response["Error"]["Message"]


@pytest.mark.parametrize("model", ["sa-sp", "sa-mp", "ma-mp"])
def test_a_tenant_cannot_climb_out_of_its_prefix_through_boto3(server, model):
    tenant = onboard(server, model)
    tenant_id, project = tenant["tenant"]["tenant_id"], tenant["tenant"]["project_id"]
    pinpoint = make_client(server, tenant["credentials"])
    own = (Path(server.env["PINFOLD_DATA_DIR"]).resolve() / "imports" / tenant_id).as_uri()
    for url in (f"{own}/../../master.key", f"{own}/%2e%2e/%2e%2e/master.key", "file:///etc/passwd",
                f"s3://pinfold-imports/{tenant_id}/../other/"):
        for call, request in ((pinpoint.create_import_job, {"ImportJobRequest": {
                                   "S3Url": url, "Format": "CSV", "RoleArn": "r"}}),
                              (pinpoint.create_export_job, {"ExportJobRequest": {"S3UrlPrefix": url, "RoleArn": "r"}})):
            with pytest.raises(ClientError) as caught:
                call(ApplicationId=project, **request)
            error = caught.value.response["Error"]
            assert error["Code"] == "ForbiddenException", (url, error)
            assert str(Path(server.env["PINFOLD_DATA_DIR"]).resolve()) not in error["Message"]
            assert f"file://{{data_dir}}/imports/{tenant_id}/" in error["Message"]
    assert pinpoint.get_import_jobs(ApplicationId=project)["ImportJobsResponse"]["Item"] == []


def test_export_to_s3_through_boto3(server):
    tenant = onboard(server, "ma-mp")
    project, pinpoint = tenant["tenant"]["project_id"], make_client(server, tenant["credentials"])
    pinpoint.update_endpoints_batch(ApplicationId=project, EndpointBatchRequest={"Item": [
        {"Id": f"x{n}", "ChannelType": "EMAIL", "Address": f"x{n}@example.com"} for n in range(3)]})
    s3 = _bucket(server)
    prefix = f"s3://pinfold-imports/{tenant['tenant']['tenant_id']}/exports"
    created = pinpoint.create_export_job(ApplicationId=project, ExportJobRequest={
        "S3UrlPrefix": prefix, "RoleArn": "arn:aws:iam::123456789012:role/export"})["ExportJobResponse"]
    deadline = time.monotonic() + 30
    while (job := pinpoint.get_export_job(ApplicationId=project, JobId=created["Id"])["ExportJobResponse"])[
            "JobStatus"] not in ("COMPLETED", "FAILED"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert (job["JobStatus"], job["TotalProcessed"]) == ("COMPLETED", 3)
    key = f"{tenant['tenant']['tenant_id']}/exports/{created['Id']}.gz"
    body = gzip.decompress(s3.get_object(Bucket="pinfold-imports", Key=key)["Body"].read()).decode()
    exported = [json.loads(line) for line in body.splitlines()]
    assert exported == [pinpoint.get_endpoint(ApplicationId=project, EndpointId=f"x{n}")["EndpointResponse"]
                        for n in range(3)]
    listed = pinpoint.get_export_jobs(ApplicationId=project)["ExportJobsResponse"]["Item"]
    assert [j["Id"] for j in listed] == [created["Id"]]


def test_an_import_survives_the_server_being_killed_mid_job(tmp_path, database_url, moto_s3):
    """SIGKILL the server while a job is part-way through; the next server resumes it and every row
    lands exactly once."""
    rows = 60_000
    source = tmp_path / "people.csv"
    source.write_text("ChannelType,Address,Id,Attributes.plan\n" + "".join(
        f"EMAIL,p{n}@example.com,p{n},gold\n" for n in range(rows)))
    (tmp_path / "data").mkdir()
    server = Server(tmp_path / "data", database_url, moto_s3, PINFOLD_JOB_STALE_SECONDS="2")
    try:
        pinpoint = make_client(server, server.admin)
        project = pinpoint.create_app(CreateApplicationRequest={"Name": "restart"})["ApplicationResponse"]["Id"]
        job_id = pinpoint.create_import_job(ApplicationId=project, ImportJobRequest={
            "S3Url": source.as_uri(), "Format": "CSV", "RoleArn": "r", "DefineSegment": True,
            "SegmentName": "everyone"})["ImportJobResponse"]["Id"]
        deadline = time.monotonic() + 60
        while True:
            job = pinpoint.get_import_job(ApplicationId=project, JobId=job_id)["ImportJobResponse"]
            if job["JobStatus"] == "PROCESSING" and job.get("TotalProcessed", 0) > 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        server.kill()
        assert 0 < job["TotalProcessed"] < rows, job  # killed part-way, not before or after
        server.start()
        done = _wait(make_client(server, server.admin), project, job_id, timeout=120)
        pinpoint = make_client(server, server.admin)
        assert (done["JobStatus"], done["TotalProcessed"], done["TotalFailures"]) == ("COMPLETED", rows, 0)
        segment = pinpoint.get_segment(ApplicationId=project, SegmentId=done["Definition"]["SegmentId"])
        assert segment["SegmentResponse"]["ImportDefinition"]["Size"] == rows
        for n in (0, rows // 2, rows - 1):
            endpoint = pinpoint.get_endpoint(ApplicationId=project, EndpointId=f"p{n}")["EndpointResponse"]
            assert endpoint["Address"] == f"p{n}@example.com"
    finally:
        server.stop()
