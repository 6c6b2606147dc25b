"""The credit registry port and its adapters: local tables organisers import, or an HTTP credit service."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import CreditListing, OrganiserAffiliate
from domain.eligibility import Listing, ListKind


class RegistryUnavailable(Exception):
    """The registry could not answer; the check is pending, never passed."""


@dataclass(frozen=True)
class RegistryAnswer:
    """What the registry knows of some units: their listings, and which are organiser affiliates."""

    listings: tuple[Listing, ...]
    organiser_affiliates: frozenset[str]


class CreditRegistry(Protocol):
    """Looks units up on the dishonest lists and the organiser-affiliation list."""

    async def lookup(self, credit_codes: Sequence[str]) -> RegistryAnswer:
        """Listings and affiliations of these units (RegistryUnavailable when it cannot tell)."""


class LocalRegistry:
    """Reads the tables organisers import from CSV/XLSX; works offline."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def lookup(self, credit_codes: Sequence[str]) -> RegistryAnswer:
        """One query per table."""
        codes = list(set(credit_codes))
        async with self._sessions() as session:
            listed = (
                await session.execute(
                    select(CreditListing.credit_code, CreditListing.list_kind).where(
                        CreditListing.credit_code.in_(codes)
                    )
                )
            ).all()
            affiliates = (
                await session.scalars(
                    select(OrganiserAffiliate.credit_code).where(OrganiserAffiliate.credit_code.in_(codes))
                )
            ).all()
        return RegistryAnswer(tuple(Listing(code, ListKind(kind)) for code, kind in listed), frozenset(affiliates))


class HttpRegistry:
    """A credit service over HTTP: `POST {url}` with `{"credit_codes": [...]}` answering
    `{"listings": [{"credit_code", "list_kind"}], "organiser_affiliates": [...]}`; retried, then unavailable."""

    def __init__(self, url: str, token: str = "", timeout: float = 5.0, attempts: int = 3) -> None:
        self._url, self._token, self._timeout, self._attempts = url, token, timeout, attempts

    async def lookup(self, credit_codes: Sequence[str]) -> RegistryAnswer:
        """Ask the service, retrying with backoff on faults and 5xx."""
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        last: Exception | None = None
        async with httpx.AsyncClient(timeout=self._timeout, headers=headers) as client:
            for attempt in range(self._attempts):
                try:
                    response = await client.post(self._url, json={"credit_codes": sorted(set(credit_codes))})
                    if response.status_code >= 500:
                        raise RegistryUnavailable(f"credit service answered {response.status_code}")
                    response.raise_for_status()
                    body = response.json()
                    return RegistryAnswer(
                        tuple(Listing(i["credit_code"], ListKind(i["list_kind"])) for i in body.get("listings", [])),
                        frozenset(body.get("organiser_affiliates", [])),
                    )
                except (httpx.HTTPError, RegistryUnavailable, ValueError, KeyError) as exc:
                    last = exc
                    await asyncio.sleep(0.2 * 2**attempt)
        raise RegistryUnavailable(f"credit service unavailable: {last}")


def make_registry(url: str, token: str, sessions: async_sessionmaker[AsyncSession]) -> CreditRegistry:
    """The HTTP adapter when a URL is configured, else the local tables."""
    return HttpRegistry(url, token) if url else LocalRegistry(sessions)
