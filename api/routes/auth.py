"""Sign-in: exchange a password for a short-lived bearer token; sign out; who am I."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, StringConstraints
from sqlalchemy import delete

from api.accounts import login
from api.audit_trail import audit
from api.auth import Principal, PrincipalDep, guard
from api.deps import SessionDep, SettingsDep
from api.routes.accounts import AccountOut, account_out
from api.schemas import Strict
from db import models
from domain.roles import Action, Role
from security.tokens import token_digest

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(Strict):
    """Username and password."""

    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenOut(BaseModel):
    """A bearer token for the Authorization header, and when it expires."""

    token: str
    token_type: str = "bearer"
    expires_at: datetime
    role: str


@router.post("/login", response_model=TokenOut, summary="Sign in with a password", **guard(Action.SESSION_CREATE))
async def sign_in(body: LoginIn, request: Request, session: SessionDep, settings: SettingsDep) -> TokenOut:
    """Rate-limited per account; a wrong password and an unknown user answer alike."""
    client = request.client.host if request.client else "-"
    token, expires, account = await login(
        session,
        body.username,
        body.password,
        client,
        settings.login_attempts,
        timedelta(minutes=settings.login_window_minutes),
        timedelta(minutes=settings.token_minutes),
    )
    request.state.principal = Principal(account.id, account.username, Role(account.role))
    await audit(session, request, "account.signed_in", "account", str(account.id))
    await session.commit()
    return TokenOut(token=token, expires_at=expires, role=account.role)


@router.post("/logout", status_code=204, summary="End this session", **guard(Action.ACCOUNT_SELF))
async def sign_out(request: Request, session: SessionDep) -> None:
    """Forget the bearer token presented with this request."""
    token = request.headers.get("authorization", "").partition(" ")[2]
    await session.execute(delete(models.SessionToken).where(models.SessionToken.digest == token_digest(token)))
    await session.commit()


@router.get("/me", response_model=AccountOut, summary="The signed-in account", **guard(Action.ACCOUNT_SELF))
async def me(principal: PrincipalDep, session: SessionDep) -> AccountOut:
    """The caller's own account."""
    account = await session.get(models.Account, principal.account_id)
    assert account is not None
    return account_out(account)
