"""Push channels per project: APNs (four kinds), FCM as GCM, Baidu and ADM. Credentials are checked,
kept sealed, never answered, and only whoever runs the project's channels may set them."""

from __future__ import annotations

import logging

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pinfold.core.errors import Forbidden, InvalidInput, NotFound
from pinfold.messaging import channels
from pinfold.messaging.store import channels as channel_store
from pinfold.push import credentials
from tests.push_fakes import apple_key, certificate_and_key, pem, service_json
from tests.service.helpers import onboard


def token_request(**changes) -> dict:
    return {"TokenKey": apple_key(), "TokenKeyId": "ABC123DEFG", "TeamId": "TEAM123456",
            "BundleId": "com.example.app", **changes}


def _stored(ctx, project: str, platform: str) -> dict | None:
    with ctx.db.read() as conn:
        return channel_store.get(conn, project, platform)


def test_an_apns_token_channel_keeps_its_key_sealed_and_answers_only_that_it_has_one(ctx, admin, project, caplog):
    caplog.set_level(logging.DEBUG)
    request = token_request(Enabled=True)
    made = channels.update(ctx, admin, project, "APNS", request)
    assert {key: made[key] for key in ("Platform", "Id", "Version", "Enabled", "HasTokenKey", "HasCredential",
                                       "DefaultAuthenticationMethod", "ApplicationId")} == {
        "Platform": "APNS", "Id": "apns", "Version": 1, "Enabled": True, "HasTokenKey": True, "HasCredential": True,
        "DefaultAuthenticationMethod": "TOKEN", "ApplicationId": project}
    stored = _stored(ctx, project, "APNS")
    key_body = request["TokenKey"].splitlines()[1]
    assert key_body not in orjson.dumps(made).decode() and key_body not in orjson.dumps(stored).decode()
    assert credentials.opened(ctx.secrets, stored)["TokenKey"] == request["TokenKey"]
    assert (stored["TeamId"], stored["TokenKeyId"], stored["BundleId"]) == ("TEAM123456", "ABC123DEFG",
                                                                            "com.example.app")
    # Turning it off names nothing else: the key stays.
    off = channels.update(ctx, admin, project, "APNS", {"Enabled": False})
    assert (off["Version"], off["Enabled"], off["HasTokenKey"], off["CreationDate"]) == (2, False, True,
                                                                                       made["CreationDate"])
    assert credentials.opened(ctx.secrets, _stored(ctx, project, "APNS"))["TokenKey"] == request["TokenKey"]
    assert channels.get(ctx, admin, project, "APNS") == off
    assert key_body not in caplog.text


def test_each_apns_kind_is_its_own_channel_and_get_channels_lists_them(ctx, admin, project):
    certificate, key = certificate_and_key()
    for platform in credentials.APNS_KINDS:
        made = channels.update(ctx, admin, project, platform, {"Certificate": certificate, "PrivateKey": key})
        assert (made["Platform"], made["DefaultAuthenticationMethod"], made["HasTokenKey"]) == (
            platform, "CERTIFICATE", False)
    channels.update(ctx, admin, project, "GCM", {"ServiceJson": service_json()})
    listed = channels.list_channels(ctx, admin, project)["Channels"]
    assert sorted(listed) == sorted([*credentials.APNS_KINDS, "GCM"])
    assert all(entry["HasCredential"] for entry in listed.values())
    shown = channels.delete(ctx, admin, project, "APNS_VOIP")
    assert shown["Platform"] == "APNS_VOIP"
    with pytest.raises(NotFound):
        channels.get(ctx, admin, project, "APNS_VOIP")
    assert channels.get(ctx, admin, project, "APNS_VOIP_SANDBOX")["Platform"] == "APNS_VOIP_SANDBOX"


def test_both_apns_methods_may_be_set_and_the_default_chooses(ctx, admin, project):
    certificate, key = certificate_and_key()
    both = channels.update(ctx, admin, project, "APNS_SANDBOX", {**token_request(), "Certificate": certificate,
                                                                  "PrivateKey": key,
                                                                  "DefaultAuthenticationMethod": "token"})
    assert (both["DefaultAuthenticationMethod"], both["HasTokenKey"]) == ("TOKEN", True)
    sealed = credentials.opened(ctx.secrets, _stored(ctx, project, "APNS_SANDBOX"))
    assert sorted(sealed) == ["Certificate", "PrivateKey", "TokenKey"]
    cleared = channels.update(ctx, admin, project, "APNS_SANDBOX", {"Certificate": "", "PrivateKey": ""})
    assert credentials.opened(ctx.secrets, _stored(ctx, project, "APNS_SANDBOX")).keys() == {"TokenKey"}
    assert cleared["DefaultAuthenticationMethod"] == "TOKEN"


@pytest.mark.parametrize("platform, request_, field", [
    ("APNS", {}, "Certificate"),
    ("APNS", {"Certificate": "not a certificate", "PrivateKey": "x"}, "Certificate"),
    ("APNS", {"TokenKeyId": "ABC123DEFG", "TeamId": "TEAM123456", "BundleId": "com.example.app"}, "TokenKey"),
    ("APNS", token_request(TeamId="team"), "TeamId"),
    ("APNS", token_request(BundleId="no dots"), "BundleId"),
    ("APNS", token_request(TokenKey="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "TokenKey"),
    ("APNS", token_request(TokenKey=pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))),
     "TokenKey"),
    ("APNS", token_request(DefaultAuthenticationMethod="CERTIFICATE"), "DefaultAuthenticationMethod"),
    ("APNS", token_request(DefaultAuthenticationMethod="KEY"), "DefaultAuthenticationMethod"),
    ("GCM", {}, "ServiceJson"),
    ("GCM", {"ServiceJson": "{not json"}, "ServiceJson"),
    ("GCM", {"ServiceJson": service_json(type="authorized_user")}, "ServiceJson"),
    ("GCM", {"ServiceJson": service_json(client_email="")}, "ServiceJson"),
    ("GCM", {"ServiceJson": service_json(token_uri="http://tokens.example.com/")}, "ServiceJson"),
    ("GCM", {"ServiceJson": service_json(), "DefaultAuthenticationMethod": "KEY"}, "DefaultAuthenticationMethod"),
    ("GCM", {"ApiKey": 42}, "ApiKey"),
    ("BAIDU", {"ApiKey": "baidu-api-key"}, "SecretKey"),
    ("ADM", {"ClientSecret": "s3cret"}, "ClientId"),
    ("ADM", {"ClientId": "amzn1.id", "ClientSecret": "x" * (credentials.MAX_SECRET_CHARS + 1)}, "ClientSecret"),
])
def test_bad_credentials_name_the_field_and_store_nothing(ctx, admin, project, platform, request_, field):
    with pytest.raises(InvalidInput) as caught:
        channels.update(ctx, admin, project, platform, request_)
    assert caught.value.field == field
    assert _stored(ctx, project, platform) is None
    for value in request_.values():  # an error never quotes a credential back
        if isinstance(value, str) and len(value) > 12:
            assert value not in str(caught.value)


def test_a_key_that_is_not_the_certificates_is_refused(ctx, admin, project):
    certificate, _key = certificate_and_key()
    _other, other_key = certificate_and_key()
    with pytest.raises(InvalidInput) as caught:
        channels.update(ctx, admin, project, "APNS", {"Certificate": certificate, "PrivateKey": other_key})
    assert caught.value.field == "PrivateKey"


def test_fcm_baidu_and_adm_answer_which_credentials_they_hold(ctx, admin, project):
    fcm = channels.update(ctx, admin, project, "GCM", {"ServiceJson": service_json()})
    assert (fcm["Platform"], fcm["HasFcmServiceCredentials"], fcm["DefaultAuthenticationMethod"]) == (
        "GCM", True, "TOKEN")
    assert "Credential" not in fcm
    legacy = channels.update(ctx, admin, project, "GCM", {"ServiceJson": "", "ApiKey": "AAAA-legacy-server-key"})
    assert (legacy["HasFcmServiceCredentials"], legacy["DefaultAuthenticationMethod"]) == (False, "KEY")
    both = channels.update(ctx, admin, project, "GCM", {"ServiceJson": service_json(),
                                                        "DefaultAuthenticationMethod": "KEY"})
    assert (both["HasFcmServiceCredentials"], both["DefaultAuthenticationMethod"]) == (True, "KEY")
    assert channels.update(ctx, admin, project, "GCM", {"Enabled": True})["DefaultAuthenticationMethod"] == "KEY"
    baidu = channels.update(ctx, admin, project, "BAIDU", {"ApiKey": "baidu-api-key-1234", "SecretKey": "shh"})
    assert baidu["Credential"] == "****1234" and baidu["Platform"] == "BAIDU"
    adm = channels.update(ctx, admin, project, "ADM", {"ClientId": "amzn1.application-oa2-client.1",
                                                       "ClientSecret": "adm-secret"})
    assert (adm["Platform"], adm["HasCredential"]) == ("ADM", True)
    assert "adm-secret" not in orjson.dumps(_stored(ctx, project, "ADM")).decode()


def test_a_shared_projects_push_credentials_are_the_operators_and_each_sa_mp_tenant_sets_its_own(ctx, admin):
    placed, tenant = onboard(ctx, admin, "acme", "sa-sp")
    shared = placed["project_id"]
    for call in (lambda: channels.update(ctx, tenant, shared, "APNS", token_request()),
                 lambda: channels.get(ctx, tenant, shared, "GCM"),
                 lambda: channels.delete(ctx, tenant, shared, "APNS")):
        with pytest.raises(Forbidden):
            call()
    alpha_place, alpha = onboard(ctx, admin, "alpha", "sa-mp")
    bravo_place, bravo = onboard(ctx, admin, "bravo", "sa-mp")
    channels.update(ctx, alpha, alpha_place["project_id"], "APNS", token_request())
    channels.update(ctx, bravo, bravo_place["project_id"], "APNS", token_request(BundleId="com.bravo.app"))
    for call in (lambda: channels.get(ctx, bravo, alpha_place["project_id"], "APNS"),
                 lambda: channels.update(ctx, bravo, alpha_place["project_id"], "APNS", {"Enabled": False})):
        with pytest.raises(NotFound):
            call()
    assert _stored(ctx, alpha_place["project_id"], "APNS")["BundleId"] == "com.example.app"
    solo_place, solo = onboard(ctx, admin, "solo", "ma-mp")
    assert channels.update(ctx, solo, solo_place["project_id"], "GCM",
                           {"ServiceJson": service_json()})["HasFcmServiceCredentials"]
