"""Operations whose binding (method + URI) older botocore models gave differently still route.

Requests are signed for real and sent as botocore 1.43.0 (the AWS CLI v1 that Debian and pip
install) and older send them; with PINFOLD_OLD_AWSCLI pointing at that CLI (`make test` installs
one), the CLI itself drives them too.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import make_client, onboard, signed_request, unavailable

OLD_AWSCLI = os.environ.get("PINFOLD_OLD_AWSCLI", str(Path(".venv-awscli-old/bin/aws").resolve()))


@pytest.fixture(scope="module")
def tenant(server) -> dict:
    return onboard(server, "ma-mp")


@pytest.fixture(scope="module")
def made(server, tenant) -> dict:
    """Two identities, two configuration sets and a contact list with two contacts, one opted out."""
    ses = make_client(server, tenant["credentials"], "sesv2")
    tag = uuid.uuid4().hex[:8]
    identities = sorted(f"{tag}-{n}.example.com" for n in range(2))
    sets = sorted(f"{tag}-{n}" for n in range(2))
    for name in identities:
        ses.create_email_identity(EmailIdentity=name)
    for name in sets:
        ses.create_configuration_set(ConfigurationSetName=name)
    ses.create_contact_list(ContactListName=tag, Topics=[
        {"TopicName": "news", "DisplayName": "News", "DefaultSubscriptionStatus": "OPT_IN"}])
    ses.create_contact(ContactListName=tag, EmailAddress="in@example.com")
    ses.create_contact(ContactListName=tag, EmailAddress="out@example.com", UnsubscribeAll=True)
    return {"identities": identities, "sets": sets, "list": tag}


def _old(server, creds: dict, method: str, path: str, body: dict | None = None):
    return signed_request(server, creds, "ses", method, path, body)


def test_list_email_identities_by_get_pages_with_query_parameters(server, tenant, made):
    creds = tenant["credentials"]
    first = _old(server, creds, "GET", "/v2/email/identities?PageSize=1")
    assert first.status_code == 200, first.text
    assert [item["IdentityName"] for item in first.json()["EmailIdentities"]] == made["identities"][:1]
    token = first.json()["NextToken"]
    second = _old(server, creds, "GET", f"/v2/email/identities?NextToken={quote(token, safe='')}&PageSize=1")
    assert second.status_code == 200, second.text
    assert [item["IdentityName"] for item in second.json()["EmailIdentities"]] == made["identities"][1:]
    refused = _old(server, creds, "GET", "/v2/email/identities?PageSize=x")
    assert (refused.status_code, refused.headers["x-amzn-errortype"]) == (400, "BadRequestException")


def test_list_configuration_sets_by_get(server, tenant, made):
    response = _old(server, tenant["credentials"], "GET", "/v2/email/configuration-sets?PageSize=1")
    assert response.status_code == 200, response.text
    assert response.json()["ConfigurationSets"] == made["sets"][:1] and response.json()["NextToken"]
    everything = _old(server, tenant["credentials"], "GET", "/v2/email/configuration-sets")
    assert everything.json()["ConfigurationSets"] == made["sets"]


def test_list_contacts_by_get_with_its_filter_in_the_body(server, tenant, made):
    path = f"/v2/email/contact-lists/{made['list']}/contacts?PageSize=10"
    response = _old(server, tenant["credentials"], "GET", path, {"Filter": {"FilteredStatus": "OPT_OUT"}})
    assert response.status_code == 200, response.text
    assert [contact["EmailAddress"] for contact in response.json()["Contacts"]] == ["out@example.com"]


@pytest.mark.parametrize(("method", "path", "body", "operation"), [
    ("GET", "/v2/email/import-jobs", {"ImportDestinationType": "CONTACT_LIST"}, "ListImportJobs"),
    ("PUT", "/v1/email/identities/example.com/dkim/signing", {"SigningAttributesOrigin": "AWS_SES"},
     "PutEmailIdentityDkimSigningAttributes"),
])
def test_older_bindings_of_unimplemented_operations_are_recognised(server, tenant, method, path, body, operation):
    response = _old(server, tenant["credentials"], method, path, body)
    assert (response.status_code, response.headers["x-amzn-errortype"]) == (501, "NotImplementedException")
    assert operation in response.json()["message"]


def _old_aws(server, creds: dict, *args: str) -> dict:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
           "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"], "AWS_DEFAULT_REGION": creds["region"],
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    done = subprocess.run([OLD_AWSCLI, "--endpoint-url", server.url, "--output", "json", *args],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_older_aws_cli_lists_identities_configuration_sets_and_contacts(server, tenant, made):
    if not Path(OLD_AWSCLI).exists():
        unavailable(f"no AWS CLI v1 on botocore 1.43 at {OLD_AWSCLI} (make test installs one)")
    version = subprocess.run([OLD_AWSCLI, "--version"], capture_output=True, text=True).stdout
    assert "botocore/1.43.0" in version, version  # the model that still sends GET for these
    creds = tenant["credentials"]
    identities = _old_aws(server, creds, "sesv2", "list-email-identities")["EmailIdentities"]
    assert [item["IdentityName"] for item in identities] == made["identities"]
    assert _old_aws(server, creds, "sesv2", "list-configuration-sets")["ConfigurationSets"] == made["sets"]
    contacts = _old_aws(server, creds, "sesv2", "list-contacts", "--contact-list-name", made["list"])["Contacts"]
    assert sorted(contact["EmailAddress"] for contact in contacts) == ["in@example.com", "out@example.com"]
