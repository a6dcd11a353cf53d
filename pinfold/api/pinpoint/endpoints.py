"""Pinpoint endpoints: one at a time or in batches, a user's endpoints, attributes, and PutEvents."""

from __future__ import annotations

from pinfold.audience import endpoints, events


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


LONG_OPERATIONS = frozenset({"RemoveAttributes", "DeleteUserEndpoints"})

HANDLERS = {
    "UpdateEndpoint": _update_endpoint,
    "UpdateEndpointsBatch": _update_endpoints_batch,
    "GetEndpoint": _get_endpoint,
    "DeleteEndpoint": _delete_endpoint,
    "GetUserEndpoints": _get_user_endpoints,
    "DeleteUserEndpoints": _delete_user_endpoints,
    "RemoveAttributes": _remove_attributes,
    "PutEvents": _put_events,
}
