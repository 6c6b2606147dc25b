"""The worker's sandbox refuses a workflow that reads the wall clock through a module-level import (the check the
SDK's pass-every-module-through option, measured faster, would silently drop), and its lean context lookups give
every payload the context the SDK's own sandbox gives it."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError
from temporalio.converter import PayloadCodec, SerializationContext, WithSerializationContext
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import (
    RestrictedWorkflowAccessError,
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from config import Settings
from tests.clock_workflow import ReadsTheWallClock
from tests.context_workflow import Listener, UsesEveryContext, echo
from workers.main import workflow_runner
from workers.sandbox import LeanSandboxedWorkflowRunner


async def outcome(env: WorkflowEnvironment, runner: WorkflowRunner) -> str:
    """Run the clock-reading workflow under that runner: its result, or the type of error that failed it."""
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ReadsTheWallClock],
        workflow_runner=runner,
        workflow_failure_exception_types=[RestrictedWorkflowAccessError],  # fail the run, not retry its task
    ):
        try:
            return await env.client.execute_workflow(ReadsTheWallClock.run, id=queue, task_queue=queue)
        except WorkflowFailureError as failed:
            cause = failed.cause
            assert isinstance(cause, ApplicationError)
            return f"{cause.type}: {cause.message}"


async def test_the_workers_sandbox_refuses_the_wall_clock(
    dev_env: WorkflowEnvironment, settings_factory: Callable[..., Settings]
) -> None:
    refused = await outcome(dev_env, workflow_runner(settings_factory()))
    assert refused.startswith("RestrictedWorkflowAccessError") and "datetime.datetime.now" in refused


async def test_passing_every_module_through_would_let_the_clock_through(dev_env: WorkflowEnvironment) -> None:
    runner = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_all_modules())
    read = datetime.fromisoformat(await outcome(dev_env, runner))  # the real clock, which is why it is not used
    assert abs((datetime.now(UTC) - read).total_seconds()) < 60


class RecordingCodec(PayloadCodec, WithSerializationContext):
    """A codec that changes nothing and notes the context of every payload it sees, the workflow id made generic."""

    def __init__(self, seen: list[str], context: SerializationContext | None = None) -> None:
        self.seen = seen
        self.context = context

    def with_context(self, context: SerializationContext) -> RecordingCodec:
        return RecordingCodec(self.seen, context)

    def _note(self, way: str, payloads: Sequence[Payload]) -> list[Payload]:
        described = re.sub(r"contexts-[0-9a-f]{8}", "WF", repr(self.context))
        self.seen.extend(f"{way} {described}" for _ in payloads)
        return list(payloads)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self._note("encode", payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self._note("decode", payloads)


async def contexts_seen(env: WorkflowEnvironment, runner: WorkflowRunner) -> tuple[list[str], list[str]]:
    """Run the every-context workflow under that runner: its result and the sorted contexts its payloads had."""
    seen: list[str] = []
    converter = dataclasses.replace(env.client.data_converter, payload_codec=RecordingCodec(seen))
    config = env.client.config()
    config["data_converter"] = converter
    client = Client(**config)
    queue = f"contexts-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client, task_queue=queue, workflows=[UsesEveryContext, Listener], activities=[echo], workflow_runner=runner
    ):
        handle = await client.start_workflow(UsesEveryContext.run, "act", id=queue, task_queue=queue)
        await handle.execute_update(UsesEveryContext.tell, "upd")
        result = await handle.result()
    return result, sorted(seen)


async def test_the_lean_sandbox_gives_every_payload_the_sdks_own_context(dev_env: WorkflowEnvironment) -> None:
    lean_result, lean = await contexts_seen(dev_env, LeanSandboxedWorkflowRunner())
    sdk_result, sdk = await contexts_seen(dev_env, SandboxedWorkflowRunner())
    # the update lands wherever it meets the run, so the order may differ between runs; the contents may not
    assert sorted(lean_result) == sorted(sdk_result) == ["act", "act-local", "child:sig", "upd"]
    assert lean == sdk
    assert any(
        "ActivitySerializationContext" in c and "activity_type='echo'" in c and "is_local=True" in c for c in lean
    )
    assert any("ActivitySerializationContext" in c and "is_local=False" in c for c in lean)
    assert any("workflow_id='WF-child'" in c for c in lean)  # the child's start and the signal to it


def test_the_worker_runs_the_lean_sandbox_by_default(settings_factory: Callable[..., Settings]) -> None:
    assert isinstance(workflow_runner(settings_factory()), LeanSandboxedWorkflowRunner)
    assert isinstance(workflow_runner(settings_factory(worker_sandbox=False)), UnsandboxedWorkflowRunner)
