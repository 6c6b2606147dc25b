"""Schemathesis against the OpenAPI schema over real HTTP (bounded examples): no input yields a 5xx."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config import Settings
from domain.roles import Role
from tests.conftest import free_port
from tests.helpers import signed_in

# `make test` keeps the budget small to stay within ten minutes; `make chaos` (issue 9) raises it.
EXAMPLES_PER_OPERATION = int(os.environ.get("CONTESTFLOW_FUZZ_EXAMPLES", "15"))


def fuzz(base_url: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    """Generated requests per operation; how many were sent, and every one that got a 5xx (a 503, the API's answer
    to a part of the stack that did not answer in time, counts only if the same request gets it again)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    sent, failures = 0, []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            nonlocal sent
            response = case.call(base_url=base_url, headers=headers, timeout=60)
            sent += 1
            if response.status_code == 503:  # "try again later" (a health probe slow under load): so, once more
                time.sleep(1.0)
                response = case.call(base_url=base_url, headers=headers, timeout=60)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} {response.text[:200]}")

        check()
    return sent, failures


async def test_no_generated_request_gets_a_server_error(
    dev_env: WorkflowEnvironment, api_settings: Settings, sessions: async_sessionmaker[AsyncSession], transport: object
) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(api_settings, temporal=dev_env.client), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    try:
        _, headers = await signed_in(sessions, Role.ORGANISER)
        sent, failures = await asyncio.to_thread(fuzz, f"http://127.0.0.1:{port}", headers)
    finally:
        server.should_exit = True
        await serving
    assert sent >= 100
    assert failures == []
