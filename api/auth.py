"""Who is calling (bearer token, API key or nobody) and whether the role × action table lets them."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SessionDep
from api.errors import ApiError, project_not_found
from db import models
from domain.roles import PROJECT_ACTIONS, Action, Role, Scope, roles_allowed, scope_of
from security.passwords import verified
from security.tokens import parse_api_key, token_digest


@dataclass(frozen=True)
class Principal:
    """The caller as the policy sees them."""

    account_id: int | None
    username: str
    role: Role
    tracks: tuple[str, ...] = ()
    team_id: int | None = None


ANONYMOUS = Principal(None, "anonymous", Role.PUBLIC)
KEY_MEMORY_SECONDS = 300.0
_VERIFIED_KEYS: dict[tuple[str, str], float] = {}  # (stored hash, SHA-256 of the presented secret) → until when
INVALID_CREDENTIALS = ApiError(
    401,
    "invalid_credentials",
    "登录凭证无效或已过期，请重新登录",
    "the credentials are invalid or expired; sign in again",
)


def _principal(account: models.Account) -> Principal:
    return Principal(account.id, account.username, Role(account.role), tuple(account.tracks or ()), account.team_id)


async def _from_token(session: AsyncSession, token: str) -> Principal:
    row = await session.get(models.SessionToken, token_digest(token))
    if row is None or _aware(row.expires_at) <= datetime.now(UTC):
        raise INVALID_CREDENTIALS
    account = await session.get(models.Account, row.account_id)
    if account is None or not account.active:
        raise INVALID_CREDENTIALS
    return _principal(account)


async def _key_matches(stored_hash: str, secret: str) -> bool:
    """argon2 once per key secret and process, then a remembered match for a few minutes: a machine client sends
    its key with every request. The stored hash is part of the memory, so a rotated key stops matching at once."""
    fingerprint = (stored_hash, hashlib.sha256(secret.encode()).hexdigest())
    now = time.monotonic()
    if _VERIFIED_KEYS.get(fingerprint, 0.0) > now:
        return True
    if not await verified(stored_hash, secret):
        return False
    if len(_VERIFIED_KEYS) > 10_000:
        _VERIFIED_KEYS.clear()
    _VERIFIED_KEYS[fingerprint] = now + KEY_MEMORY_SECONDS
    return True


async def _from_api_key(session: AsyncSession, text: str) -> Principal:
    parts = parse_api_key(text)
    key = await session.get(models.ApiKey, parts.key_id) if parts else None
    if parts is None or key is None or key.revoked_at is not None:
        raise INVALID_CREDENTIALS
    if not await _key_matches(key.secret_hash, parts.secret):
        raise INVALID_CREDENTIALS
    account = await session.get(models.Account, key.account_id)
    if account is None or not account.active:
        raise INVALID_CREDENTIALS
    now = datetime.now(UTC)
    if key.last_used_at is None or _aware(key.last_used_at) < now - timedelta(minutes=1):  # not a write per request
        await session.execute(update(models.ApiKey).where(models.ApiKey.key_id == key.key_id).values(last_used_at=now))
        await session.commit()
    return _principal(account)


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


async def authenticate(request: Request, session: AsyncSession) -> Principal:
    """The caller from `Authorization: Bearer …` or `X-API-Key: …`; anonymous when neither is sent."""
    header = request.headers.get("authorization", "")
    api_key = request.headers.get("x-api-key")
    if api_key:
        return await _from_api_key(session, api_key)
    if header:
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer" or not credential:
            raise INVALID_CREDENTIALS
        if credential.startswith("cfk_"):
            return await _from_api_key(session, credential)
        return await _from_token(session, credential)
    return ANONYMOUS


def _require(action: Action) -> Callable[[Request, AsyncSession], Awaitable[None]]:
    async def check(request: Request, session: SessionDep) -> None:
        principal = await authenticate(request, session)
        request.state.principal = principal
        if scope_of(principal.role, action) is not None:
            return
        if action in PROJECT_ACTIONS:
            raise project_not_found(request.path_params.get("project_id", "?"))
        if principal.role is Role.PUBLIC:
            raise ApiError(401, "auth_required", "请先登录", "sign in first")
        raise ApiError(403, "forbidden", "您的角色不能执行此操作", f"your role may not {action.value}")

    return check


def guard(action: Action) -> dict[str, Any]:
    """Route options: the policy check as a dependency, and the roles it admits in the OpenAPI schema."""
    roles = roles_allowed(action)
    return {
        "dependencies": [Depends(_require(action))],
        "openapi_extra": {"x-action": action.value, "x-roles": roles},
        "description": f"**Action** `{action.value}` · **roles**: {', '.join(roles)}",
    }


def current_principal(request: Request) -> Principal:
    """The caller, as the route's guard established."""
    principal: Principal = getattr(request.state, "principal", ANONYMOUS)
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def authorize_project(
    session: AsyncSession, principal: Principal, action: Action, project_id: str
) -> models.Project:
    """The project, if the caller's scope reaches it; otherwise 404 as if it did not exist."""
    project = await session.get(models.Project, project_id)
    scope = scope_of(principal.role, action)
    if project is None or scope is None:
        raise project_not_found(project_id)
    if scope is Scope.ALL:
        return project
    if scope is Scope.OWN_TRACKS and project.track_code in principal.tracks:
        return project
    if scope is Scope.OWN_TEAM and principal.team_id is not None and project.team_id == principal.team_id:
        return project
    if scope is Scope.ASSIGNED and principal.account_id is not None:
        assigned = await session.scalar(
            select(models.Assignment.id).where(
                models.Assignment.project_id == project.id,
                models.Assignment.account_id == principal.account_id,
                models.Assignment.kind.in_((principal.role.value, f"final_{principal.role.value}")),
            )
        )
        if assigned is not None:
            return project
    raise project_not_found(project_id)
