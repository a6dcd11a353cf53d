"""SES email identities: DKIM keys, verification through a real DNS server or an administrator,
what the sender reads (sending_identity, verified_recipient), and who may see and change what."""

from __future__ import annotations

import base64
import socket
import threading

import dns.message
import dns.rcode
import dns.rrset
import pytest
from cryptography.hazmat.primitives import serialization

from pinfold.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from pinfold.email import configuration_sets
from pinfold.email import identities as email_identities
from pinfold.email import tenants as ses_tenants
from pinfold.email.store import identities as store
from tests.service.helpers import account_caller, onboard


class DnsServer:
    """A real UDP DNS server on a loopback port answering TXT queries from a dict (name → text)."""

    def __init__(self) -> None:
        self.records: dict[str, str] = {}
        self.queries: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            name = query.question[0].name.to_text().rstrip(".")
            self.queries.append(name)
            response = dns.message.make_response(query)
            if name in self.records:
                text = self.records[name]
                chunks = " ".join(f'"{text[i:i + 255]}"' for i in range(0, len(text), 255))
                response.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "TXT", chunks))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(autouse=True)
def dns_server(ctx):
    """Every test here resolves through this server, never the machine's own DNS."""
    server = DnsServer()
    ctx.settings = ctx.settings.replace(dns_resolver=server.address, dns_timeout=1.0)
    yield server
    server.close()


@pytest.fixture
def shared(ctx, admin):
    """Two sa-mp tenants in the shared account and an administrator of that account."""
    a, a_caller = onboard(ctx, admin, "alpha", "sa-mp")
    _b, b_caller = onboard(ctx, admin, "beta", "sa-mp")
    return {"account": a["account_id"], "admin": account_caller(ctx, admin, a["account_id"]),
            "alpha": a_caller, "beta": b_caller}


def test_a_domain_gets_a_dkim_key_whose_private_half_is_stored_encrypted(ctx, admin):
    created = email_identities.create(ctx, admin, {"EmailIdentity": "Example.COM",
                                                   "Tags": [{"Key": "k", "Value": "v"}]})
    assert created["IdentityType"] == "DOMAIN" and created["VerifiedForSendingStatus"] is False
    dkim = created["DkimAttributes"]
    assert dkim["Status"] == "PENDING" and dkim["SigningEnabled"] and dkim["SigningAttributesOrigin"] == "AWS_SES"
    assert dkim["CurrentSigningKeyLength"] == "RSA_2048_BIT" and len(dkim["Tokens"]) == 1
    with ctx.db.read() as conn:
        row = store.get(conn, admin.account_id, admin.region, "example.com")
    assert "PRIVATE KEY" not in row["dkim_private_ciphertext"]
    key = serialization.load_pem_private_key(ctx.secrets.decrypt(row["dkim_private_ciphertext"]).encode(), None)
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    [record] = email_identities.dns_records(ctx, admin, "example.com")
    assert record == {"name": f"{dkim['Tokens'][0]}._domainkey.example.com", "type": "TXT",
                      "value": f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"}
    got = email_identities.get(ctx, admin, "EXAMPLE.com")
    assert got["Tags"] == [{"Key": "k", "Value": "v"}] and "PRIVATE" not in str(got)
    with pytest.raises(Conflict):
        email_identities.create(ctx, admin, {"EmailIdentity": "example.com"})


def test_names_that_are_neither_domains_nor_addresses_are_refused(ctx, admin):
    for bad in ("localhost", "-bad.example.com", "a b@example.com", "x@nodot", "a..b@example.com"):
        with pytest.raises(InvalidInput):
            email_identities.create(ctx, admin, {"EmailIdentity": bad})


def test_publishing_the_dkim_record_verifies_the_domain(ctx, admin, dns_server):
    email_identities.create(ctx, admin, {"EmailIdentity": "example.org"})
    [record] = email_identities.dns_records(ctx, admin, "example.org")
    pending = email_identities.get(ctx, admin, "example.org")
    assert pending["VerificationStatus"] == "PENDING"
    assert pending["VerificationInfo"]["ErrorType"] == "HOST_NOT_FOUND"
    assert dns_server.queries == [record["name"]]
    dns_server.records[record["name"]] = record["value"]
    email_identities.get(ctx, admin, "example.org")
    assert len(dns_server.queries) == 1  # looked at again only once the last look is a minute old
    verified = email_identities.check_dns(ctx, admin, "example.org")
    assert verified["VerificationStatus"] == "SUCCESS" and verified["VerifiedForSendingStatus"] is True
    assert verified["DkimAttributes"]["Status"] == "SUCCESS"
    assert "ErrorType" not in verified["VerificationInfo"]


def test_a_record_with_another_key_leaves_the_domain_pending(ctx, admin, dns_server):
    email_identities.create(ctx, admin, {"EmailIdentity": "example.net"})
    [record] = email_identities.dns_records(ctx, admin, "example.net")
    dns_server.records[record["name"]] = "v=DKIM1; k=rsa; p=AAAA"
    result = email_identities.check_dns(ctx, admin, "example.net")
    assert result["VerificationStatus"] == "PENDING" and result["VerificationInfo"]["ErrorType"] == "INVALID_VALUE"


def test_an_unreachable_resolver_leaves_the_domain_pending(ctx, admin):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        ctx.settings = ctx.settings.replace(dns_resolver=f"127.0.0.1:{silent.getsockname()[1]}",
                                           dns_timeout=0.3)
        email_identities.create(ctx, admin, {"EmailIdentity": "example.io"})
        result = email_identities.get(ctx, admin, "example.io")
    assert result["VerificationStatus"] == "PENDING"
    assert result["VerificationInfo"]["ErrorType"] == "DNS_SERVER_ERROR"


def test_a_callers_own_dkim_key_is_used_with_its_selector(ctx, admin, dns_server):
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    created = email_identities.create(ctx, admin, {"EmailIdentity": "byo.example", "DkimSigningAttributes": {
        "DomainSigningSelector": "mail2026", "DomainSigningPrivateKey": base64.b64encode(der).decode()}})
    dkim = created["DkimAttributes"]
    assert dkim["SigningAttributesOrigin"] == "EXTERNAL" and dkim["Tokens"] == ["mail2026"]
    assert dkim["CurrentSigningKeyLength"] == "RSA_1024_BIT" and "NextSigningKeyLength" not in dkim
    [record] = email_identities.dns_records(ctx, admin, "byo.example")
    assert record["name"] == "mail2026._domainkey.byo.example"
    dns_server.records[record["name"]] = record["value"]
    assert email_identities.check_dns(ctx, admin, "byo.example")["VerificationStatus"] == "SUCCESS"
    with pytest.raises(InvalidInput, match="DomainSigningPrivateKey"):
        email_identities.create(ctx, admin, {"EmailIdentity": "bad.example", "DkimSigningAttributes": {
            "DomainSigningSelector": "s", "DomainSigningPrivateKey": "bm90IGEga2V5"}})


def test_addresses_verify_when_an_organization_administrator_confirms_them(ctx, admin, shared):
    account_admin = shared["admin"]
    email_identities.create(ctx, account_admin, {"EmailIdentity": "Sender@Example.com"})
    assert email_identities.get(ctx, account_admin, "sender@example.com")["VerificationStatus"] == "PENDING"
    with pytest.raises(Forbidden):  # an account cannot vouch for itself
        email_identities.confirm(ctx, account_admin, "sender@example.com")
    confirmed = email_identities.confirm(ctx, admin, "sender@example.com", account_id=shared["account"])
    assert confirmed["VerificationStatus"] == "SUCCESS" and confirmed["VerifiedForSendingStatus"] is True
    assert confirmed["DkimAttributes"]["Status"] == "NOT_STARTED"
    with pytest.raises(NotFound):
        email_identities.confirm(ctx, admin, "sender@example.com")  # not in the management account


def test_sending_identity_prefers_the_address_and_takes_dkim_from_the_domain(ctx, admin):
    email_identities.create(ctx, admin, {"EmailIdentity": "shop.example"})
    email_identities.create(ctx, admin, {"EmailIdentity": "news@shop.example"})
    configuration_sets.create(ctx, admin, {"ConfigurationSetName": "marketing"})
    email_identities.put_configuration_set(ctx, admin, "news@shop.example", "marketing")
    with pytest.raises(NotFound):
        email_identities.put_configuration_set(ctx, admin, "shop.example", "missing")
    account, region = admin.account_id, admin.region
    with ctx.db.read() as conn:
        found = store.sending_identity(conn, account, region, "News <NEWS@shop.example>")
        assert found == {"identity": "news@shop.example", "type": "EMAIL_ADDRESS", "verified": False,
                         "configuration_set": "marketing", "dkim": None}
        assert store.sending_identity(conn, account, region, "x@other.example") is None
        assert not store.verified_recipient(conn, account, region, "anyone@mail.shop.example")
    email_identities.confirm(ctx, admin, "shop.example")
    with ctx.db.read() as conn:
        found = store.sending_identity(conn, account, region, "news@shop.example")
        by_domain = store.sending_identity(conn, account, region, "other@mail.shop.example")
        assert store.verified_recipient(conn, account, region, "anyone@mail.shop.example")
        assert not store.verified_recipient(conn, account, region, "anyone@shop.example.org")
    assert found["verified"] and found["dkim"]["domain"] == "shop.example"
    assert ctx.secrets.decrypt(found["dkim"]["private_pem_ciphertext"]).startswith("-----BEGIN PRIVATE KEY")
    assert by_domain["identity"] == "shop.example" and by_domain["configuration_set"] is None
    assert email_identities.get(ctx, admin, "news@shop.example")["DkimAttributes"]["SigningEnabled"] is True
    email_identities.put_dkim_signing(ctx, admin, "shop.example", False)
    with ctx.db.read() as conn:
        assert store.sending_identity(conn, account, region, "news@shop.example")["dkim"] is None
    with pytest.raises(InvalidInput):
        email_identities.put_dkim_signing(ctx, admin, "news@shop.example", True)


def test_an_exactly_full_last_page_of_identities_carries_no_token(ctx, admin):
    for name in ("a.example", "b.example", "c.example", "d.example"):
        email_identities.create(ctx, admin, {"EmailIdentity": name})
    first = email_identities.list_page(ctx, admin, None, 2, None)
    last = email_identities.list_page(ctx, admin, None, 2, first["NextToken"])
    assert [i["IdentityName"] for i in last["EmailIdentities"]] == ["c.example", "d.example"]
    assert last["NextToken"] is None
    with pytest.raises(InvalidInput):
        email_identities.list_page(ctx, admin, None, 2, "not-a-token")


def test_listing_pages_and_filters(ctx, admin):
    for name in ("a.example", "b@a.example", "c.example", "d@c.example", "e.example"):
        email_identities.create(ctx, admin, {"EmailIdentity": name})
    email_identities.confirm(ctx, admin, "c.example")
    first = email_identities.list_page(ctx, admin, None, 2, None)
    assert [i["IdentityName"] for i in first["EmailIdentities"]] == ["a.example", "b@a.example"]
    rest = email_identities.list_page(ctx, admin, None, 10, first["NextToken"])
    assert [i["IdentityName"] for i in rest["EmailIdentities"]] == ["c.example", "d@c.example", "e.example"]
    assert rest["NextToken"] is None
    addresses = email_identities.list_page(ctx, admin, {"IDENTITY_TYPE": "EMAIL_ADDRESS"}, None, None)
    assert [i["IdentityName"] for i in addresses["EmailIdentities"]] == ["b@a.example", "d@c.example"]
    verified = email_identities.list_page(ctx, admin, {"VERIFICATION_STATUS": "SUCCESS"}, None, None)
    assert verified["EmailIdentities"] == [{"IdentityType": "DOMAIN", "IdentityName": "c.example",
                                            "SendingEnabled": True, "VerificationStatus": "SUCCESS"}]
    named = email_identities.list_page(ctx, admin, {"IDENTITY_NAME_CONTAINS": "C.EX"}, None, None)
    assert [i["IdentityName"] for i in named["EmailIdentities"]] == ["c.example", "d@c.example"]


def test_confined_tenants_see_only_identities_associated_with_their_ses_tenant(ctx, admin, shared):
    account_admin, alpha, beta = shared["admin"], shared["alpha"], shared["beta"]
    for name in ("alpha.example", "beta.example"):
        email_identities.create(ctx, account_admin, {"EmailIdentity": name})
    with pytest.raises(Forbidden, match="confined to one project"):
        email_identities.create(ctx, alpha, {"EmailIdentity": "mine.example"})
    assert email_identities.list_page(ctx, alpha, None, None, None)["EmailIdentities"] == []
    ses_tenants.create(ctx, account_admin, {"TenantName": "alpha"})
    arn = f"arn:aws:ses:{account_admin.region}:{shared['account']}:identity/alpha.example"
    ses_tenants.associate(ctx, account_admin, "alpha", arn)
    seen = email_identities.list_page(ctx, alpha, None, None, None)["EmailIdentities"]
    assert [i["IdentityName"] for i in seen] == ["alpha.example"]
    assert email_identities.get(ctx, alpha, "alpha.example")["IdentityType"] == "DOMAIN"
    with pytest.raises(NotFound):
        email_identities.get(ctx, alpha, "beta.example")
    with pytest.raises(NotFound):
        email_identities.get(ctx, beta, "alpha.example")
    with pytest.raises(Forbidden):
        email_identities.delete(ctx, alpha, "alpha.example")
    with pytest.raises(Conflict, match="associated with tenant alpha"):
        email_identities.delete(ctx, account_admin, "alpha.example")
    ses_tenants.dissociate(ctx, account_admin, "alpha", arn)
    email_identities.delete(ctx, account_admin, "alpha.example")
    with pytest.raises(NotFound):
        email_identities.get(ctx, account_admin, "alpha.example")


def test_ma_mp_tenants_administer_identities_in_their_own_account_only(ctx, admin):
    _a, a_caller = onboard(ctx, admin, "gamma", "ma-mp")
    _b, b_caller = onboard(ctx, admin, "delta", "ma-mp")
    email_identities.create(ctx, a_caller, {"EmailIdentity": "gamma.example"})
    email_identities.create(ctx, b_caller, {"EmailIdentity": "gamma.example"})  # another account: no clash
    email_identities.delete(ctx, b_caller, "gamma.example")
    assert email_identities.get(ctx, a_caller, "gamma.example")["IdentityType"] == "DOMAIN"
    assert email_identities.list_page(ctx, b_caller, None, None, None)["EmailIdentities"] == []
