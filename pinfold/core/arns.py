"""Amazon Resource Names for Pinfold resources, in AWS's formats."""

from __future__ import annotations

from dataclasses import dataclass

from pinfold.core.errors import InvalidInput


@dataclass(frozen=True)
class Arn:
    service: str
    region: str
    account_id: str
    resource: str  # e.g. "apps/<id>" or "templates/<name>/EMAIL"

    @property
    def resource_type(self) -> str:
        return self.resource.split("/", 1)[0]

    @property
    def resource_id(self) -> str:
        return self.resource.split("/", 2)[1] if "/" in self.resource else ""

    def __str__(self) -> str:
        return f"arn:aws:{self.service}:{self.region}:{self.account_id}:{self.resource}"


def project_arn(region: str, account_id: str, project_id: str) -> str:
    return f"arn:aws:mobiletargeting:{region}:{account_id}:apps/{project_id}"


def segment_arn(region: str, account_id: str, project_id: str, segment_id: str) -> str:
    return f"arn:aws:mobiletargeting:{region}:{account_id}:apps/{project_id}/segments/{segment_id}"


def campaign_arn(region: str, account_id: str, project_id: str, campaign_id: str) -> str:
    return f"arn:aws:mobiletargeting:{region}:{account_id}:apps/{project_id}/campaigns/{campaign_id}"


def template_arn(region: str, account_id: str, name: str, template_type: str) -> str:
    """A Pinpoint message template (one name may hold a template of each type)."""
    return f"arn:aws:mobiletargeting:{region}:{account_id}:templates/{name}/{template_type}"


def ses_arn(region: str, account_id: str, kind: str, name: str) -> str:
    """An SES v2 resource: `kind` is "identity", "configuration-set", "template", "contact-list", ..."""
    return f"arn:aws:ses:{region}:{account_id}:{kind}/{name}"


def ses_identity_arn(region: str, account_id: str, identity: str) -> str:
    return ses_arn(region, account_id, "identity", identity)


def configuration_set_arn(region: str, account_id: str, name: str) -> str:
    return ses_arn(region, account_id, "configuration-set", name)


def ses_template_arn(region: str, account_id: str, name: str) -> str:
    return ses_arn(region, account_id, "template", name)


def contact_list_arn(region: str, account_id: str, name: str) -> str:
    return ses_arn(region, account_id, "contact-list", name)


def ses_tenant_arn(region: str, account_id: str, name: str, tenant_id: str) -> str:
    return ses_arn(region, account_id, "tenant", f"{name}/{tenant_id}")


def parse_arn(text: str, field: str = "ResourceArn") -> Arn:
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[5]:
        raise InvalidInput(f"{field} is not a valid ARN: {text!r}", field=field)
    _, _, service, region, account_id, resource = parts
    return Arn(service, region, account_id, resource)


def sms_arn(region: str, account_id: str, resource_type: str, resource_id: str) -> str:
    """An End User Messaging SMS (`sms-voice`) resource: `resource_type` is one of the model's
    ResourceType values ("phone-number", "sender-id", "pool", "opt-out-list", "configuration-set", ...)."""
    return f"arn:aws:sms-voice:{region}:{account_id}:{resource_type}/{resource_id}"
