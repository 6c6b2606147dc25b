"""Prometheus metrics: the API's requests by route and status (served at `/metrics`), and the Temporal SDK's own
metrics from the worker (workflow and activity task latencies, failures, schedule-to-start), on their own port."""

from __future__ import annotations

import logging
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from telemetry.logs import REQUEST_ID, WORKFLOW_ID, workflow_of_path

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "contestflow_http_requests",
    "API requests by method, route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "contestflow_http_request_duration_seconds",
    "API request latency by method and route template",
    ["method", "route"],
    registry=REGISTRY,
)
log = logging.getLogger("contestflow.api.requests")


class RequestMetricsMiddleware:
    """Counts and times every request under its route template (`/projects/{project_id}`, not each id), and logs
    one line per request with the workflow it is about."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500
        path = scope.get("path", "")
        tokens = (REQUEST_ID.set(scope.get("state", {}).get("request_id")), WORKFLOW_ID.set(workflow_of_path(path)))

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)
            extra = {"method": scope["method"], "path": path, "status": status, "duration_ms": round(elapsed * 1000, 1)}
            log.info("%s %s %s", scope["method"], path, status, extra=extra)
            REQUEST_ID.reset(tokens[0])
            WORKFLOW_ID.reset(tokens[1])


async def metrics_endpoint(request: Request) -> Response:
    """The Prometheus text exposition of the API's metrics."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def worker_runtime(bind_address: str) -> Runtime:
    """A Temporal runtime exporting the SDK's metrics for Prometheus at `bind_address` (host:port)."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))
