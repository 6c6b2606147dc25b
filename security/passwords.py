"""Argon2id hashing for passwords and API-key secrets."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's minimum argon2id profile (19 MiB, 2 passes, 1 lane). argon2-cffi's default (RFC 9106's low-memory
# profile: 64 MiB, 3 passes, 4 lanes) took 187 ms and both cores per hash on the 2-core bench machine, which capped
# registrations at about 4 a second (bench/national.py, py-spy); this one takes 42 ms of one core. Hashes carry their
# parameters, so older ones still verify and are upgraded at the next sign-in (`needs_rehash`).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_secret(secret: str) -> str:
    """An argon2id hash (salted, self-describing) of a password or key secret."""
    return _HASHER.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    """Whether the secret matches the stored hash; never raises on a mismatch."""
    try:
        return _HASHER.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether a verified hash was made with other parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return False


async def hashed(secret: str) -> str:
    """`hash_secret` on a worker thread: argon2 takes tens of milliseconds of CPU that the event loop must not."""
    return await asyncio.to_thread(hash_secret, secret)


async def verified(stored_hash: str, secret: str) -> bool:
    """`verify_secret` on a worker thread."""
    return await asyncio.to_thread(verify_secret, stored_hash, secret)
