"""A project's push channels (APNs in its four kinds, FCM as GCM, Baidu, ADM): what an
Update<Platform>Channel request may say, how the credentials are kept, and what Get answers.

The channel's settings are one document per project and platform (messaging/channels.py stores and
versions it). The keys, certificates and service-account JSON in it are sealed with the installation's
master key (core/secrets.py) as one ciphertext, `Sealed`; the rest (bundle id, team id, key id, the
default authentication method) is plain. No answer, log line or error message carries what is sealed:
an answer says only which credentials are present (HasTokenKey, HasFcmServiceCredentials, HasCredential).

An update names the members it changes: a request that only sets Enabled keeps the stored keys. After
it, the channel must hold at least one complete way to authenticate (APNs: a certificate with its
private key, or a token key with its key id, team id and bundle id; FCM: a service-account JSON, or
the legacy server key, which Google stopped accepting in 2024; Baidu: the API and secret keys; ADM:
the client id and secret).
"""

from __future__ import annotations

import re

import orjson
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from pinfold.core.errors import InvalidInput
from pinfold.core.secrets import SecretBox

APNS, APNS_SANDBOX, APNS_VOIP, APNS_VOIP_SANDBOX = "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX"
APNS_KINDS = (APNS, APNS_SANDBOX, APNS_VOIP, APNS_VOIP_SANDBOX)
GCM, BAIDU, ADM = "GCM", "BAIDU", "ADM"
PLATFORMS = (*APNS_KINDS, GCM, BAIDU, ADM)
LABELS = {APNS: "APNs", APNS_SANDBOX: "APNs sandbox", APNS_VOIP: "APNs VoIP", APNS_VOIP_SANDBOX: "APNs VoIP sandbox",
          GCM: "FCM (GCM)", BAIDU: "Baidu", ADM: "ADM"}

# What each platform's request may carry: the plain members, then the sealed ones.
_PLAIN = {**dict.fromkeys(APNS_KINDS, ("BundleId", "TeamId", "TokenKeyId", "DefaultAuthenticationMethod")),
          GCM: ("DefaultAuthenticationMethod",), BAIDU: (), ADM: ()}
_SEALED = {**dict.fromkeys(APNS_KINDS, ("Certificate", "PrivateKey", "TokenKey")),
           GCM: ("ServiceJson", "ApiKey"), BAIDU: ("ApiKey", "SecretKey"), ADM: ("ClientId", "ClientSecret")}
METHODS = {**dict.fromkeys(APNS_KINDS, ("CERTIFICATE", "TOKEN")), GCM: ("KEY", "TOKEN")}  # authentication
_APPLE_ID = re.compile(r"^[A-Z0-9]{10}$")  # team ids and key ids: ten upper-case letters or digits
_BUNDLE_ID = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MAX_SECRET_CHARS = 16_384  # a PEM certificate chain or a service-account JSON is a few KB
_SERVICE_ACCOUNT = ("project_id", "private_key", "private_key_id", "client_email", "token_uri")


def document(secrets: SecretBox, platform: str, request: dict, previous: dict | None) -> dict:
    """The stored settings after an update: the members given over the previous ones, checked."""
    previous = previous or {"Enabled": True}
    plain = {key: value for key, value in previous.items() if key != "Sealed"}
    sealed = opened(secrets, previous)
    for member in _PLAIN[platform] + _SEALED[platform]:
        value = request.get(member)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"{member} must be a string", field=member)
        if len(value) > MAX_SECRET_CHARS:
            raise InvalidInput(f"{member} is longer than {MAX_SECRET_CHARS:,} characters", field=member)
        target = sealed if member in _SEALED[platform] else plain
        if value.strip():
            target[member] = value.strip() if target is plain else value
        else:
            target.pop(member, None)  # "" clears it
    if request.get("Enabled") is not None:
        plain["Enabled"] = bool(request["Enabled"])
    if request.get("DefaultAuthenticationMethod") is None and not _usable(plain.get("DefaultAuthenticationMethod"),
                                                                          sealed):
        plain.pop("DefaultAuthenticationMethod", None)  # its credentials were cleared: chosen again below
    _check(platform, plain, sealed)
    if platform in METHODS:
        plain.setdefault("DefaultAuthenticationMethod", _default_method(platform, sealed))
    return {**plain, "Sealed": secrets.encrypt(orjson.dumps(sealed).decode())}


def opened(secrets: SecretBox, stored: dict | None) -> dict:
    """The sealed credentials of a stored document, for the adapter that delivers with them."""
    if not stored or not stored.get("Sealed"):
        return {}
    return orjson.loads(secrets.decrypt(stored["Sealed"]))


def response(secrets: SecretBox, platform: str, stored: dict) -> dict:
    """The platform's own members of a Get/Update/Delete answer: which credentials are present, never them."""
    sealed = opened(secrets, stored)
    shown: dict = {"Platform": platform, "HasCredential": bool(sealed)}
    if platform in APNS_KINDS:
        shown.update(HasTokenKey=bool(sealed.get("TokenKey")),
                     DefaultAuthenticationMethod=stored.get("DefaultAuthenticationMethod"))
    elif platform == GCM:
        shown.update(HasFcmServiceCredentials=bool(sealed.get("ServiceJson")),
                     DefaultAuthenticationMethod=stored.get("DefaultAuthenticationMethod"))
    elif platform == BAIDU:  # Credential is a required member: only the API key's last four characters show
        shown["Credential"] = "****" + sealed.get("ApiKey", "")[-4:]
    return {key: value for key, value in shown.items() if value is not None}


def method_for(secrets: SecretBox, platform: str, stored: dict, preferred: str | None) -> str | None:
    """The authentication method a push uses: the message's PreferredAuthenticationMethod when the
    channel holds its credentials, else the channel's default. Raises InvalidInput for a preferred
    method the platform does not have or the channel cannot use."""
    if preferred is None or platform not in METHODS:
        return stored.get("DefaultAuthenticationMethod")
    method = str(preferred).upper()
    if method not in METHODS[platform]:
        raise InvalidInput(f"PreferredAuthenticationMethod must be one of {', '.join(METHODS[platform])} for "
                           f"{LABELS[platform]}", field="PreferredAuthenticationMethod")
    if method != stored.get("DefaultAuthenticationMethod") and not _usable(method, opened(secrets, stored)):
        raise InvalidInput(f"The {LABELS[platform]} channel has no {method} credentials for the message's "
                           "PreferredAuthenticationMethod", field="PreferredAuthenticationMethod")
    return method


def _usable(method: str | None, sealed: dict) -> bool:
    needs = {"TOKEN": ("TokenKey", "ServiceJson"), "CERTIFICATE": ("Certificate",), "KEY": ("ApiKey",)}
    return method is None or any(sealed.get(member) for member in needs.get(method.upper(), ()))


def _default_method(platform: str, sealed: dict) -> str:
    if platform == GCM:
        return "TOKEN" if sealed.get("ServiceJson") else "KEY"
    return "TOKEN" if sealed.get("TokenKey") and not sealed.get("Certificate") else "CERTIFICATE"


def _check(platform: str, plain: dict, sealed: dict) -> None:
    method = plain.get("DefaultAuthenticationMethod")
    if method is not None:
        plain["DefaultAuthenticationMethod"] = method = method.upper()
        if method not in METHODS.get(platform, ()):
            raise InvalidInput(f"DefaultAuthenticationMethod must be one of {', '.join(METHODS[platform])} for the "
                               f"{LABELS[platform]} channel", field="DefaultAuthenticationMethod")
    if platform in APNS_KINDS:
        _check_apns(platform, plain, sealed, method)
    elif platform == GCM:
        _check_gcm(sealed, method)
    else:
        needed = _SEALED[platform]
        missing = [member for member in needed if not sealed.get(member)]
        if missing:
            raise InvalidInput(f"The {LABELS[platform]} channel needs {' and '.join(needed)}", field=missing[0])


def _check_apns(platform: str, plain: dict, sealed: dict, method: str | None) -> None:
    label = LABELS[platform]
    has_certificate = bool(sealed.get("Certificate") or sealed.get("PrivateKey"))
    has_token = bool(sealed.get("TokenKey") or plain.get("TokenKeyId") or plain.get("TeamId"))
    if not has_certificate and not has_token:
        raise InvalidInput(f"The {label} channel needs a certificate (Certificate and PrivateKey) or a token key "
                           "(TokenKey, TokenKeyId, TeamId and BundleId)", field="Certificate")
    if has_certificate:
        _check_certificate(label, sealed)
    if has_token:
        for member in ("TokenKeyId", "TeamId", "BundleId"):
            if not plain.get(member):
                raise InvalidInput(f"Token authentication for the {label} channel needs TokenKey, TokenKeyId, TeamId "
                                   "and BundleId", field=member)
        if not sealed.get("TokenKey"):
            raise InvalidInput(f"Token authentication for the {label} channel needs TokenKey (the .p8 key from "
                               "Apple)", field="TokenKey")
        for member in ("TokenKeyId", "TeamId"):
            if not _APPLE_ID.match(plain[member]):
                raise InvalidInput(f"{member} must be the ten letters and digits Apple gave it", field=member)
        key = _private_key(sealed["TokenKey"], "TokenKey")
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise InvalidInput("TokenKey must be Apple's P-256 signing key (the contents of the .p8 file)",
                               field="TokenKey")
    if plain.get("BundleId") and not _BUNDLE_ID.match(plain["BundleId"]):
        raise InvalidInput("BundleId must be the app's bundle id, such as com.example.app", field="BundleId")
    if method == "TOKEN" and not has_token or method == "CERTIFICATE" and not has_certificate:
        raise InvalidInput(f"DefaultAuthenticationMethod {method} needs that method's credentials on the {label} "
                           "channel", field="DefaultAuthenticationMethod")


def _check_certificate(label: str, sealed: dict) -> None:
    if not sealed.get("Certificate") or not sealed.get("PrivateKey"):
        raise InvalidInput(f"Certificate authentication for the {label} channel needs both Certificate and "
                           "PrivateKey", field="Certificate" if not sealed.get("Certificate") else "PrivateKey")
    try:
        certificate = x509.load_pem_x509_certificate(sealed["Certificate"].encode())
    except ValueError:
        raise InvalidInput("Certificate must be the APNs client certificate in PEM form", field="Certificate") from None
    key = _private_key(sealed["PrivateKey"], "PrivateKey")
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():
        raise InvalidInput("PrivateKey is not the key of Certificate", field="PrivateKey")


def _check_gcm(sealed: dict, method: str | None) -> None:
    if not sealed.get("ServiceJson") and not sealed.get("ApiKey"):
        raise InvalidInput("The FCM (GCM) channel needs ServiceJson (the Firebase service account's JSON key) or "
                           "ApiKey", field="ServiceJson")
    if sealed.get("ServiceJson"):
        try:
            account = orjson.loads(sealed["ServiceJson"])
        except orjson.JSONDecodeError:
            raise InvalidInput("ServiceJson is not JSON: give the service account's key file as it was "
                               "downloaded", field="ServiceJson") from None
        if not isinstance(account, dict) or account.get("type") != "service_account":
            raise InvalidInput('ServiceJson must be a service account key (its "type" is "service_account")',
                               field="ServiceJson")
        missing = [member for member in _SERVICE_ACCOUNT if not isinstance(account.get(member), str)
                   or not account[member]]
        if missing:
            raise InvalidInput(f"ServiceJson lacks {', '.join(missing)}", field="ServiceJson")
        if not account["token_uri"].startswith("https://") and not _loopback(account["token_uri"]):
            raise InvalidInput("ServiceJson's token_uri must be an https URL", field="ServiceJson")
        if not isinstance(_private_key(account["private_key"], "ServiceJson"), rsa.RSAPrivateKey):
            raise InvalidInput("ServiceJson's private_key must be an RSA key", field="ServiceJson")
    if method == "TOKEN" and not sealed.get("ServiceJson") or method == "KEY" and not sealed.get("ApiKey"):
        raise InvalidInput(f"DefaultAuthenticationMethod {method} needs "
                           f"{'ServiceJson' if method == 'TOKEN' else 'ApiKey'} on the FCM (GCM) channel",
                           field="DefaultAuthenticationMethod")


def _private_key(pem: str, field: str):
    try:
        return load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):  # never echo what was given: it is a key
        raise InvalidInput(f"{field} must hold an unencrypted private key in PEM form", field=field) from None


def _loopback(url: str) -> bool:
    """http://127.0.0.1, ::1 or localhost: allowed so the channel can be tried against a local fake."""
    return bool(re.match(r"^http://(127\.\d+\.\d+\.\d+|\[::1\]|localhost)(:\d+)?/", url))
