"""Secrets at rest: access-key secrets are encrypted with the installation's master key."""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from pinfold.core.errors import PinfoldError


class SecretBox:
    """Encrypts and decrypts small secrets; the key never leaves this object (and is not in repr)."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._key = key
        self.decrypt = lru_cache(maxsize=4096)(self._decrypt)  # per-request key lookups stay cheap

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"

    def derive_key(self, purpose: str) -> bytes:
        """A key for one purpose (signing tracking links, ...), derived so the master key is never reused."""
        return hmac.new(self._key, f"pinfold:{purpose}".encode(), hashlib.sha256).digest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def opens(self, ciphertext: str) -> bool:
        """Whether this key can read `ciphertext` (a key check at start)."""
        try:
            self._fernet.decrypt(ciphertext.encode())
        except InvalidToken:
            return False
        return True

    def _decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise PinfoldError("A stored secret cannot be decrypted with this master key") from None


def load_master_key(data_dir: Path, configured: str) -> bytes:
    """The configured key, else the one in `<data_dir>/master.key`, created (mode 0600) on first start."""
    if configured:
        return configured.encode()
    path = data_dir / "master.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    return key
