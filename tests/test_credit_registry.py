"""The HTTP credit-registry adapter against a real HTTP server on loopback: answers, retries, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Response

from checks.registry import HttpRegistry, RegistryUnavailable
from domain.eligibility import Listing, ListKind
from tests.conftest import free_port

LISTED = "91210100MA0Q000011"


def credit_service() -> tuple[FastAPI, dict[str, int]]:
    calls = {"flaky": 0}
    app = FastAPI()

    @app.post("/ok")
    async def ok(body: dict[str, Any]) -> dict[str, Any]:
        return {
            "listings": [
                {"credit_code": c, "list_kind": "major_illegal_record"} for c in body["credit_codes"] if c == LISTED
            ],
            "organiser_affiliates": ["91210000MA0ORG0001"],
        }

    @app.post("/flaky")
    async def flaky(body: dict[str, Any], response: Response) -> dict[str, Any]:
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            response.status_code = 503
            return {}
        return {"listings": [], "organiser_affiliates": []}

    @app.post("/slow")
    async def slow(body: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(2)
        return {}

    return app, calls


@pytest.fixture
async def service() -> AsyncIterator[tuple[str, dict[str, int]]]:
    app, calls = credit_service()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}", calls
    server.should_exit = True
    await task


async def test_listings_and_affiliates_come_back(service: tuple[str, dict[str, int]]) -> None:
    answer = await HttpRegistry(f"{service[0]}/ok").lookup([LISTED, "91110000100010433L"])
    assert answer.listings == (Listing(LISTED, ListKind.MAJOR_ILLEGAL_RECORD),)
    assert answer.organiser_affiliates == frozenset({"91210000MA0ORG0001"})


async def test_passing_faults_are_retried(service: tuple[str, dict[str, int]]) -> None:
    answer = await HttpRegistry(f"{service[0]}/flaky", attempts=3).lookup([LISTED])
    assert answer.listings == () and service[1]["flaky"] == 3


async def test_timeouts_and_dead_services_are_unavailable_never_passed(service: tuple[str, dict[str, int]]) -> None:
    with pytest.raises(RegistryUnavailable, match="unavailable"):
        await HttpRegistry(f"{service[0]}/slow", timeout=0.3, attempts=2).lookup([LISTED])
    with pytest.raises(RegistryUnavailable):
        await HttpRegistry(f"http://127.0.0.1:{free_port()}/x", attempts=2).lookup([LISTED])
