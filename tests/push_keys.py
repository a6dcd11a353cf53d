"""Credentials for push tests, made fresh: Apple's P-256 token key, an APNs client certificate with its
key, and a Firebase service account's JSON key."""

from __future__ import annotations

import datetime

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def apple_key() -> str:
    return pem(ec.generate_private_key(ec.SECP256R1()))


def certificate_and_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Apple Push Services: com.example.app")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), pem(key)


def service_json(**changes) -> str:
    account = {"type": "service_account", "project_id": "shop-app", "private_key_id": "k1",
               "private_key": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
               "client_email": "pinfold@shop-app.iam.gserviceaccount.com",
               "token_uri": "https://oauth2.googleapis.com/token", **changes}
    return orjson.dumps(account).decode()
