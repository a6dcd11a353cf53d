"""Pinpoint segments and their versions, and the import and export jobs that fill and read them."""

from __future__ import annotations

from pinfold.audience import exports, imports, segments
from pinfold.core.numbers import whole_number


def _create_segment(ctx, caller, p):
    return {"SegmentResponse": segments.create(ctx, caller, p["ApplicationId"], p["WriteSegmentRequest"])}


def _update_segment(ctx, caller, p):
    request = p["WriteSegmentRequest"]
    return {"SegmentResponse": segments.update(ctx, caller, p["ApplicationId"], p["SegmentId"], request)}


def _get_segment(ctx, caller, p):
    return {"SegmentResponse": segments.get(ctx, caller, p["ApplicationId"], p["SegmentId"])}


def _get_segment_version(ctx, caller, p):
    version = _version_number(p["Version"])
    return {"SegmentResponse": segments.get(ctx, caller, p["ApplicationId"], p["SegmentId"], version)}


def _get_segments(ctx, caller, p):
    page = segments.list_page(ctx, caller, p["ApplicationId"], p.get("PageSize"), p.get("Token"))
    return {"SegmentsResponse": page}


def _get_segment_versions(ctx, caller, p):
    page = segments.versions_page(ctx, caller, p["ApplicationId"], p["SegmentId"], p.get("PageSize"), p.get("Token"))
    return {"SegmentsResponse": page}


def _delete_segment(ctx, caller, p):
    return {"SegmentResponse": segments.delete(ctx, caller, p["ApplicationId"], p["SegmentId"])}


def _create_import_job(ctx, caller, p):
    return {"ImportJobResponse": imports.create(ctx, caller, p["ApplicationId"], p["ImportJobRequest"])}


def _get_import_job(ctx, caller, p):
    return {"ImportJobResponse": imports.get(ctx, caller, p["ApplicationId"], p["JobId"])}


def _get_import_jobs(ctx, caller, p):
    page = imports.list_page(ctx, caller, p["ApplicationId"], p.get("PageSize"), p.get("Token"))
    return {"ImportJobsResponse": page}


def _get_segment_import_jobs(ctx, caller, p):
    page = imports.list_page(ctx, caller, p["ApplicationId"], p.get("PageSize"), p.get("Token"), p["SegmentId"])
    return {"ImportJobsResponse": page}


def _create_export_job(ctx, caller, p):
    return {"ExportJobResponse": exports.create(ctx, caller, p["ApplicationId"], p["ExportJobRequest"])}


def _get_export_job(ctx, caller, p):
    return {"ExportJobResponse": exports.get(ctx, caller, p["ApplicationId"], p["JobId"])}


def _get_export_jobs(ctx, caller, p):
    page = exports.list_page(ctx, caller, p["ApplicationId"], p.get("PageSize"), p.get("Token"))
    return {"ExportJobsResponse": page}


def _get_segment_export_jobs(ctx, caller, p):
    page = exports.list_page(ctx, caller, p["ApplicationId"], p.get("PageSize"), p.get("Token"), p["SegmentId"])
    return {"ExportJobsResponse": page}


def _version_number(raw: str) -> int:
    # The model types Version as a string; Pinpoint's versions are whole numbers from 1.
    return whole_number(raw, field="Version")


HANDLERS = {
    "CreateSegment": _create_segment,
    "UpdateSegment": _update_segment,
    "GetSegment": _get_segment,
    "GetSegmentVersion": _get_segment_version,
    "GetSegments": _get_segments,
    "GetSegmentVersions": _get_segment_versions,
    "DeleteSegment": _delete_segment,
    "CreateImportJob": _create_import_job,
    "GetImportJob": _get_import_job,
    "GetImportJobs": _get_import_jobs,
    "GetSegmentImportJobs": _get_segment_import_jobs,
    "CreateExportJob": _create_export_job,
    "GetExportJob": _get_export_job,
    "GetExportJobs": _get_export_jobs,
    "GetSegmentExportJobs": _get_segment_export_jobs,
}
