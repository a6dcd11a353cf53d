"""Bindings (method + URI) that older botocore models gave operations the pinned model has moved.

Clients still in use send them: the AWS CLI v1 that Debian and pip install (botocore 1.43.0 and
older) lists identities with `GET /v2/email/identities`, where the pinned model says
`POST /v2/email/list-identities`. Each older binding becomes an operation of its own, built from the
pinned operation with only the binding and the moved members changed, so routing and parsing stay
driven by a model. Found by diffing the service-2.json of botocore 1.29.165, 1.31.85, 1.34.162,
1.40.0, 1.42.97 and 1.43.0 against the pinned one; pinpoint and pinpoint-sms-voice-v2 did not change.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from botocore.model import OperationModel, ServiceModel


@dataclass(frozen=True)
class OlderBinding:
    operation: str
    method: str
    request_uri: str
    query: tuple[str, ...] = ()  # members the older model read from the query string (wire name = member name)


OLDER_BINDINGS: dict[str, tuple[OlderBinding, ...]] = {
    "sesv2": (
        # botocore <= 1.43.0
        OlderBinding("ListConfigurationSets", "GET", "/v2/email/configuration-sets", ("NextToken", "PageSize")),
        OlderBinding("ListEmailIdentities", "GET", "/v2/email/identities", ("NextToken", "PageSize")),
        # botocore <= 1.31 (1.34.162 already has the new ones)
        OlderBinding("ListContacts", "GET", "/v2/email/contact-lists/{ContactListName}/contacts",
                     ("NextToken", "PageSize")),
        OlderBinding("ListImportJobs", "GET", "/v2/email/import-jobs", ("NextToken", "PageSize")),
        # botocore <= 1.40 (a /v1 path in the v2 API)
        OlderBinding("PutEmailIdentityDkimSigningAttributes", "PUT",
                     "/v1/email/identities/{EmailIdentity}/dkim/signing"),
    ),
}


def older_operations(description: dict, service_name: str) -> list[OperationModel]:
    """Operations for the older bindings of one service, from its pinned model `description`."""
    bindings = OLDER_BINDINGS.get(service_name, ())
    if not bindings:
        return []
    # Only the changed operations and shapes are copied; the rest is shared with the pinned model.
    older = {**description, "operations": dict(description["operations"]), "shapes": dict(description["shapes"])}
    for binding in bindings:
        operation = older["operations"][binding.operation] = copy.deepcopy(older["operations"][binding.operation])
        operation["http"] = {**operation["http"], "method": binding.method, "requestUri": binding.request_uri}
        if binding.query:
            # A shape of its own, so the pinned operation's body members stay in the body.
            shape_name = f"{operation['input']['shape']}__OlderBinding"
            shape = copy.deepcopy(older["shapes"][operation["input"]["shape"]])
            for member in binding.query:
                shape["members"][member].update(location="querystring", locationName=member)
            older["shapes"][shape_name] = shape
            operation["input"] = {"shape": shape_name}
    model = ServiceModel(older, service_name=service_name)
    return [model.operation_model(binding.operation) for binding in bindings]
