"""Opaque bearer tokens and API keys: random secrets, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "cft_"
API_KEY_PREFIX = "cfk_"


def new_session_token() -> str:
    """A fresh bearer token for one login session."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """How a session token is stored and looked up (SHA-256 suffices for 256-bit random tokens)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKeyParts:
    """An API key `cfk_<key id>_<secret>` split for lookup (by id) and verification (argon2 of the secret)."""

    key_id: str
    secret: str

    @property
    def text(self) -> str:
        """The key as handed to its owner, once."""
        return f"{API_KEY_PREFIX}{self.key_id}_{self.secret}"


def new_api_key(key_id: str | None = None) -> ApiKeyParts:
    """A new key (or a new secret for an existing key id, when rotating)."""
    return ApiKeyParts(key_id or secrets.token_hex(6), secrets.token_urlsafe(32))


def parse_api_key(text: str) -> ApiKeyParts | None:
    """The parts of a presented key, or None when it is not shaped like one."""
    if not text.startswith(API_KEY_PREFIX):
        return None
    key_id, sep, secret = text[len(API_KEY_PREFIX) :].partition("_")
    return ApiKeyParts(key_id, secret) if sep and key_id and secret else None
