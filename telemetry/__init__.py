"""Operations: structured JSON logs, Prometheus metrics for the API and the worker, optional OpenTelemetry tracing."""
