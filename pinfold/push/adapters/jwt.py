"""The two JSON Web Tokens push needs, signed with `cryptography`: ES256 for APNs provider tokens
(with a P-256 `.p8` key) and RS256 for the assertion a Google service account trades for an access
token. JWS wants an ECDSA signature as the raw 32-byte r and s side by side, not the DER that
`cryptography` produces, hence the conversion."""

from __future__ import annotations

import base64

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def load_key(pem: str | bytes, algorithm: str, what: str) -> SigningKey:
    """A PEM private key for `algorithm` (ES256: P-256, RS256: RSA); ValueError naming `what`, never
    showing the key, when it is not one."""
    try:
        key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    except (ValueError, TypeError):
        raise ValueError(f"the {what} is not an unencrypted PEM private key") from None
    if algorithm == "ES256" and isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    if algorithm == "RS256" and isinstance(key, rsa.RSAPrivateKey):
        return key
    raise ValueError(f"the {what} is not a key for {algorithm}")


def sign(claims: dict, key: SigningKey, key_id: str) -> str:
    """A compact JWT of `claims`, signed ES256 with a P-256 key or RS256 with an RSA key."""
    algorithm = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
    header = {"alg": algorithm, "kid": key_id, "typ": "JWT"}
    signing_input = f"{_encode(orjson.dumps(header))}.{_encode(orjson.dumps(claims))}".encode()
    if algorithm == "ES256":
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{_encode(signature)}"


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
