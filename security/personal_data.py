"""Personal data at rest: AES-GCM encryption for what must be shown again, HMAC for lookups by value."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class PersonalDataCipher:
    """Encrypts ID and phone numbers; its blind index lets equal values be found without decrypting."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the personal-data key must be 32 bytes")
        self._aead = AESGCM(key)
        self._index_key = hashlib.sha256(b"contestflow-blind-index" + key).digest()

    def encrypt(self, value: str) -> str:
        """`nonce|ciphertext` in URL-safe base64."""
        nonce = os.urandom(12)
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, value.encode(), None)).decode()

    def decrypt(self, token: str) -> str:
        """The clear value of an encrypted token."""
        raw = base64.urlsafe_b64decode(token.encode())
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()

    def blind_index(self, value: str) -> str:
        """A keyed hash of a normalised value, equal for equal values, useless without the key."""
        return hmac.new(self._index_key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


def load_key(configured: str, data_dir: Path) -> bytes:
    """The configured base64 key, or (embedded stack) one generated once and kept in the data folder."""
    if configured:
        return base64.urlsafe_b64decode(configured.encode())
    path = data_dir / "personal-data.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
        path.chmod(0o600)
    return base64.urlsafe_b64decode(path.read_text().strip().encode())
