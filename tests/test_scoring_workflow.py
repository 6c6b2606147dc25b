"""First-round scoring in the project workflow (time-skipping server): only assigned judges, only while the
round is open, only complete sheets in range; amendments keep every version until the due date; scores are
stored in the database the ranking recomputes from, once, and survive a worker restart."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.contracts import ReviewerSlot, ScoreRow
from activities.review import ReviewActivities
from config import Settings
from db.models import Score
from domain.calendar import window_of
from domain.stages import Stage
from tests.helpers import (
    announce,
    keep_history,
    liaoning_calendar_from,
    pass_checks,
    project_start,
    rejection_code,
    seed_project,
    skip_to,
    start_project,
    wait_for,
)
from workers.main import build_worker
from workflows.contracts import DecisionRequest, ReviewAssignment, ReviewTerms, ScoreSubmission
from workflows.project import ProjectWorkflow

SHEET: dict[str, float] = {"innovation": 80, "data_value": 90, "application": 70, "business_model": 60, "team": 100}
DAY = 86400.0
TERMS = ReviewTerms(2 * DAY, DAY, 2 * DAY, 2, "organisers@example.com")


async def test_scores_from_assigned_judges_in_the_open_round(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    start = project_start(f"ln-test-P{uuid.uuid4().hex[:8]}", calendar)
    await seed_project(sessions, start)
    handle = await start_project(time_env.client, worker.task_queue, start)
    score = ProjectWorkflow.submit_score
    round_opens = window_of(calendar, Stage.FIRST_ROUND_REVIEW).opens_at
    due = round_opens + timedelta(days=4)
    slots = [ReviewerSlot("7", "j7@example.com", due), ReviewerSlot("8", "j8@example.com", due)]
    await handle.signal(ProjectWorkflow.reviewers_assigned, ReviewAssignment(slots, TERMS))
    await wait_for(handle, lambda s: s.stage == "registration")
    assert await rejection_code(handle.execute_update(score, ScoreSubmission("7", SHEET))) == "scoring_closed"

    await skip_to(time_env, round_opens + timedelta(hours=1))
    await pass_checks(handle)
    status = await wait_for(handle, lambda s: s.review_phase == "expert_review" and s.waiting_on == "judges")
    assert status.deadline == due
    assert await rejection_code(handle.execute_update(score, ScoreSubmission("9", SHEET))) == "not_assigned"
    assert (
        await rejection_code(handle.execute_update(score, ScoreSubmission("7", {**SHEET, "team": 101})))
        == "invalid_score"
    )
    assert await rejection_code(handle.execute_update(score, ScoreSubmission("7", {"team": 90.0}))) == "invalid_score"
    first = await handle.execute_update(score, ScoreSubmission("7", SHEET, "数据要素利用充分"))
    amended = await handle.execute_update(score, ScoreSubmission("7", {**SHEET, "innovation": 90}, "修订"))
    assert (first.version, amended.version) == (1, 2)
    assert amended.total == pytest.approx(first.total + 0.2 * 10)

    await skip_to(time_env, due + timedelta(hours=1))
    late_amendment = ScoreSubmission("7", SHEET, "再改")
    assert await rejection_code(handle.execute_update(score, late_amendment)) == "review_due_passed"
    late_first = await handle.execute_update(score, ScoreSubmission("8", SHEET))  # late, not yet reassigned
    assert late_first.version == 1
    status = await wait_for(handle, lambda s: s.waiting_on == "organiser")
    assert status.review_phase == "expert_review" and not status.overdue
    review = await handle.query(ProjectWorkflow.review)
    assert review.valid_scores == 2 and {r.state for r in review.reviewers} == {"submitted"}
    sheets = await handle.query(ProjectWorkflow.scores)
    assert [(s.judge, s.version) for s in sheets] == [("7", 1), ("7", 2), ("8", 1)]
    async with sessions() as session:
        stored = (
            await session.execute(
                select(Score.judge_account_id, Score.version, Score.total)
                .where(Score.project_id == start.project_id)
                .order_by(Score.judge_account_id, Score.version)
            )
        ).all()
    assert [tuple(row) for row in stored] == [(7, 1, first.total), (7, 2, amended.total), (8, 1, late_first.total)]

    await announce(handle, advanced=False)
    assert await rejection_code(handle.execute_update(score, replace(late_amendment, judge="8"))) in {
        "scoring_closed",
        "project_closed",
    }
    result = await handle.result()
    assert (result.outcome, result.decisions[-1].decision) == ("not_advanced", "reject")
    await keep_history(handle, "project_scored_not_advanced")


async def test_an_organiser_may_only_withdraw_or_disqualify_in_the_review(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    start = project_start(f"ln-test-P{uuid.uuid4().hex[:8]}", calendar)
    await seed_project(sessions, start)
    handle = await start_project(time_env.client, worker.task_queue, start)
    await skip_to(time_env, window_of(calendar, Stage.FIRST_ROUND_REVIEW).opens_at + timedelta(hours=1))
    await pass_checks(handle)
    reject = DecisionRequest("first_round_review", "reject", "组委会", "分数低")
    assert await rejection_code(handle.execute_update(ProjectWorkflow.decide, reject)) == "decided_by_review"
    await handle.execute_update(ProjectWorkflow.decide, replace(reject, decision="withdraw", reason="团队放弃"))
    assert (await handle.result()).outcome == "withdrawn"


async def test_scores_survive_a_worker_restart_and_a_retried_store(
    dev_env: WorkflowEnvironment, settings_factory: Callable[..., Settings], sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = settings_factory()
    now = await dev_env.get_current_time()
    calendar = liaoning_calendar_from(now - timedelta(days=47))  # the first round opened yesterday
    assert window_of(calendar, Stage.FIRST_ROUND_REVIEW).opens_at < now
    start = project_start(f"ln-test-P{uuid.uuid4().hex[:8]}", calendar)
    await seed_project(sessions, start)
    slot = ReviewerSlot("7", "j7@example.com", now + timedelta(days=4))
    async with build_worker(dev_env.client, settings):
        handle = await start_project(dev_env.client, settings.temporal_task_queue, start)
        await handle.signal(ProjectWorkflow.reviewers_assigned, ReviewAssignment([slot], TERMS))
        await pass_checks(handle)
        await wait_for(handle, lambda s: s.review_phase == "expert_review")
        first = await handle.execute_update(ProjectWorkflow.submit_score, ScoreSubmission("7", SHEET, "初评"))

    # A new worker process knows nothing: it rebuilds the workflow from its history and carries on.
    async with build_worker(dev_env.client, settings):
        sheets = await handle.query(ProjectWorkflow.scores)
        assert [(s.judge, s.version, s.total) for s in sheets] == [("7", 1, first.total)]
        second = await handle.execute_update(ProjectWorkflow.submit_score, ScoreSubmission("7", SHEET, "修订"))
        assert second.version == 2
        await handle.terminate("test over")

    row = ScoreRow(start.project_id, "7", 2, SHEET, second.total, "修订", second.submitted_at)
    stored_again = await ActivityEnvironment().run(ReviewActivities(sessions).record_score, row)  # a retried attempt
    async with sessions() as session:
        versions = (
            await session.scalars(
                select(Score.version).where(Score.project_id == start.project_id).order_by(Score.version)
            )
        ).all()
    assert list(versions) == [1, 2] and stored_again is False
