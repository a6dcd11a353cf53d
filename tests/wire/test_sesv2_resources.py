"""SES v2 identities, account, suppression and tenants through boto3 against a real `pinfold serve`,
whose DNS lookups go to a real (loopback) DNS server; error shapes and tenant isolation included."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError

from tests.conftest import ON_POSTGRES, Server, _database_url, _postgres_admin_engine, make_client, onboard
from tests.service.test_email_identities import DnsServer


def _error(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def dns_server():
    server = DnsServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def ses_server(tmp_path_factory, database_template, moto_s3, dns_server):
    """A server of this module's own, resolving DNS through the loopback DNS server."""
    data_dir = tmp_path_factory.mktemp("ses-server")
    name = f"pinfold_ses_{uuid.uuid4().hex[:12]}"
    if ON_POSTGRES:
        with _postgres_admin_engine().connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{database_template}"'))
        url = _database_url(name)
    else:
        url = f"sqlite:///{data_dir / 'pinfold.db'}"
    running = Server(data_dir, url, moto_s3, PINFOLD_DNS_RESOLVER=dns_server.address, PINFOLD_DNS_TIMEOUT="1")
    yield running
    running.stop()
    if ON_POSTGRES:
        with _postgres_admin_engine().connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def parties(ses_server):
    """The organization admin, an administrator of the shared account, and two sa-mp tenants."""
    alpha, beta = onboard(ses_server, "sa-mp"), onboard(ses_server, "sa-mp")
    account = alpha["tenant"]["account_id"]
    creds = json.loads(ses_server.cli("admin", "keys", "create", "--scope", "account", "--account", account).stdout)
    return {
        "account": account, "region": creds["region"],
        "org": make_client(ses_server, ses_server.admin, "sesv2"),
        "admin": make_client(ses_server, creds, "sesv2"),
        "alpha": make_client(ses_server, alpha["credentials"], "sesv2"), "alpha_id": alpha["tenant"]["tenant_id"],
        "beta": make_client(ses_server, beta["credentials"], "sesv2"), "beta_id": beta["tenant"]["tenant_id"],
    }


def test_domain_identity_verifies_through_dns(ses_server, parties, dns_server):
    admin = parties["admin"]
    created = admin.create_email_identity(EmailIdentity="wire.example", Tags=[{"Key": "k", "Value": "v"}])
    assert created["IdentityType"] == "DOMAIN" and created["VerifiedForSendingStatus"] is False
    assert created["DkimAttributes"]["Status"] == "PENDING"
    records = json.loads(ses_server.cli("identities", "records", "wire.example", "--account", parties["account"],
                                        "--json").stdout)
    assert records[0]["name"] == f"{created['DkimAttributes']['Tokens'][0]}._domainkey.wire.example"
    pending = admin.get_email_identity(EmailIdentity="wire.example")
    assert pending["VerificationStatus"] == "PENDING" and pending["VerificationInfo"]["ErrorType"] == "HOST_NOT_FOUND"
    assert pending["Tags"] == [{"Key": "k", "Value": "v"}]
    dns_server.records[records[0]["name"]] = records[0]["value"]
    checked = ses_server.cli("identities", "verify", "wire.example", "--account", parties["account"], "--dns")
    assert "SUCCESS" in checked.stdout
    verified = admin.get_email_identity(EmailIdentity="wire.example")
    assert verified["VerifiedForSendingStatus"] is True and verified["DkimAttributes"]["Status"] == "SUCCESS"
    assert isinstance(verified["VerificationInfo"]["LastSuccessTimestamp"].year, int)


def test_identity_errors_listing_and_administrator_confirmation(ses_server, parties):
    admin = parties["admin"]
    admin.create_email_identity(EmailIdentity="Person@Wire.example")
    assert _error(lambda: admin.create_email_identity(EmailIdentity="person@wire.example")) == (
        "AlreadyExistsException", 400)
    assert _error(lambda: admin.create_email_identity(EmailIdentity="not a domain")) == ("BadRequestException", 400)
    assert _error(lambda: admin.get_email_identity(EmailIdentity="nobody@wire.example")) == ("NotFoundException", 404)
    confirmed = ses_server.cli("identities", "verify", "person@wire.example", "--account", parties["account"])
    assert confirmed.stdout.strip() == "person@wire.example: SUCCESS"
    listed = admin.list_email_identities(PageSize=1000)["EmailIdentities"]
    assert {"IdentityType": "EMAIL_ADDRESS", "IdentityName": "person@wire.example", "SendingEnabled": True,
            "VerificationStatus": "SUCCESS"} in listed
    admin.delete_email_identity(EmailIdentity="person@wire.example")
    assert _error(lambda: admin.delete_email_identity(EmailIdentity="person@wire.example"))[0] == "NotFoundException"


def test_account_starts_in_the_sandbox_until_the_operator_grants_production(ses_server, parties):
    admin = parties["admin"]
    account = admin.get_account()
    assert account["ProductionAccessEnabled"] is False and account["EnforcementStatus"] == "HEALTHY"
    assert account["SendQuota"] == {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0}
    admin.put_account_details(MailType="TRANSACTIONAL", WebsiteURL="https://wire.example",
                              UseCaseDescription="receipts", ProductionAccessEnabled=True)
    assert admin.get_account()["Details"]["ReviewDetails"]["Status"] == "PENDING"
    assert _error(lambda: parties["alpha"].put_account_sending_attributes(SendingEnabled=False))[0] == (
        "AccessDeniedException")
    ses_server.cli("accounts", "production", parties["account"], "--max-24h", "1000", "--max-rate", "20")
    account = admin.get_account()
    assert account["ProductionAccessEnabled"] is True and account["SendQuota"]["Max24HourSend"] == 1000.0
    assert account["Details"]["ReviewDetails"]["Status"] == "GRANTED"
    admin.put_account_sending_attributes(SendingEnabled=False)
    admin.put_account_suppression_attributes(SuppressedReasons=["BOUNCE"])
    account = parties["alpha"].get_account()
    assert account["SendingEnabled"] is False and account["SuppressionAttributes"]["SuppressedReasons"] == ["BOUNCE"]
    admin.put_account_sending_attributes(SendingEnabled=True)


def test_suppression_list_and_its_tenant_rules(ses_server, parties):
    admin, alpha = parties["admin"], parties["alpha"]
    admin.put_suppressed_destination(EmailAddress="Bounced@Wire.example", Reason="BOUNCE")
    got = alpha.get_suppressed_destination(EmailAddress="bounced@wire.example")["SuppressedDestination"]
    assert got["Reason"] == "BOUNCE" and got["EmailAddress"] == "bounced@wire.example"
    listed = admin.list_suppressed_destinations(Reasons=["BOUNCE"])["SuppressedDestinationSummaries"]
    assert "bounced@wire.example" in {s["EmailAddress"] for s in listed}
    assert admin.list_suppressed_destinations(Reasons=["COMPLAINT"])["SuppressedDestinationSummaries"] == []
    assert _error(lambda: alpha.list_suppressed_destinations()) == ("AccessDeniedException", 403)
    assert _error(lambda: alpha.delete_suppressed_destination(EmailAddress="bounced@wire.example"))[0] == (
        "AccessDeniedException")
    admin.delete_suppressed_destination(EmailAddress="bounced@wire.example")
    assert _error(lambda: admin.get_suppressed_destination(EmailAddress="bounced@wire.example"))[0] == (
        "NotFoundException")


def test_ses_tenants_associations_and_isolation(ses_server, parties):
    admin, alpha, beta = parties["admin"], parties["alpha"], parties["beta"]
    alpha_name, beta_name = parties["alpha_id"], parties["beta_id"]
    created = admin.create_tenant(TenantName=alpha_name, SuppressionAttributes={"SuppressionScope": "TENANT"})
    assert created["TenantArn"].endswith(f":tenant/{alpha_name}/{created['TenantId']}")
    admin.create_tenant(TenantName=beta_name)
    assert _error(lambda: admin.create_tenant(TenantName=alpha_name))[0] == "AlreadyExistsException"
    admin.create_email_identity(EmailIdentity="alpha.wire.example")
    admin.create_email_identity(EmailIdentity="beta.wire.example")
    arn = f"arn:aws:ses:{parties['region']}:{parties['account']}:identity/alpha.wire.example"
    admin.create_tenant_resource_association(TenantName=alpha_name, ResourceArn=arn)
    assert _error(lambda: admin.create_tenant_resource_association(
        TenantName=alpha_name, ResourceArn=arn.replace("alpha.wire", "none.wire")))[0] == "NotFoundException"
    # The tenant's credentials act as the SES tenant of the same name: they see it and what is associated.
    assert alpha.get_tenant(TenantName=alpha_name)["Tenant"]["TenantName"] == alpha_name
    assert [t["TenantName"] for t in alpha.list_tenants()["Tenants"]] == [alpha_name]
    assert _error(lambda: admin.list_tenants(NextToken="not-a-token")) == ("BadRequestException", 400)
    assert _error(lambda: admin.list_suppressed_destinations(NextToken="not-a-token")) == ("BadRequestException", 400)
    assert _error(lambda: beta.get_tenant(TenantName=alpha_name)) == ("NotFoundException", 404)
    assert [i["IdentityName"] for i in alpha.list_email_identities()["EmailIdentities"]] == ["alpha.wire.example"]
    assert _error(lambda: alpha.get_email_identity(EmailIdentity="beta.wire.example"))[0] == "NotFoundException"
    assert beta.list_email_identities()["EmailIdentities"] == []
    assert _error(lambda: alpha.create_email_identity(EmailIdentity="x.wire.example"))[0] == "AccessDeniedException"
    resources = alpha.list_tenant_resources(TenantName=alpha_name)["TenantResources"]
    assert resources == [{"ResourceType": "EMAIL_IDENTITY", "ResourceArn": arn}]
    assert [t["TenantName"] for t in admin.list_resource_tenants(ResourceArn=arn)["ResourceTenants"]] == [alpha_name]
    # Its own suppression list (scope TENANT) is the tenant's to manage.
    alpha.put_suppressed_destination(EmailAddress="mine@wire.example", Reason="COMPLAINT", TenantName=alpha_name)
    own = alpha.list_suppressed_destinations(TenantName=alpha_name)["SuppressedDestinationSummaries"]
    assert [s["EmailAddress"] for s in own] == ["mine@wire.example"]
    assert _error(lambda: beta.list_suppressed_destinations(TenantName=alpha_name))[0] == "NotFoundException"
    admin.put_tenant_suppression_attributes(TenantName=beta_name, SuppressionScope="TENANT",
                                            SuppressedReasons=["BOUNCE"])
    assert beta.get_tenant(TenantName=beta_name)["Tenant"]["SuppressionAttributes"]["SuppressionScope"] == "TENANT"
    # An identity in use by a tenant cannot go until the association does.
    code, status = _error(lambda: admin.delete_email_identity(EmailIdentity="alpha.wire.example"))
    assert (code, status) == ("AlreadyExistsException", 400)
    admin.delete_tenant_resource_association(TenantName=alpha_name, ResourceArn=arn)
    admin.delete_email_identity(EmailIdentity="alpha.wire.example")
    admin.delete_tenant(TenantName=alpha_name)
    assert _error(lambda: admin.get_tenant(TenantName=alpha_name))[0] == "NotFoundException"
