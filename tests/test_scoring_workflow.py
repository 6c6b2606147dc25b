"""First-round scoring in the project workflow (time-skipping server): only assigned judges, only while the
round is open, only complete sheets in range; amendments keep every version."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.calendar import window_of
from domain.stages import Stage
from tests.helpers import (
    in_stage,
    keep_history,
    liaoning_calendar_from,
    project_start,
    seed_project,
    skip_to,
    start_project,
    wait_for,
)
from workflows.contracts import DecisionRequest, ScoreSubmission
from workflows.project import ProjectWorkflow

SHEET: dict[str, float] = {"innovation": 80, "data_value": 90, "application": 70, "business_model": 60, "team": 100}


async def code_of(call: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call  # type: ignore[misc]
    assert isinstance(info.value.cause, ApplicationError)
    return str(info.value.cause.type)


async def test_scores_from_assigned_judges_in_the_open_round(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    start = project_start(f"ln-test-P{uuid.uuid4().hex[:8]}", calendar)
    await seed_project(sessions, start)
    handle = await start_project(time_env.client, worker.task_queue, start)
    await handle.signal(ProjectWorkflow.judges_assigned, ["7", "8"])
    await wait_for(handle, in_stage(Stage.REGISTRATION, "team"))
    score = ProjectWorkflow.submit_score
    assert await code_of(handle.execute_update(score, ScoreSubmission("7", SHEET))) == "scoring_closed"

    await skip_to(time_env, window_of(calendar, Stage.FIRST_ROUND_REVIEW).opens_at + timedelta(hours=1))
    await wait_for(handle, in_stage(Stage.FIRST_ROUND_REVIEW, "judges"))
    assert await code_of(handle.execute_update(score, ScoreSubmission("9", SHEET))) == "not_assigned"
    assert await code_of(handle.execute_update(score, ScoreSubmission("7", {**SHEET, "team": 101}))) == "invalid_score"
    assert await code_of(handle.execute_update(score, ScoreSubmission("7", {"team": 90.0}))) == "invalid_score"
    first = await handle.execute_update(score, ScoreSubmission("7", SHEET, "数据要素利用充分"))
    amended = await handle.execute_update(score, ScoreSubmission("7", {**SHEET, "innovation": 90}, "修订"))
    other = await handle.execute_update(score, ScoreSubmission("8", SHEET))
    assert (first.version, amended.version, other.version) == (1, 2, 1)
    assert amended.total == pytest.approx(first.total + 0.2 * 10)
    sheets = await handle.query(ProjectWorkflow.scores)
    assert [(s.judge, s.version) for s in sheets] == [("7", 1), ("7", 2), ("8", 1)]

    await skip_to(time_env, window_of(calendar, Stage.FIRST_ROUND_REVIEW).closes_at + timedelta(hours=1))
    await wait_for(handle, lambda s: s.overdue)
    assert await code_of(handle.execute_update(score, ScoreSubmission("8", SHEET))) == "scoring_closed"
    await handle.execute_update(ProjectWorkflow.decide, DecisionRequest("first_round_review", "withdraw", "t", "测试"))
    assert (await handle.result()).outcome == "withdrawn"
    await keep_history(handle, "project_scored_then_withdrawn")
