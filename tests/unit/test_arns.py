"""The ARN builders in pinfold.core.arns produce AWS's exact formats."""

from __future__ import annotations

from pinfold.core import arns

R, A = "us-east-1", "123456789012"


def test_pinpoint_arns():
    assert arns.project_arn(R, A, "p1") == "arn:aws:mobiletargeting:us-east-1:123456789012:apps/p1"
    assert arns.segment_arn(R, A, "p1", "s1") == "arn:aws:mobiletargeting:us-east-1:123456789012:apps/p1/segments/s1"
    assert arns.template_arn(R, A, "welcome", "EMAIL") == (
        "arn:aws:mobiletargeting:us-east-1:123456789012:templates/welcome/EMAIL")


def test_ses_arns():
    assert arns.ses_identity_arn(R, A, "Example.com") == "arn:aws:ses:us-east-1:123456789012:identity/Example.com"
    assert arns.configuration_set_arn(R, A, "cs") == "arn:aws:ses:us-east-1:123456789012:configuration-set/cs"
    assert arns.ses_template_arn(R, A, "t") == "arn:aws:ses:us-east-1:123456789012:template/t"
    assert arns.contact_list_arn(R, A, "l") == "arn:aws:ses:us-east-1:123456789012:contact-list/l"
    assert arns.ses_tenant_arn(R, A, "acme", "tn-1") == "arn:aws:ses:us-east-1:123456789012:tenant/acme/tn-1"
    assert arns.ses_arn(R, A, "configuration-set", "cs") == arns.configuration_set_arn(R, A, "cs")


def test_built_arns_parse_back():
    parsed = arns.parse_arn(arns.ses_tenant_arn(R, A, "acme", "tn-1"))
    assert (parsed.service, parsed.region, parsed.account_id, parsed.resource) == ("ses", R, A, "tenant/acme/tn-1")
