"""Pinpoint projects (apps): the app itself, its settings, its event stream and resource tags."""

from __future__ import annotations

from pinfold import onboarding, tags
from pinfold.projects import projects, streams


def _create_app(ctx, caller, p):
    return {"ApplicationResponse": projects.create(ctx, caller, p["CreateApplicationRequest"])}


def _get_app(ctx, caller, p):
    return {"ApplicationResponse": projects.get(ctx, caller, p["ApplicationId"])}


def _get_apps(ctx, caller, p):
    return {"ApplicationsResponse": projects.list_page(ctx, caller, p.get("PageSize"), p.get("Token"))}


def _delete_app(ctx, caller, p):
    return {"ApplicationResponse": onboarding.delete_project(ctx, caller, p["ApplicationId"])}


def _get_settings(ctx, caller, p):
    return {"ApplicationSettingsResource": projects.get_settings(ctx, caller, p["ApplicationId"])}


def _update_settings(ctx, caller, p):
    request = p["WriteApplicationSettingsRequest"]
    return {"ApplicationSettingsResource": projects.update_settings(ctx, caller, p["ApplicationId"], request)}


def _put_event_stream(ctx, caller, p):
    return {"EventStream": streams.put(ctx, caller, p["ApplicationId"], p["WriteEventStream"])}


def _get_event_stream(ctx, caller, p):
    return {"EventStream": streams.get(ctx, caller, p["ApplicationId"])}


def _delete_event_stream(ctx, caller, p):
    return {"EventStream": streams.delete(ctx, caller, p["ApplicationId"])}


def _tag_resource(ctx, caller, p):
    tags.tag(ctx, caller, p["ResourceArn"], p["TagsModel"]["tags"])


def _untag_resource(ctx, caller, p):
    tags.untag(ctx, caller, p["ResourceArn"], p["TagKeys"])


def _list_tags(ctx, caller, p):
    return {"TagsModel": {"tags": tags.list_tags(ctx, caller, p["ResourceArn"])}}


LONG_OPERATIONS = frozenset({"DeleteApp"})

HANDLERS = {
    "PutEventStream": _put_event_stream,
    "GetEventStream": _get_event_stream,
    "DeleteEventStream": _delete_event_stream,
    "CreateApp": _create_app,
    "GetApp": _get_app,
    "GetApps": _get_apps,
    "DeleteApp": _delete_app,
    "GetApplicationSettings": _get_settings,
    "UpdateApplicationSettings": _update_settings,
    "TagResource": _tag_resource,
    "UntagResource": _untag_resource,
    "ListTagsForResource": _list_tags,
}
