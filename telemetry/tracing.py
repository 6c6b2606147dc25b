"""Optional OpenTelemetry tracing: with CONTESTFLOW_OTEL_ENDPOINT set (and the `otel` extra installed), the API's
client and the worker carry Temporal's tracing interceptor, so a request, the workflow it starts or updates and the
activities that follow are one trace, exported over OTLP/HTTP."""

from __future__ import annotations

from typing import Any

from temporalio.client import Interceptor


def tracing_interceptors(endpoint: str, service: str, exporter: Any = None) -> list[Interceptor]:
    """Temporal's TracingInterceptor on a tracer provider exporting to `endpoint` (or to `exporter`, in tests); none
    when tracing is off."""
    if not endpoint and exporter is None:
        return []
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from temporalio.contrib.opentelemetry import TracingInterceptor
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("tracing needs the otel extra: pip install 'contestflow[otel]'") from exc
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return [TracingInterceptor(trace.get_tracer("contestflow", tracer_provider=provider))]
