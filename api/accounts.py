"""Creating accounts and login sessions; shared by the API and the `contestctl` CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from db import models
from domain.roles import Role
from security.passwords import hashed, needs_rehash, verified
from security.tokens import new_session_token, token_digest

MIN_PASSWORD = 10


def check_password_strength(password: str) -> None:
    """At least 10 characters, not all of one kind."""
    if len(password) < MIN_PASSWORD or password.isdigit() or password.isalpha():
        raise ApiError(
            422,
            "weak_password",
            f"密码至少 {MIN_PASSWORD} 位，且不能全是数字或全是字母",
            f"passwords need at least {MIN_PASSWORD} characters, not all digits or all letters",
        )


async def create_account(
    session: AsyncSession,
    *,
    username: str,
    display_name: str,
    email: str,
    role: Role,
    password: str | None,
    tracks: list[str] | None = None,
    team_id: int | None = None,
    password_hash: str | None = None,
) -> models.Account:
    """A new account (flushed, not committed); 409 when the username is taken. Pass `password_hash` (from
    `hashed`) when a write transaction is already open, so no lock is held while argon2 runs."""
    if password is not None and password_hash is None:
        check_password_strength(password)
        password_hash = await hashed(password)
    if role is Role.PUBLIC:
        raise ApiError(422, "invalid_role", "不能创建公众账号", "the public role has no accounts")
    account = models.Account(
        username=username.strip().lower(),
        display_name=display_name,
        email=email,
        role=role.value,
        password_hash=password_hash,
        tracks=list(tracks or []),
        team_id=team_id,
    )
    session.add(account)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ApiError(409, "account_exists", f"用户名 {username} 已被使用", f"username '{username}' is taken") from exc
    return account


async def login(
    session: AsyncSession,
    username: str,
    password: str,
    client: str,
    attempts: int,
    window: timedelta,
    lifetime: timedelta,
) -> tuple[str, datetime, models.Account]:
    """A new session token, unless the credentials are wrong or too many recent attempts failed."""
    name = username.strip().lower()
    since = datetime.now(UTC) - window
    failures = await session.scalar(
        select(func.count()).where(models.LoginFailure.username == name, models.LoginFailure.at >= since)
    )
    if (failures or 0) >= attempts:
        raise ApiError(
            429, "too_many_attempts", "登录失败次数过多，请稍后再试", "too many failed sign-ins; try again later"
        )
    account = await session.scalar(select(models.Account).where(models.Account.username == name))
    if (
        account is None
        or not account.active
        or not account.password_hash
        or not await verified(account.password_hash, password)
    ):
        session.add(models.LoginFailure(username=name, client=client[:100]))
        await session.commit()
        raise ApiError(401, "invalid_login", "用户名或密码错误", "wrong username or password")
    if needs_rehash(account.password_hash):
        account.password_hash = await hashed(password)
    token = new_session_token()
    expires = datetime.now(UTC) + lifetime
    session.add(models.SessionToken(digest=token_digest(token), account_id=account.id, expires_at=expires))
    return token, expires, account
