"""A worker or the API that starts while Temporal is away waits for it (with backoff, up to a limit) instead of
exiting: the chaos run restarted a killed worker during a dev-server restart, the worker's connect failed, and the
competition went on with no worker at all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from temporalio.testing import WorkflowEnvironment

from config import Settings
from config.temporal import connect_temporal
from tests.conftest import free_port


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def _forward_later(port: int, target: str, after: float) -> asyncio.Server:
    """A plain TCP forwarder to `target` that starts listening on `port` only `after` seconds from now."""
    await asyncio.sleep(after)
    host, _, target_port = target.rpartition(":")

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(target_port))
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True)

    return await asyncio.start_server(connection, "127.0.0.1", port)


async def test_a_process_started_before_temporal_waits_for_it(
    dev_env: WorkflowEnvironment, settings_factory: Callable[..., Settings]
) -> None:
    port = free_port()
    settings = settings_factory(temporal_address=f"127.0.0.1:{port}", temporal_connect_wait_seconds=30)
    later = asyncio.create_task(_forward_later(port, dev_env.client.service_client.config.target_host, after=1.5))
    began = time.monotonic()
    client = await connect_temporal(settings)
    waited = time.monotonic() - began
    server = await later
    try:
        assert waited >= 1.5
        assert (await client.service_client.check_health()) is True
    finally:
        server.close()


async def test_it_gives_up_after_the_wait_and_says_why(settings_factory: Callable[..., Settings]) -> None:
    settings = settings_factory(temporal_address=f"127.0.0.1:{free_port()}", temporal_connect_wait_seconds=0.5)
    began = time.monotonic()
    with pytest.raises(RuntimeError, match="connect"):
        await connect_temporal(settings)
    assert time.monotonic() - began >= 0.4
