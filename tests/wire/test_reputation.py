"""Reputation against a real server: an ma-mp tenant sending through boto3 to the mailbox simulator's
bounce address is paused with SendingPausedException, the webhook hears the finding (signed), GetAccount
says SHUTDOWN, `pinfold reputation show` charts it, and `pinfold tenants resume-sending` lets it send."""

from __future__ import annotations

import json
import time

import orjson
import pytest
from botocore.exceptions import ClientError

from pinfold.core.secrets import SecretBox, load_master_key
from pinfold.custom.rules import signing
from tests.conftest import Server, admin_request, make_client, onboard

SIMULATOR = "simulator.amazonses.com"


def _mail(ses, local: str) -> None:
    ses.send_email(FromEmailAddress="news@bouncy.example", Destination={"ToAddresses": [f"{local}@{SIMULATOR}"]},
                   Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}})


def test_a_bouncing_tenant_is_paused_told_and_resumed(tmp_path, database_url, moto_s3, receiver):
    url, got = receiver
    server = Server(tmp_path / "data", database_url, moto_s3, PINFOLD_REPUTATION_MIN_VOLUME="20",
                    PINFOLD_REPUTATION_WEBHOOK=f"{url}/findings")
    try:
        placed = onboard(server, "ma-mp", tenant_id="bouncy")
        account = placed["tenant"]["account_id"]
        ses = make_client(server, placed["credentials"], "sesv2")
        ses.create_email_identity(EmailIdentity="bouncy.example")
        server.cli("identities", "verify", "bouncy.example", "--account", account)
        server.cli("accounts", "production", account, "--max-24h", "10000", "--max-rate", "1000")
        for _ in range(20):
            _mail(ses, "success")
        refused, deadline = None, time.monotonic() + 60
        while refused is None and time.monotonic() < deadline:
            try:
                _mail(ses, "bounce")
                time.sleep(0.05)
            except ClientError as error:
                refused = error.response
        assert refused is not None and refused["Error"]["Code"] == "SendingPausedException", refused
        assert ses.get_account()["EnforcementStatus"] == "SHUTDOWN"  # its own account crossed too

        deadline = time.monotonic() + 10
        while not any((told["scope"], told["level"]) == ("tenant", "PAUSE")
                      for told in (json.loads(call["body"]) for call in list(got.calls))) and \
                time.monotonic() < deadline:
            time.sleep(0.1)
        told = [orjson.loads(call["body"]) for call in got.calls]
        assert {(t["scope"], t["key"], t["level"]) for t in told} >= {("tenant", "bouncy", "PAUSE")}
        key = SecretBox(load_master_key(tmp_path / "data", "")).derive_key("reputation-webhook")
        assert all(signing.verify(key, call["headers"][signing.HEADER], call["body"], now=time.time())
                   for call in got.calls)

        shown = server.cli("reputation", "show", "--tenant", "bouncy").stdout
        assert "policy STANDARD, sending PAUSED" in shown and "█" in shown
        texts = server.cli("reputation", "show", "--tenant", "bouncy", "--sms").stdout
        assert "failure" in texts and "SMS spend this month 0.00 USD" in texts
        listed = json.loads(server.cli("reputation", "show", "--json").stdout)
        assert {"scope": "tenant", "key": "bouncy"}.items() <= next(
            row for row in listed if row["scope"] == "tenant").items()
        history = admin_request(server, server.admin, "GET", "/admin/v1/tenants/bouncy/reputation-history").json()
        assert {row["action"] for row in history} == {"FINDING", "PAUSED"}  # rows of one moment: no order among them
        resumed = json.loads(server.cli("tenants", "resume-sending", "bouncy").stdout)
        assert resumed["changed"] is True
        again = admin_request(server, server.admin, "POST", "/admin/v1/tenants/bouncy/resume-sending").json()
        assert again["changed"] is False
        with pytest.raises(ClientError, match="disabled for account"):
            _mail(ses, "success")  # the tenant is resumed; its account, paused for its own rates, is not
    finally:
        server.stop()


def test_ses_reputation_entities_through_boto3(server):
    placed = onboard(server, "ma-mp")
    response = admin_request(server, server.admin, "POST", "/admin/v1/access-keys",
                             {"scope": "account", "account_id": placed["tenant"]["account_id"]})
    assert response.status_code == 201, response.text
    ses = make_client(server, response.json(), "sesv2")
    tenant = ses.create_tenant(TenantName="brand-a")
    arn, region = tenant["TenantArn"], response.json()["region"]
    entity = ses.get_reputation_entity(ReputationEntityType="RESOURCE", ReputationEntityReference=arn)[
        "ReputationEntity"]
    policies = f"arn:aws:ses:{region}:aws:reputation-policy"
    assert (entity["ReputationEntityReference"], entity["SendingStatusAggregate"],
            entity["ReputationManagementPolicy"]) == (arn, "ENABLED", f"{policies}/standard")
    ses.update_reputation_entity_policy(ReputationEntityType="RESOURCE", ReputationEntityReference=arn,
                                        ReputationEntityPolicy=f"{policies}/strict")
    ses.update_reputation_entity_customer_managed_status(ReputationEntityType="RESOURCE",
                                                         ReputationEntityReference=arn, SendingStatus="DISABLED")
    listed = ses.list_reputation_entities(Filter={"SENDING_STATUS": "DISABLED"})["ReputationEntities"]
    assert [(e["ReputationEntityReference"], e["ReputationManagementPolicy"].rsplit("/", 1)[1]) for e in listed] == [
        (arn, "strict")]
    assert ses.get_tenant(TenantName="brand-a")["Tenant"]["SendingStatus"] == "DISABLED"
    assert ses.get_account()["EnforcementStatus"] == "HEALTHY"
    with pytest.raises(ClientError) as caught:
        ses.get_reputation_entity(ReputationEntityType="RESOURCE",
                                  ReputationEntityReference=arn.replace("brand-a", "brand-b"))
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
    with pytest.raises(ClientError) as caught:
        ses.update_reputation_entity_policy(ReputationEntityType="RESOURCE", ReputationEntityReference=arn,
                                            ReputationEntityPolicy="arn:aws:ses:us-east-1:aws:reputation-policy/lax")
    assert caught.value.response["Error"]["Code"] == "BadRequestException"
