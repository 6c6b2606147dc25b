"""FastAPI dependencies: settings, database sessions and the Temporal client, from the app's state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from checks.registry import CreditRegistry
from config import Settings
from security.personal_data import PersonalDataCipher
from storage import LocalFileStore


def get_settings_dep(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request."""
    async with request.app.state.sessions() as session:
        yield session


def get_temporal(request: Request) -> Client:
    """The app's Temporal client."""
    client: Client = request.app.state.temporal
    return client


def get_cipher(request: Request) -> PersonalDataCipher:
    """The cipher for personal data."""
    cipher: PersonalDataCipher = request.app.state.cipher
    return cipher


CipherDep = Annotated[PersonalDataCipher, Depends(get_cipher)]


def get_store(request: Request) -> LocalFileStore:
    """Where uploaded files go."""
    store: LocalFileStore = request.app.state.store
    return store


StoreDep = Annotated[LocalFileStore, Depends(get_store)]


def get_registry(request: Request) -> CreditRegistry:
    """The credit registry (local tables or HTTP service)."""
    registry: CreditRegistry = request.app.state.registry
    return registry


RegistryDep = Annotated[CreditRegistry, Depends(get_registry)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
IdempotencyKey = Annotated[
    str | None, Header(max_length=200, description="Repeat-safe key: the same act sent again is taken once")
]
