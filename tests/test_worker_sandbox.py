"""The worker's sandbox refuses a workflow that reads the wall clock through a module-level import: the check the
SDK's pass-every-module-through option (measured faster) would silently drop."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import (
    RestrictedWorkflowAccessError,
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from config import Settings
from tests.clock_workflow import ReadsTheWallClock
from workers.main import workflow_runner


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
