"""Accounts: sign-in with rate limiting, sessions, API keys (hashed, rotated, revoked), deactivation."""

from __future__ import annotations

import uuid

import httpx
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Account, ApiKey
from security.tokens import parse_api_key


async def _judge(api: httpx.AsyncClient) -> tuple[int, str, str]:
    name = f"judge-{uuid.uuid4().hex[:8]}"
    created = await api.post(
        "/accounts",
        json={
            "username": name,
            "display_name": "李评审",
            "email": f"{name}@x.cn",
            "role": "judge",
            "password": "Judge-2025-pw",
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], name, "Judge-2025-pw"


async def test_sign_in_me_and_sign_out(
    api: httpx.AsyncClient, public: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    account_id, name, password = await _judge(api)
    async with sessions() as session:
        stored = (await session.scalars(select(Account).where(Account.id == account_id))).one()
    assert (
        stored.password_hash and stored.password_hash.startswith("$argon2id$") and password not in stored.password_hash
    )
    token = (await public.post("/auth/login", json={"username": name.upper(), "password": password})).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    me = await public.get("/auth/me", headers=auth)
    assert me.status_code == 200 and me.json()["role"] == "judge"
    assert (await public.post("/auth/logout", headers=auth)).status_code == 204
    gone = await public.get("/auth/me", headers=auth)
    assert (gone.status_code, gone.json()["error"]["code"]) == (401, "invalid_credentials")


async def test_an_older_hash_still_signs_in_and_is_upgraded(
    api: httpx.AsyncClient, public: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    account_id, name, password = await _judge(api)
    assert "$m=19456,t=2,p=1$" in await _hash_of(sessions, account_id)  # OWASP's minimum argon2id profile
    async with sessions.begin() as session:  # as stored before the profile changed: argon2-cffi's default
        (await session.get_one(Account, account_id)).password_hash = PasswordHasher().hash(password)
    assert "$m=65536,t=3,p=4$" in await _hash_of(sessions, account_id)
    signed_in = await public.post("/auth/login", json={"username": name, "password": password})
    assert signed_in.status_code == 200, signed_in.text
    assert "$m=19456,t=2,p=1$" in await _hash_of(sessions, account_id)
    again = await public.post("/auth/login", json={"username": name, "password": password})
    assert again.status_code == 200


async def _hash_of(sessions: async_sessionmaker[AsyncSession], account_id: int) -> str:
    async with sessions() as session:
        return (await session.get_one(Account, account_id)).password_hash or ""


async def test_repeated_failures_are_rate_limited(api: httpx.AsyncClient, public: httpx.AsyncClient) -> None:
    _, name, password = await _judge(api)
    for _ in range(5):
        wrong = await public.post("/auth/login", json={"username": name, "password": "guess-guess"})
        assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_login")
    blocked = await public.post("/auth/login", json={"username": name, "password": password})
    assert (blocked.status_code, blocked.json()["error"]["code"]) == (429, "too_many_attempts")
    unknown = await public.post("/auth/login", json={"username": "no-such-user", "password": password})
    assert unknown.json()["error"]["code"] == "invalid_login"  # unknown users look like wrong passwords


async def test_api_keys_are_hashed_rotated_and_revoked(
    api: httpx.AsyncClient, public: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    account_id, _, _ = await _judge(api)
    created = await api.post(f"/accounts/{account_id}/api-keys", json={"name": "scoring robot"})
    assert created.status_code == 201
    key = created.json()["key"]
    parts = parse_api_key(key)
    assert parts is not None
    async with sessions() as session:
        stored = await session.get(ApiKey, parts.key_id)
    assert stored is not None and stored.secret_hash.startswith("$argon2id$") and parts.secret not in stored.secret_hash
    assert (await public.get("/auth/me", headers={"X-API-Key": key})).json()["id"] == account_id
    listed = (await api.get(f"/accounts/{account_id}/api-keys")).json()
    assert [k["key"] for k in listed] == [None] and listed[0]["last_used_at"] is not None

    rotated = (await api.post(f"/api-keys/{parts.key_id}/rotate")).json()["key"]
    assert (await public.get("/auth/me", headers={"X-API-Key": key})).status_code == 401
    assert (await public.get("/auth/me", headers={"Authorization": f"Bearer {rotated}"})).status_code == 200

    assert (await api.delete(f"/api-keys/{parts.key_id}")).json()["revoked_at"] is not None
    assert (await public.get("/auth/me", headers={"X-API-Key": rotated})).status_code == 401


async def test_a_deactivated_account_loses_its_sessions(api: httpx.AsyncClient, public: httpx.AsyncClient) -> None:
    account_id, name, password = await _judge(api)
    token = (await public.post("/auth/login", json={"username": name, "password": password})).json()["token"]
    assert (await api.patch(f"/accounts/{account_id}", json={"active": False})).json()["active"] is False
    assert (await public.get("/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    assert (await public.post("/auth/login", json={"username": name, "password": password})).status_code == 401


async def test_account_errors_are_clear(api: httpx.AsyncClient) -> None:
    _, name, _ = await _judge(api)
    again = await api.post(
        "/accounts",
        json={"username": name, "display_name": "x", "email": "x@x.cn", "role": "judge", "password": "Judge-2025-pw"},
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "account_exists")
    weak = await api.post(
        "/accounts",
        json={"username": "weakling", "display_name": "x", "email": "x@x.cn", "role": "judge", "password": "short"},
    )
    assert (weak.status_code, weak.json()["error"]["code"]) == (422, "weak_password")
    team = await api.post(
        "/accounts",
        json={
            "username": "teamster",
            "display_name": "x",
            "email": "x@x.cn",
            "role": "team",
            "password": "Judge-2025-pw",
        },
    )
    assert (team.status_code, team.json()["error"]["code"]) == (422, "invalid_role")
