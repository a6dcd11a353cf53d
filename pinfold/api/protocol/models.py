"""The three emulated services, loaded from botocore's bundled models, and request-to-service detection."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import botocore.session
from botocore.model import ServiceModel

if TYPE_CHECKING:
    from pinfold.api.protocol.routing import Router

# botocore model name for each emulated API; the model pins the wire contract.
SERVICE_NAMES = ("pinpoint", "sesv2", "pinpoint-sms-voice-v2")

# Unsigned requests carry no credential scope, so fall back to where each API lives on the wire.
_PATH_PREFIXES = (("/v1/", "pinpoint"), ("/v2/email/", "sesv2"))


@dataclass
class WireResponse:
    """An HTTP response ready to send: status, header pairs and body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class ServiceSpec:
    """One emulated AWS API: its botocore model, wire protocol and precomputed router."""

    name: str
    signing_name: str
    protocol: str
    model: ServiceModel
    router: Router

    @property
    def target_prefix(self) -> str | None:
        """The X-Amz-Target prefix for json-protocol services, None for rest-json ones."""
        return self.model.metadata.get("targetPrefix")


@functools.cache
def load_services() -> dict[str, ServiceSpec]:
    """The three services keyed by SigV4 signing name; loaded once because model loading is slow."""
    from pinfold.api.protocol.older_bindings import older_operations
    from pinfold.api.protocol.routing import Router

    session = botocore.session.get_session()
    services: dict[str, ServiceSpec] = {}
    for name in SERVICE_NAMES:
        description = session.get_service_data(name)
        model = ServiceModel(description, service_name=name)
        spec = ServiceSpec(
            name=name,
            signing_name=model.signing_name,
            protocol=model.protocol,
            model=model,
            router=Router(model, older=older_operations(description, name)),
        )
        services[spec.signing_name] = spec
    return services


def detect_service(
    services: Mapping[str, ServiceSpec],
    *,
    signing_name: str | None,
    target: str | None,
    path: str,
) -> ServiceSpec | None:
    """Pick the service by SigV4 signing name, else by X-Amz-Target prefix, else by path; None if unknown."""
    if signing_name:
        # A request signed for some other service must not be served by whichever API shares its path.
        return services.get(signing_name)
    if target:
        prefix = target.partition(".")[0]
        for spec in services.values():
            if spec.target_prefix == prefix:
                return spec
    for path_prefix, name in _PATH_PREFIXES:
        if path.startswith(path_prefix):
            for spec in services.values():
                if spec.name == name:
                    return spec
    return None
