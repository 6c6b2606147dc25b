"""How every ContestFlow process reaches Temporal: the embedded dev server in plain text, or a cluster over TLS
(mTLS with a client certificate, or Temporal Cloud's API key)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client, Interceptor
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from config import Settings

logger = logging.getLogger(__name__)


def connect_options(settings: Settings) -> dict[str, Any]:
    """`Client.connect` keywords for the configured cluster."""
    tls: bool | TLSConfig = settings.temporal_tls or bool(settings.temporal_api_key)
    if settings.temporal_tls_cert:
        tls = TLSConfig(
            client_cert=Path(settings.temporal_tls_cert).read_bytes(),
            client_private_key=Path(settings.temporal_tls_key).read_bytes(),
        )
    return {
        "namespace": settings.temporal_namespace,
        "tls": tls,
        "api_key": settings.temporal_api_key or None,
    }


async def connect_temporal(
    settings: Settings,
    runtime: Runtime | None = None,
    interceptors: Sequence[Interceptor] = (),
    wait_seconds: float | None = None,
) -> Client:
    """A client of the configured namespace, trying again with backoff for up to `wait_seconds` (the setting
    `temporal_connect_wait_seconds` unless given) while the server is away: a worker or API started while Temporal
    restarts, or before it in a deployment, waits for it instead of exiting (the chaos run's dev-server restart
    under a worker restart left the competition with no worker)."""
    wait = settings.temporal_connect_wait_seconds if wait_seconds is None else wait_seconds
    deadline, pause = time.monotonic() + wait, 0.2
    while True:
        try:
            return await Client.connect(
                settings.temporal_address, runtime=runtime, interceptors=interceptors, **connect_options(settings)
            )
        except RuntimeError as exc:  # the SDK's "Failed client connect"
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            logger.warning("Temporal at %s not reachable (%s); trying again", settings.temporal_address, exc)
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 2, 5.0)
