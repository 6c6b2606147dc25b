"""The replay guard catches what it must: a recorded project history replayed against a workflow whose first step
changed fails with a non-determinism error, and the same change behind `workflow.patched` replays cleanly (the way
DEVELOPERS.md asks running workflows to be changed)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from workflows.contracts import ProjectResult, ProjectStart
from workflows.project import ProjectWorkflow

HISTORY = Path(__file__).parent / "histories" / "project_withdrawn.json"


@workflow.defn(name="ProjectWorkflow")
class CarelessChange(ProjectWorkflow):
    """A new wait before the registration mail, shipped without a patch."""

    @workflow.run
    async def run(self, start: ProjectStart) -> ProjectResult:
        await workflow.sleep(timedelta(minutes=1))
        return await super().run(start)


@workflow.defn(name="ProjectWorkflow")
class PatchedChange(ProjectWorkflow):
    """The same wait, only for runs that start after the change."""

    @workflow.run
    async def run(self, start: ProjectStart) -> ProjectResult:
        if workflow.patched("test-wait-before-mail"):
            await workflow.sleep(timedelta(minutes=1))
        return await super().run(start)


def replayer(workflow_class: type) -> Replayer:
    # Unsandboxed: the sandbox would re-import this test module for every run.
    return Replayer(workflows=[workflow_class], workflow_runner=UnsandboxedWorkflowRunner())


def recorded() -> WorkflowHistory:
    return WorkflowHistory.from_json("project_withdrawn", HISTORY.read_text())


async def test_an_unpatched_change_to_the_command_sequence_is_caught_on_replay() -> None:
    with pytest.raises(workflow.NondeterminismError) as caught:
        await replayer(CarelessChange).replay_workflow(recorded())
    assert "TMPRL1100" in str(caught.value)  # the SDK core's nondeterminism error


async def test_the_same_change_behind_workflow_patched_replays_the_old_history() -> None:
    result = await replayer(PatchedChange).replay_workflow(recorded())
    assert result.replay_failure is None


async def test_the_unchanged_workflow_replays_the_same_history() -> None:
    result = await replayer(ProjectWorkflow).replay_workflow(recorded())
    assert result.replay_failure is None
