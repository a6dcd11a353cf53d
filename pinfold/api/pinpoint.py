"""Pinpoint (`mobiletargeting`) operations: a table from operation name to a thin handler.

Each handler takes the parsed input (model member names) and returns the output shape's members.
"""

from __future__ import annotations

from pinfold.analytics import kpis
from pinfold.audience import endpoints, events, exports, imports, segments
from pinfold.core.numbers import whole_number
from pinfold.messaging import channels as channel_service
from pinfold.messaging import messages, tags
from pinfold.messaging import templates as template_service
from pinfold.projects import projects, streams


def _create_app(ctx, caller, p):
    return {"ApplicationResponse": projects.create(ctx, caller, p["CreateApplicationRequest"])}


def _get_app(ctx, caller, p):
    return {"ApplicationResponse": projects.get(ctx, caller, p["ApplicationId"])}


def _get_apps(ctx, caller, p):
    return {"ApplicationsResponse": projects.list_page(ctx, caller, p.get("PageSize"), p.get("Token"))}


def _delete_app(ctx, caller, p):
    return {"ApplicationResponse": projects.delete(ctx, caller, p["ApplicationId"])}


def _get_settings(ctx, caller, p):
    return {"ApplicationSettingsResource": projects.get_settings(ctx, caller, p["ApplicationId"])}


def _update_settings(ctx, caller, p):
    request = p["WriteApplicationSettingsRequest"]
    return {"ApplicationSettingsResource": projects.update_settings(ctx, caller, p["ApplicationId"], request)}


def _update_endpoint(ctx, caller, p):
    result = endpoints.update_endpoint(ctx, caller, p["ApplicationId"], p["EndpointId"], p["EndpointRequest"])
    return {"MessageBody": result}


def _update_endpoints_batch(ctx, caller, p):
    items = p["EndpointBatchRequest"]["Item"]
    return {"MessageBody": endpoints.update_batch(ctx, caller, p["ApplicationId"], items)}


def _get_endpoint(ctx, caller, p):
    return {"EndpointResponse": endpoints.get(ctx, caller, p["ApplicationId"], p["EndpointId"])}


def _delete_endpoint(ctx, caller, p):
    return {"EndpointResponse": endpoints.delete(ctx, caller, p["ApplicationId"], p["EndpointId"])}


def _get_user_endpoints(ctx, caller, p):
    return {"EndpointsResponse": endpoints.get_user_endpoints(ctx, caller, p["ApplicationId"], p["UserId"])}


def _delete_user_endpoints(ctx, caller, p):
    return {"EndpointsResponse": endpoints.delete_user_endpoints(ctx, caller, p["ApplicationId"], p["UserId"])}


def _remove_attributes(ctx, caller, p):
    names = p["UpdateAttributesRequest"].get("Blacklist") or []
    resource = endpoints.remove_attributes(ctx, caller, p["ApplicationId"], p["AttributeType"], names)
    return {"AttributesResource": resource}


def _put_events(ctx, caller, p):
    batch = p["EventsRequest"]["BatchItem"]
    return {"EventsResponse": events.put_events(ctx, caller, p["ApplicationId"], batch)}


def _tag_resource(ctx, caller, p):
    tags.tag(ctx, caller, p["ResourceArn"], p["TagsModel"]["tags"])


def _untag_resource(ctx, caller, p):
    tags.untag(ctx, caller, p["ResourceArn"], p["TagKeys"])


def _list_tags(ctx, caller, p):
    return {"TagsModel": {"tags": tags.list_tags(ctx, caller, p["ResourceArn"])}}


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


def _put_event_stream(ctx, caller, p):
    return {"EventStream": streams.put(ctx, caller, p["ApplicationId"], p["WriteEventStream"])}


def _get_event_stream(ctx, caller, p):
    return {"EventStream": streams.get(ctx, caller, p["ApplicationId"])}


def _delete_event_stream(ctx, caller, p):
    return {"EventStream": streams.delete(ctx, caller, p["ApplicationId"])}


def _application_kpi(ctx, caller, p):
    return {"ApplicationDateRangeKpiResponse": kpis.application_date_range_kpi(
        ctx, caller, p["ApplicationId"], p["KpiName"], p.get("StartTime"), p.get("EndTime"), p.get("PageSize"),
        p.get("NextToken"))}


def _update_email_channel(ctx, caller, p):
    return {"EmailChannelResponse": channel_service.update_email(ctx, caller, p["ApplicationId"],
                                                                 p["EmailChannelRequest"])}


def _get_email_channel(ctx, caller, p):
    return {"EmailChannelResponse": channel_service.get_email(ctx, caller, p["ApplicationId"])}


def _delete_email_channel(ctx, caller, p):
    return {"EmailChannelResponse": channel_service.delete_email(ctx, caller, p["ApplicationId"])}


def _get_channels(ctx, caller, p):
    return {"ChannelsResponse": channel_service.list_channels(ctx, caller, p["ApplicationId"])}


def _accepted(caller, message: str = "Accepted") -> dict:
    return {"MessageBody": {"Message": message, "RequestID": caller.request_id}}


def _create_email_template(ctx, caller, p):
    arn = template_service.create(ctx, caller, p["TemplateName"], "EMAIL", p["EmailTemplateRequest"])
    return {"CreateTemplateMessageBody": {"Arn": arn, "Message": "Created", "RequestID": caller.request_id}}


def _update_email_template(ctx, caller, p):
    template_service.update(ctx, caller, p["TemplateName"], "EMAIL", p["EmailTemplateRequest"],
                            create_new_version=p.get("CreateNewVersion"), version=p.get("Version"))
    return _accepted(caller)


def _get_email_template(ctx, caller, p):
    return {"EmailTemplateResponse": template_service.get(ctx, caller, p["TemplateName"], "EMAIL", p.get("Version"))}


def _delete_email_template(ctx, caller, p):
    template_service.delete(ctx, caller, p["TemplateName"], "EMAIL", p.get("Version"))
    return _accepted(caller)


def _list_templates(ctx, caller, p):
    return {"TemplatesResponse": template_service.list_page(
        ctx, caller, p.get("Prefix"), p.get("TemplateType"), p.get("PageSize"), p.get("NextToken"))}


def _list_template_versions(ctx, caller, p):
    return {"TemplateVersionsResponse": template_service.versions_page(
        ctx, caller, p["TemplateName"], p["TemplateType"], p.get("PageSize"), p.get("NextToken"))}


def _update_template_active_version(ctx, caller, p):
    version = p["TemplateActiveVersionRequest"].get("Version")
    template_service.set_active_version(ctx, caller, p["TemplateName"], p["TemplateType"], version)
    return _accepted(caller)


def _version_number(raw: str) -> int:
    # The model types Version as a string; Pinpoint's versions are whole numbers from 1.
    return whole_number(raw, field="Version")


# These walk every endpoint of a project, so the gateway keeps them off the event loop.
LONG_OPERATIONS = frozenset({"RemoveAttributes", "DeleteApp", "DeleteUserEndpoints", "GetApplicationDateRangeKpi"})

HANDLERS = {
    "GetApplicationDateRangeKpi": _application_kpi,
    "PutEventStream": _put_event_stream,
    "GetEventStream": _get_event_stream,
    "DeleteEventStream": _delete_event_stream,
    "CreateApp": _create_app,
    "GetApp": _get_app,
    "GetApps": _get_apps,
    "DeleteApp": _delete_app,
    "GetApplicationSettings": _get_settings,
    "UpdateApplicationSettings": _update_settings,
    "UpdateEndpoint": _update_endpoint,
    "UpdateEndpointsBatch": _update_endpoints_batch,
    "GetEndpoint": _get_endpoint,
    "DeleteEndpoint": _delete_endpoint,
    "GetUserEndpoints": _get_user_endpoints,
    "DeleteUserEndpoints": _delete_user_endpoints,
    "RemoveAttributes": _remove_attributes,
    "PutEvents": _put_events,
    "TagResource": _tag_resource,
    "UntagResource": _untag_resource,
    "ListTagsForResource": _list_tags,
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
    "UpdateEmailChannel": _update_email_channel,
    "GetEmailChannel": _get_email_channel,
    "DeleteEmailChannel": _delete_email_channel,
    "GetChannels": _get_channels,
    "CreateEmailTemplate": _create_email_template,
    "UpdateEmailTemplate": _update_email_template,
    "GetEmailTemplate": _get_email_template,
    "DeleteEmailTemplate": _delete_email_template,
    "ListTemplates": _list_templates,
    "ListTemplateVersions": _list_template_versions,
    "UpdateTemplateActiveVersion": _update_template_active_version,
}


def _send_messages(ctx, caller, p):
    return messages.send_messages(ctx, caller, p["ApplicationId"], p["MessageRequest"])


def _send_users_messages(ctx, caller, p):
    return messages.send_users_messages(ctx, caller, p["ApplicationId"], p["SendUsersMessageRequest"])


HANDLERS.update({"SendMessages": _send_messages, "SendUsersMessages": _send_users_messages})
