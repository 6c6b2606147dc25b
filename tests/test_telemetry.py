"""Operations: JSON log lines carry the workflow id (from a workflow's logger on the time-skipping server and from
an API request about a project), the API counts requests by route template for Prometheus, and the optional
tracing interceptor turns a workflow and its activity into one trace."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config import Settings
from telemetry.logs import JsonFormatter
from telemetry.tracing import tracing_interceptors
from tests.helpers import keep_history
from workers.main import build_worker
from workflows.mail_resend import MailResendWorkflow


@pytest.fixture
def json_lines() -> Iterator[Callable[[], list[dict[str, object]]]]:
    """Everything logged during the test, as the JSON lines the API and the worker write."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level, root.level = root.level, logging.INFO
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


async def test_workflow_log_lines_carry_the_workflow_id(
    time_env: WorkflowEnvironment, worker: Worker, json_lines: Callable[[], list[dict[str, object]]]
) -> None:
    workflow_id = f"mail-resend-{uuid.uuid4().hex[:8]}"
    handle = await time_env.client.start_workflow(
        MailResendWorkflow.run, 987654321, id=workflow_id, task_queue=worker.task_queue
    )
    assert await handle.result() == "failed"
    await keep_history(
        handle, "mail_resend_refused"
    )  # no such mail: refused for good, and said so in the workflow's log
    lines = [line for line in json_lines() if line.get("workflow_id") == workflow_id]
    said = [line for line in lines if str(line["message"]).startswith("resend of mail 987654321 failed for good")]
    assert said and said[0]["level"] == "WARNING" and said[0]["workflow_type"] == "MailResendWorkflow"
    assert said[0]["run_id"] and str(said[0]["logger"]).startswith("temporalio")


async def test_api_lines_and_metrics_name_the_workflow_and_the_route(
    api: httpx.AsyncClient, json_lines: Callable[[], list[dict[str, object]]]
) -> None:
    missing = await api.get("/projects/ln-none-P00042", headers={"X-Request-ID": "req-telemetry-1"})
    assert missing.status_code == 404
    line = next(x for x in json_lines() if x.get("request_id") == "req-telemetry-1")
    assert (line["workflow_id"], line["status"], line["path"]) == ("ln-none-P00042", 404, "/projects/ln-none-P00042")
    metrics = (await api.get("/metrics")).text
    assert 'contestflow_http_requests_total{method="GET",route="/projects/{project_id}",status="404"}' in metrics
    assert "ln-none-P00042" not in metrics  # one series per route, not per project
    assert "/metrics" not in (await api.get("/openapi.json")).text


async def test_tracing_joins_the_start_the_workflow_and_its_activity(
    time_env: WorkflowEnvironment, settings_factory: Callable[..., Settings]
) -> None:
    exporter = InMemorySpanExporter()
    interceptors = tracing_interceptors("", "contestflow-test", exporter=exporter)
    base = time_env.client
    traced = Client(base.service_client, namespace=base.namespace, interceptors=interceptors)
    async with build_worker(traced, settings_factory()) as worker:
        await traced.execute_workflow(
            MailResendWorkflow.run, 987654322, id=f"traced-{uuid.uuid4().hex[:8]}", task_queue=worker.task_queue
        )
    spans = exporter.get_finished_spans()
    names = {s.name for s in spans}
    assert {"StartWorkflow:MailResendWorkflow", "RunWorkflow:MailResendWorkflow", "RunActivity:resend_mail"} <= names
    assert len({s.context.trace_id for s in spans}) == 1  # one trace, start to activity
