"""How every ContestFlow process reaches Temporal: the embedded dev server in plain text, or a cluster over TLS
(mTLS with a client certificate, or Temporal Cloud's API key)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client, Interceptor
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from config import Settings


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
    settings: Settings, runtime: Runtime | None = None, interceptors: Sequence[Interceptor] = ()
) -> Client:
    """A client of the configured namespace."""
    return await Client.connect(
        settings.temporal_address, runtime=runtime, interceptors=interceptors, **connect_options(settings)
    )
