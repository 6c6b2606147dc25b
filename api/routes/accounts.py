"""Accounts and API keys: organisers create and manage accounts; everyone manages their own keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, EmailStr, Field, StringConstraints
from sqlalchemy import select

from api.accounts import create_account
from api.audit_trail import audit
from api.auth import Principal, PrincipalDep, guard
from api.deps import SessionDep
from api.errors import ApiError
from api.schemas import Name, Strict
from db import models
from domain.roles import Action, Role, Scope, scope_of
from security.passwords import hashed
from security.tokens import new_api_key

router = APIRouter(tags=["accounts"])
Username = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9._@+-]{3,254}$")]
TrackCodes = Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=20)]


class AccountIn(Strict):
    """A new account."""

    username: Username
    display_name: Name
    email: EmailStr
    role: Role
    password: Annotated[str, StringConstraints(max_length=200)]
    tracks: TrackCodes = Field(default_factory=list, description="Track codes, for a track working group")


class AccountPatch(Strict):
    """Changes to an account (role, tracks, name, active)."""

    display_name: Name | None = None
    role: Role | None = None
    tracks: TrackCodes | None = None
    active: bool | None = None


class AccountOut(BaseModel):
    """An account as listed (never its password or keys)."""

    id: int
    username: str
    display_name: str
    email: str
    role: str
    tracks: list[str]
    team_id: int | None
    active: bool
    created_at: datetime


class ApiKeyIn(Strict):
    """A name for the key, to tell keys apart."""

    name: Name


class ApiKeyOut(BaseModel):
    """A key as listed; `key` is shown only when it is created or rotated."""

    key_id: str
    name: str
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    key: str | None = None


def account_out(account: models.Account) -> AccountOut:
    """The listing form of an account."""
    return AccountOut(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        email=account.email,
        role=account.role,
        tracks=list(account.tracks or []),
        team_id=account.team_id,
        active=account.active,
        created_at=account.created_at,
    )


def key_out(key: models.ApiKey, text: str | None = None) -> ApiKeyOut:
    """The listing form of a key."""
    return ApiKeyOut(
        key_id=key.key_id,
        name=key.name,
        created_at=key.created_at,
        rotated_at=key.rotated_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
        key=text,
    )


def _not_found(account_id: int) -> ApiError:
    return ApiError(404, "account_not_found", f"没有编号为 {account_id} 的账号", f"no account {account_id}")


async def _owned_account(session: SessionDep, principal: Principal, account_id: int) -> models.Account:
    account = await session.get(models.Account, account_id)
    if account is None or (
        scope_of(principal.role, Action.API_KEY_MANAGE) is not Scope.ALL and account.id != principal.account_id
    ):
        raise _not_found(account_id)
    return account


async def _owned_key(session: SessionDep, principal: Principal, key_id: str) -> models.ApiKey:
    key = await session.get(models.ApiKey, key_id)
    if key is None or (
        scope_of(principal.role, Action.API_KEY_MANAGE) is not Scope.ALL and key.account_id != principal.account_id
    ):
        raise ApiError(404, "api_key_not_found", "没有这个密钥", f"no API key '{key_id}'")
    return key


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountOut,
    summary="Create an account",
    **guard(Action.ACCOUNT_CREATE),
)
async def create(body: AccountIn, request: Request, session: SessionDep) -> AccountOut:
    """Organisers create the accounts of judges, verifiers, committee members and track working groups."""
    if body.role is Role.TEAM:
        raise ApiError(422, "invalid_role", "团队账号在报名时创建", "team accounts are created by registration")
    account = await create_account(
        session,
        username=body.username,
        display_name=body.display_name,
        email=str(body.email),
        role=body.role,
        password=body.password,
        tracks=body.tracks,
    )
    await audit(
        session, request, "account.created", "account", str(account.id), role=account.role, username=account.username
    )
    await session.commit()
    return account_out(account)


@router.get("/accounts", response_model=list[AccountOut], summary="List accounts", **guard(Action.ACCOUNT_LIST))
async def list_accounts(session: SessionDep, role: Role | None = None) -> list[AccountOut]:
    """Every account, optionally of one role."""
    query = select(models.Account).order_by(models.Account.id)
    if role is not None:
        query = query.where(models.Account.role == role.value)
    return [account_out(a) for a in (await session.scalars(query)).all()]


@router.patch(
    "/accounts/{account_id}", response_model=AccountOut, summary="Change an account", **guard(Action.ACCOUNT_UPDATE)
)
async def change(account_id: int, body: AccountPatch, request: Request, session: SessionDep) -> AccountOut:
    """Rename, change role or tracks, deactivate or reactivate."""
    account = await session.get(models.Account, account_id)
    if account is None:
        raise _not_found(account_id)
    changes = body.model_dump(exclude_none=True)
    for name, value in changes.items():
        setattr(account, name, value.value if isinstance(value, Role) else value)
    await audit(
        session,
        request,
        "account.changed",
        "account",
        str(account.id),
        **{k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()},
    )
    await session.commit()
    return account_out(account)


@router.post(
    "/accounts/{account_id}/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyOut,
    summary="Create an API key (shown once)",
    **guard(Action.API_KEY_MANAGE),
)
async def create_key(
    account_id: int, body: ApiKeyIn, request: Request, session: SessionDep, principal: PrincipalDep
) -> ApiKeyOut:
    """A long-lived key for a machine acting as this account; only its argon2 hash is kept."""
    account = await _owned_account(session, principal, account_id)
    parts = new_api_key()
    key = models.ApiKey(
        key_id=parts.key_id,
        account_id=account.id,
        name=body.name,
        secret_hash=await hashed(parts.secret),
        created_at=datetime.now(UTC),
    )
    session.add(key)
    await audit(session, request, "api_key.created", "api_key", key.key_id, account_id=account.id, name=body.name)
    await session.commit()
    return key_out(key, parts.text)


@router.get(
    "/accounts/{account_id}/api-keys",
    response_model=list[ApiKeyOut],
    summary="List an account's API keys",
    **guard(Action.API_KEY_MANAGE),
)
async def list_keys(account_id: int, session: SessionDep, principal: PrincipalDep) -> list[ApiKeyOut]:
    """Keys with their state; never the secrets."""
    account = await _owned_account(session, principal, account_id)
    keys = await session.scalars(
        select(models.ApiKey).where(models.ApiKey.account_id == account.id).order_by(models.ApiKey.created_at)
    )
    return [key_out(k) for k in keys.all()]


@router.post(
    "/api-keys/{key_id}/rotate",
    response_model=ApiKeyOut,
    summary="Replace a key's secret (shown once)",
    **guard(Action.API_KEY_MANAGE),
)
async def rotate_key(key_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> ApiKeyOut:
    """A new secret under the same key id; the old secret stops working at once."""
    key = await _owned_key(session, principal, key_id)
    if key.revoked_at is not None:
        raise ApiError(409, "api_key_revoked", "密钥已吊销", "the key is revoked")
    parts = new_api_key(key.key_id)
    key.secret_hash, key.rotated_at = await hashed(parts.secret), datetime.now(UTC)
    await audit(session, request, "api_key.rotated", "api_key", key.key_id)
    await session.commit()
    return key_out(key, parts.text)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut, summary="Revoke a key", **guard(Action.API_KEY_MANAGE))
async def revoke_key(key_id: str, request: Request, session: SessionDep, principal: PrincipalDep) -> ApiKeyOut:
    """The key stops working; it stays listed as revoked."""
    key = await _owned_key(session, principal, key_id)
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await audit(session, request, "api_key.revoked", "api_key", key.key_id)
        await session.commit()
    return key_out(key)
