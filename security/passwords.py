"""Argon2id hashing for passwords and API-key secrets."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


def hash_secret(secret: str) -> str:
    """An argon2id hash (salted, self-describing) of a password or key secret."""
    return _HASHER.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    """Whether the secret matches the stored hash; never raises on a mismatch."""
    try:
        return _HASHER.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


async def hashed(secret: str) -> str:
    """`hash_secret` on a worker thread: argon2 takes tens of milliseconds of CPU that the event loop must not."""
    return await asyncio.to_thread(hash_secret, secret)


async def verified(stored_hash: str, secret: str) -> bool:
    """`verify_secret` on a worker thread."""
    return await asyncio.to_thread(verify_secret, stored_hash, secret)
