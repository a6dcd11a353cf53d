"""The push adapters against protocol fakes on loopback (tests/push_fakes.py): APNs over HTTP/2 with
provider tokens or client certificates, FCM HTTP v1 with a service account, and the built-in push
simulator. Each provider answer becomes the right Outcome, dead tokens are told apart, credentials
are reused as long as they may be and renewed when they must, and no secret reaches a log or repr."""

from __future__ import annotations

import json
import logging
import ssl
import time

import httpx
import pytest
import trustme
from cryptography import x509
from cryptography.x509.oid import NameOID

from pinfold.core.errors import InvalidInput, NotFound
from pinfold.push.adapters.apns import ApnsGateway
from pinfold.push.adapters.base import OutgoingPush, dead_token, refused
from pinfold.push.adapters.fcm import FcmGateway
from pinfold.push.adapters.simulator import PushSimulator, list_pushes, read_push
from tests import push_fakes
from tests.push_fakes import BUNDLE_ID, KEY_ID, TEAM_ID, FakeApns, FakeFcm


class Clock:
    """A clock the test moves: starts `offset` seconds from now."""

    def __init__(self, offset: float = 0.0) -> None:
        self.now = time.time() + offset

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    """The CA the fakes' server certificates come from, and its certificate as a CA bundle file."""
    authority = trustme.CA()
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    return authority, str(bundle)


@pytest.fixture(scope="module")
def apns_key():
    return push_fakes.ec_key()  # (the .p8 PEM, its public key)


@pytest.fixture(scope="module")
def apns_server(ca, apns_key):
    fake = FakeApns(apns_key[1])
    with push_fakes.serving(fake, ca=ca[0]) as url:
        yield fake, url


@pytest.fixture
def apns(apns_server):
    fake, url = apns_server
    fake.reset()
    fake.delay = 0.0
    return fake, url


@pytest.fixture(scope="module")
def fcm_server():
    account, public_key = push_fakes.service_account()
    fake = FakeFcm(account, public_key)
    with push_fakes.serving(fake) as url:
        account["token_uri"] = f"{url}/token"
        yield fake, url


@pytest.fixture
def fcm(fcm_server):
    fake, url = fcm_server
    fake.reset()
    fake.lifetime = 3600
    return fake, url


@pytest.fixture
def adapters():
    """Closes every adapter a test made."""
    made = []
    yield made
    for adapter in made:
        adapter.close()


def _apns_gateway(adapters, apns_key, url, ca, **options) -> ApnsGateway:
    options = {"production_url": url, "sandbox_url": url, **options}
    adapter = ApnsGateway(BUNDLE_ID, team_id=TEAM_ID, key_id=KEY_ID, token_key=apns_key[0], ca_bundle=ca[1],
                          **options)
    adapters.append(adapter)
    return adapter


def _fcm_gateway(adapters, fake, url, **options) -> FcmGateway:
    adapter = FcmGateway(fake.account, base_url=url, **options)
    adapters.append(adapter)
    return adapter


def _push(number: int, token: str | None = None, platform: str = "APNS", **fields) -> OutgoingPush:
    token = token or f"{number:064x}"
    payload = fields.pop("payload", {"aps": {"alert": {"title": "Hi", "body": f"push {number}"}}})
    return OutgoingPush(f"m-{number}", token, platform, payload, **fields)


def _gcm(number: int, token: str | None = None, **fields) -> OutgoingPush:
    payload = {"notification": {"title": "Hi", "body": f"push {number}"},
               "data": {"pinpoint.campaign.campaign_id": "_DIRECT"}}
    return _push(number, token or f"fcm-token-{number}", "GCM", payload=payload, **fields)


def _detail(outcome) -> dict:
    return json.loads(outcome.detail)


# APNs

def test_apns_delivers_with_every_header_and_the_payload_as_sent(apns, apns_key, ca, adapters):
    fake, url = apns
    adapter = _apns_gateway(adapters, apns_key, url, ca)
    headers = {"apns-push-type": "alert", "apns-priority": "5", "apns-expiration": "1900000000",
               "apns-collapse-id": "scores"}
    payload = {"aps": {"alert": {"title": "Goal", "body": "2-1"}, "badge": 3}, "data": {"pinpoint": {"deeplink": "x"}}}
    sent = [_push(1, payload=payload, headers=headers),
            _push(2, platform="APNS_VOIP", headers={"apns-push-type": "voip"}),
            _push(3, headers={"apns-topic": "com.example.other"})]
    outcomes = adapter.deliver(sent)
    assert [(o.status, o.code) for o in outcomes] == [("delivered", 200)] * 3
    received = {push["token"]: push for push in fake.pushes}
    assert [o.remote_id for o in outcomes] == [received[push.token]["apns_id"] for push in sent]
    first = received[sent[0].token]
    assert first["payload"] == payload
    assert {name: first["headers"][name] for name in headers} == headers
    assert first["headers"]["apns-topic"] == BUNDLE_ID
    assert received[sent[1].token]["headers"]["apns-topic"] == f"{BUNDLE_ID}.voip"
    assert received[sent[2].token]["headers"]["apns-topic"] == "com.example.other"
    assert not any(dead_token(o) for o in outcomes)


def test_the_fake_apns_takes_http2_only(apns, ca):
    fake, url = apns
    with httpx.Client(verify=ssl.create_default_context(cafile=ca[1])) as http1:
        answer = http1.post(f"{url}/3/device/{'0' * 64}", json={"aps": {}}, headers={"apns-topic": BUNDLE_ID})
    assert answer.http_version == "HTTP/1.1" and answer.status_code == 505 and not fake.pushes


def test_apns_sandbox_pushes_go_to_the_sandbox_and_no_answer_is_transient(apns, apns_key, ca, adapters):
    fake, url = apns
    adapter = _apns_gateway(adapters, apns_key, "https://127.0.0.1:9", ca, sandbox_url=url, timeout=3)
    sandbox, production = adapter.deliver([_push(1, platform="APNS_SANDBOX"), _push(2, platform="APNS")])
    assert sandbox.status == "delivered" and [p["token"] for p in fake.pushes] == [_push(1).token]
    assert (production.status, production.code) == ("transient", None)
    assert "did not answer" in _detail(production)["errorMessage"]


def test_apns_refusals_become_the_right_outcomes(apns, apns_key, ca, adapters):
    fake, url = apns
    adapter = _apns_gateway(adapters, apns_key, url, ca)
    large = {"aps": {"alert": "x" * 4100}}
    outcomes = adapter.deliver([
        _push(1, "invalid0a1b"), _push(2, "bad0a1b"), _push(3, "throttle0a1b"), _push(4, "down0a1b"),
        _push(5, payload=large), _push(6, "not-hex"), _push(7, platform="GCM"),
        _push(8, platform="APNS_VOIP", payload=large, headers={"apns-push-type": "voip"}),
    ])
    seen = [(o.status, o.code, o.enhanced, dead_token(o)) for o in outcomes]
    assert seen == [
        ("permanent", 410, "Unregistered", True),
        ("permanent", 400, "BadDeviceToken", True),
        ("transient", 429, "TooManyRequests", False),
        ("transient", 503, "ServiceUnavailable", False),
        ("permanent", 413, "PayloadTooLarge", False),
        ("permanent", 400, "BadDeviceToken", True),
        ("permanent", None, None, False),  # not an APNs platform: never sent
        ("delivered", 200, None, False),  # VoIP pushes may be up to 5120 bytes
    ]
    unregistered = _detail(outcomes[0])
    assert unregistered["errorMessage"] == "Unregistered or expired token"
    assert unregistered["channelType"] == "APNS" and unregistered["pushProviderStatusCode"] == "410"
    assert unregistered["pushProviderError"] == "Unregistered"
    answer = json.loads(unregistered["pushProviderResponse"])
    assert answer["reason"] == "Unregistered" and isinstance(answer["timestamp"], int)
    assert _detail(outcomes[4])["errorMessage"] == "APNs refused the push: PayloadTooLarge"
    assert len(fake.pushes) == 1


def test_the_provider_token_is_reused_and_renewed_after_the_interval(apns, apns_key, ca, adapters):
    fake, url = apns
    clock = Clock(offset=-50 * 60)  # so the renewed token is not from the future for the fake
    adapter = _apns_gateway(adapters, apns_key, url, ca, clock=clock)
    adapter.deliver([_push(n) for n in range(5)])
    clock.now += 10 * 60
    adapter.deliver([_push(n) for n in range(5, 10)])
    assert len(fake.pushes) == 10 and len(fake.tokens) == 1  # one signature for both batches
    clock.now += 31 * 60  # 41 minutes after the first: past the 40-minute renewal
    outcomes = adapter.deliver([_push(n) for n in range(10, 15)])
    assert {o.status for o in outcomes} == {"delivered"} and len(fake.tokens) == 2


def test_an_expired_provider_token_is_transient_and_renewed(apns, apns_key, ca, adapters):
    fake, url = apns
    clock = Clock(offset=-2 * 3600)  # signs with an iat two hours old: APNs calls it expired
    adapter = _apns_gateway(adapters, apns_key, url, ca, clock=clock)
    [expired] = adapter.deliver([_push(1)])
    assert (expired.status, expired.code, expired.enhanced) == ("transient", 403, "ExpiredProviderToken")
    clock.now = time.time()
    [renewed] = adapter.deliver([_push(2)])
    assert renewed.status == "delivered" and len(fake.tokens) == 1


def test_certificate_authentication(ca, apns_key, adapters):
    clients = trustme.CA()
    identity = clients.issue_cert(BUNDLE_ID)
    fake = FakeApns(certificates=True)
    with push_fakes.serving(fake, ca=ca[0], clients=clients.cert_pem.bytes()) as url:
        adapter = ApnsGateway(BUNDLE_ID, certificate=identity.cert_chain_pems[0].bytes().decode(),
                              certificate_key=identity.private_key_pem.bytes().decode(), production_url=url,
                              ca_bundle=ca[1])
        adapters.append(adapter)
        [outcome] = adapter.deliver([_push(1)])
        without = _apns_gateway(adapters, apns_key, url, ca, timeout=3)  # a provider token, no certificate
        [refused_outcome] = without.deliver([_push(2)])
        for made in adapters:  # the fake stops only once its connections are closed
            made.close()
    assert outcome.status == "delivered" and outcome.remote_id == fake.pushes[0]["apns_id"]
    assert "authorization" not in fake.pushes[0]["headers"]
    assert len(fake.pushes) == 1 and refused_outcome.status == "transient"  # the TLS handshake failed


def test_a_certificate_names_the_topic_when_none_is_given(ca, adapters):
    voip_name = x509.Name([x509.NameAttribute(NameOID.USER_ID, f"{BUNDLE_ID}.voip"),
                           x509.NameAttribute(NameOID.COMMON_NAME, f"VoIP Services: {BUNDLE_ID}")])
    certificate, key = push_fakes.self_signed(voip_name)
    fake = FakeApns(certificates=True)
    with push_fakes.serving(fake, ca=ca[0], clients=certificate.encode()) as url:
        adapter = ApnsGateway(certificate=certificate, certificate_key=key, production_url=url, ca_bundle=ca[1])
        outcomes = adapter.deliver([_push(1, platform="APNS_VOIP", headers={"apns-push-type": "voip"})])
        adapter.close()
    assert [o.status for o in outcomes] == ["delivered"]
    assert fake.pushes[0]["headers"]["apns-topic"] == f"{BUNDLE_ID}.voip"  # not .voip.voip
    unnamed, unnamed_key = push_fakes.self_signed(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "push")]))
    with pytest.raises(ValueError, match="bundle id"):
        ApnsGateway(certificate=unnamed, certificate_key=unnamed_key)


def test_a_batch_goes_concurrently_over_one_connection(apns, apns_key, ca, adapters):
    fake, url = apns
    fake.delay = 0.2  # each answer waits this long, so only concurrency gets 300 through in seconds
    adapter = _apns_gateway(adapters, apns_key, url, ca)
    pushes = [_push(n) for n in range(300)]
    told = []
    started = time.monotonic()
    outcomes = adapter.deliver(pushes, lambda index, outcome: told.append(index))
    elapsed = time.monotonic() - started
    assert [o.status for o in outcomes] == ["delivered"] * 300 and sorted(told) == list(range(300))
    assert sorted(p["token"] for p in fake.pushes) == sorted(p.token for p in pushes)
    assert fake.most_in_flight >= 20 and len({p["client"] for p in fake.pushes}) == 1
    assert elapsed < 15  # one after another it would take 60 s


def test_acknowledged_answering_false_stops_the_rest(apns, apns_key, ca, adapters):
    fake, url = apns
    adapter = _apns_gateway(adapters, apns_key, url, ca, streams=1)
    told = []

    def acknowledged(index, outcome):
        told.append(index)
        return index < 2

    outcomes = adapter.deliver([_push(n) for n in range(20)], acknowledged)
    # One stream: after the third answer at most one more push was already on its way.
    assert 3 <= len(outcomes) <= 4 and told == list(range(len(outcomes)))
    assert len(fake.pushes) == len(outcomes)


def test_secrets_stay_out_of_logs_reprs_and_errors(apns, apns_key, ca, adapters, caplog):
    fake, url = apns
    caplog.set_level(logging.DEBUG)
    adapter = _apns_gateway(adapters, apns_key, url, ca)
    assert adapter.deliver([_push(1)])[0].status == "delivered"
    [token] = fake.tokens
    key_body = apns_key[0].splitlines()[1]
    assert caplog.records and token not in caplog.text and token.split(".")[2] not in caplog.text
    assert key_body not in repr(adapter) and token not in repr(adapter) and "auth='token'" in repr(adapter)
    with pytest.raises(ValueError) as bad_key:
        ApnsGateway(BUNDLE_ID, team_id=TEAM_ID, key_id=KEY_ID, token_key=apns_key[0].replace(key_body, key_body[::-1]))
    assert key_body not in str(bad_key.value) and key_body[::-1] not in str(bad_key.value)
    account, _ = push_fakes.service_account("https://oauth2.googleapis.com/token")
    fcm = FcmGateway(account)
    adapters.append(fcm)
    assert account["private_key"].splitlines()[1] not in repr(fcm) and "pinfold-test" in repr(fcm)


# FCM

def test_fcm_delivers_the_message_with_its_token(fcm, adapters):
    fake, url = fcm
    adapter = _fcm_gateway(adapters, fake, url)
    pushes = [_gcm(1), _gcm(2)]
    outcomes = adapter.deliver(pushes)
    assert [(o.status, o.code) for o in outcomes] == [("delivered", 200)] * 2
    assert sorted(o.remote_id for o in outcomes) == ["projects/pinfold-test/messages/0:1",
                                                     "projects/pinfold-test/messages/0:2"]
    by_token = {message["token"]: message for message in fake.messages}
    assert by_token["fcm-token-1"] == {**pushes[0].payload, "token": "fcm-token-1"}
    [claims] = fake.assertions
    assert claims["aud"] == fake.account["token_uri"] and claims["iss"] == fake.account["client_email"]
    assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
    assert claims["exp"] - claims["iat"] == 3600


def test_fcm_refusals_become_the_right_outcomes(fcm, adapters):
    fake, url = fcm
    adapter = _fcm_gateway(adapters, fake, url)
    outcomes = adapter.deliver([_gcm(1, "invalid-1"), _gcm(2, "bad-2"), _gcm(3, "throttle-3"), _gcm(4, "down-4"),
                                _push(5, platform="APNS")])
    seen = [(o.status, o.code, o.enhanced, dead_token(o)) for o in outcomes]
    assert seen == [
        ("permanent", 404, "UNREGISTERED", True),
        ("permanent", 400, "INVALID_ARGUMENT", True),  # the message says it is the registration token
        ("transient", 429, "QUOTA_EXCEEDED", False),
        ("transient", 503, "UNAVAILABLE", False),
        ("permanent", None, None, False),
    ]
    throttled = _detail(outcomes[2])
    assert throttled["retryAfterSeconds"] == "30" and throttled["channelType"] == "GCM"
    assert throttled["pushProviderError"] == "QUOTA_EXCEEDED"
    assert "RESOURCE_EXHAUSTED" in throttled["pushProviderResponse"]
    assert not fake.messages
    other_argument = refused("permanent", _gcm(6), code=400, error="INVALID_ARGUMENT",
                             message="Invalid value at 'message.data[0].value'", response="{}")
    assert not dead_token(other_argument)


def test_the_access_token_is_cached_and_refreshed(fcm, adapters):
    fake, url = fcm
    clock = Clock(offset=-30 * 60)
    adapter = _fcm_gateway(adapters, fake, url, clock=clock, streams=1)  # one push after another
    adapter.deliver([_gcm(1)])
    clock.now += 50 * 60
    adapter.deliver([_gcm(2)])
    assert len(fake.issued) == 1 and len(fake.messages) == 2
    clock.now += 6 * 60  # 56 minutes: within five minutes of the hour it was given for
    assert adapter.deliver([_gcm(3)])[0].status == "delivered" and len(fake.issued) == 2
    fake.issued.clear()  # Google revokes it
    revoked = adapter.deliver([_gcm(4), _gcm(5)])  # the second goes after the first's 401 dropped the token
    assert [(o.status, o.code, o.enhanced) for o in revoked] == [("transient", 401, "UNAUTHENTICATED")] * 2
    assert adapter.deliver([_gcm(6)])[0].status == "delivered" and len(fake.issued) == 1


def test_a_refused_service_account_leaves_the_pushes_transient(fcm, adapters):
    fake, url = fcm
    stranger, _ = push_fakes.service_account(fake.account["token_uri"])
    impostor = {**fake.account, "private_key": stranger["private_key"]}  # the right names, the wrong key
    adapter = FcmGateway(impostor, base_url=url)
    adapters.append(adapter)
    outcomes = adapter.deliver([_gcm(1), _gcm(2)])
    assert [(o.status, o.code, o.enhanced) for o in outcomes] == [("transient", 400, "invalid_grant")] * 2
    assert not fake.issued and not fake.messages


def test_a_legacy_key_alone_refuses_every_push(adapters):
    adapter = FcmGateway(legacy_key="AAAA-legacy-server-key")
    adapters.append(adapter)
    told = []
    outcomes = adapter.deliver([_gcm(1), _gcm(2), _gcm(3)], lambda index, _: told.append(index) or index < 1)
    assert [o.status for o in outcomes] == ["permanent"] * 2 and told == [0, 1]
    message = _detail(outcomes[0])["errorMessage"]
    assert "legacy" in message and "2024" in message and "service-account" in message
    assert not dead_token(outcomes[0]) and "AAAA" not in repr(adapter)
    with pytest.raises(ValueError):
        FcmGateway({"project_id": "p"})


# The push simulator

def test_the_simulator_keeps_each_push_and_answers_invalid_tokens_as_unregistered(tmp_path):
    simulator = PushSimulator(tmp_path)
    pushes = [_push(1), _push(2, "invalid-apns"), _gcm(3), _gcm(4, "invalid-fcm"), _push(1)]
    outcomes = simulator.deliver(pushes)
    assert [(o.status, o.code, dead_token(o)) for o in outcomes] == [
        ("delivered", 200, False), ("permanent", 410, True), ("delivered", 200, False), ("permanent", 404, True),
        ("delivered", 200, False)]
    assert outcomes[2].remote_id.startswith("projects/") and outcomes[0].remote_id != outcomes[4].remote_id
    assert _detail(outcomes[3])["pushProviderError"] == "UNREGISTERED"
    [day] = list(tmp_path.iterdir())
    assert sorted(path.name for path in day.iterdir()) == ["m-1.2.json", "m-1.json", "m-2.json", "m-3.json",
                                                          "m-4.json"]
    kept = read_push(tmp_path, "m-3")
    assert kept["token"] == "fcm-token-3" and kept["payload"] == pushes[2].payload and kept["outcome"] == "DELIVERED"
    assert read_push(tmp_path, "m-2")["outcome"] == "UNREGISTERED"
    assert read_push(tmp_path, "m-1.2")["id"] == "m-1.2"


def test_the_simulator_lists_pages_and_refuses_unknown_ids(tmp_path):
    simulator = PushSimulator(tmp_path)
    told = []
    simulator.deliver([_push(n) for n in range(5)], lambda index, _: told.append(index))
    assert told == [0, 1, 2, 3, 4]
    first, token = list_pushes(tmp_path, limit=2)
    second, token2 = list_pushes(tmp_path, limit=2, next_token=token)
    third, last = list_pushes(tmp_path, limit=2, next_token=token2)
    ids = [push["id"] for push in first + second + third]
    assert len(first) == len(second) == 2 and len(third) == 1 and last is None
    assert sorted(ids) == [f"m-{n}" for n in range(5)]
    only, _ = list_pushes(tmp_path, token=_push(3).token)
    assert [push["id"] for push in only] == ["m-3"]
    with pytest.raises(NotFound):
        read_push(tmp_path, "m-9")
    with pytest.raises(InvalidInput):
        read_push(tmp_path, "../etc/passwd")
    with pytest.raises(InvalidInput):
        list_pushes(tmp_path, limit=0)
    stopped = simulator.deliver([_push(n) for n in range(10, 15)], lambda index, _: index < 1)
    assert len(stopped) == 2
