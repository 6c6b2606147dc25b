"""ProjectWorkflow on the time-skipping server with the real calendar: every stage, every terminal state."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contracts import CalendarBroadcast, FinalResult
from db.models import ProjectEvent
from db.outbox import Mail
from devtools.mail_sink import MailSink, read_store
from domain.calendar import move_window, window_of
from domain.stages import STAGE_ORDER, Stage
from tests.helpers import (
    announce,
    in_stage,
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
from workflows.contracts import DecisionRequest, ProjectResult, ProjectStart, TaskDecision
from workflows.project import ProjectWorkflow

Launch = Callable[[ProjectStart], Awaitable[WorkflowHandle[ProjectWorkflow, ProjectResult]]]


@pytest.fixture
def launch(time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]) -> Launch:
    """Seed a project's rows, then start its workflow on the worker's queue."""

    async def go(start: ProjectStart) -> WorkflowHandle[ProjectWorkflow, ProjectResult]:
        await seed_project(sessions, start)
        return await start_project(time_env.client, worker.task_queue, start)

    return go


def new_id() -> str:
    return f"ln-test-P{uuid.uuid4().hex[:8]}"


async def test_a_project_walks_every_stage_to_completion(
    time_env: WorkflowEnvironment,
    launch: Launch,
    sessions: async_sessionmaker[AsyncSession],
    mail_sink: MailSink,
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    start = project_start(new_id(), calendar, email=f"{uuid.uuid4().hex[:6]}@example.com")
    handle = await launch(start)
    decide = ProjectWorkflow.decide

    status = await wait_for(handle, in_stage(Stage.REGISTRATION, "team"))
    assert status.deadline == window_of(calendar, Stage.REGISTRATION).closes_at

    await skip_to(time_env, window_of(calendar, Stage.REGISTRATION).closes_at + timedelta(hours=1))
    status = await wait_for(handle, in_stage(Stage.FIRST_ROUND_REVIEW, "organiser"))
    assert status.deadline == window_of(calendar, Stage.FIRST_ROUND_REVIEW).closes_at
    override = DecisionRequest("first_round_review", "advance", "组委会办公室")
    assert await rejection_code(handle.execute_update(decide, override)) == "decided_by_review"
    await pass_checks(handle)
    await announce(handle, advanced=True)

    await wait_for(handle, in_stage(Stage.TECHNICAL_VERIFICATION, "calendar"))
    early = DecisionRequest("technical_verification", "advance", "组委会办公室")
    assert await rejection_code(handle.execute_update(decide, early)) == "stage_not_open"
    await skip_to(time_env, window_of(calendar, Stage.TECHNICAL_VERIFICATION).opens_at + timedelta(hours=1))
    await wait_for(handle, in_stage(Stage.TECHNICAL_VERIFICATION, "organiser"))  # to choose pledge or visit
    await handle.execute_update(decide, early)

    await wait_for(handle, in_stage(Stage.FIRST_PUBLIC_NOTICE))
    await skip_to(time_env, window_of(calendar, Stage.FINAL_REVIEW).opens_at + timedelta(hours=1))
    await wait_for(handle, in_stage(Stage.FINAL_REVIEW, "organiser"))  # to plan the roadshow
    advance = DecisionRequest("final_review", "advance", "专家评审委员会")
    assert await rejection_code(handle.execute_update(decide, advance)) == "decided_by_review"
    await handle.signal(ProjectWorkflow.final_result, FinalResult(2, rank=5, track_rank=1, score=91.5, award="first"))

    result = await handle.result()
    assert result.outcome == "completed" and result.final_stage == "ceremony"
    assert [d.stage for d in result.decisions] == [
        "first_round_review",
        "technical_verification",
        "final_review",
    ]

    async with sessions() as session:
        log = (
            await session.scalars(
                select(ProjectEvent).where(ProjectEvent.project_id == start.project_id).order_by(ProjectEvent.seq)
            )
        ).all()
        query = select(Mail).where(Mail.workflow_id == start.project_id).order_by(Mail.id)
        mails = (await session.scalars(query)).all()
    entered = [e.stage for e in log if e.kind == "stage_entered"]
    assert entered == [s.value for s in STAGE_ORDER]
    assert [e.decision for e in log if e.kind == "decision"] == ["advance", "advance", "advance"]
    assert [(e.kind, e.decision) for e in log if e.kind in ("qualification", "screening")] == [
        ("qualification", "pass"),
        ("screening", "pass"),
    ]
    assert log[-1].kind == "outcome" and log[-1].reason == "completed"
    assert [(m.milestone, m.status, m.attempts) for m in mails] == [
        ("registration_received", "sent", 1),
        ("first_round_advanced", "sent", 1),
        ("award_granted", "sent", 1),
    ]
    delivered = [m for m in read_store(mail_sink.store) if m["X-Envelope-To"] == start.contact_email]
    assert len(delivered) == 3 and all(start.project_id in str(m["Subject"]) for m in delivered)
    await keep_history(handle, "project_completed")


async def test_fails_the_qualification_check_after_it_went_overdue(
    time_env: WorkflowEnvironment, launch: Launch, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    start = project_start(new_id(), calendar)
    handle = await launch(start)
    await skip_to(time_env, window_of(calendar, Stage.FIRST_ROUND_REVIEW).closes_at + timedelta(days=2))
    status = await wait_for(handle, lambda s: s.stage == "first_round_review" and s.overdue)
    assert (status.waiting_on, status.review_phase) == ("organiser", "qualification")
    screening = TaskDecision("pass", "初筛机构", "", 80, "评估中心")
    assert await rejection_code(handle.execute_update(ProjectWorkflow.screen, screening)) == "wrong_task"
    no_reason = TaskDecision("fail", "资格审查组")
    assert await rejection_code(handle.execute_update(ProjectWorkflow.qualify, no_reason)) == "reason_required"
    await handle.execute_update(ProjectWorkflow.qualify, replace(no_reason, reason="申报单位不在辽宁注册"))
    result = await handle.result()
    assert (result.outcome, result.final_stage) == ("not_advanced", "first_round_review")
    assert result.decisions[-1].reason == "申报单位不在辽宁注册"
    async with sessions() as session:
        mails = (await session.scalars(select(Mail.milestone).where(Mail.workflow_id == start.project_id))).all()
    assert "qualification_failed" in mails
    await keep_history(handle, "project_not_advanced_overdue")


async def test_disqualified_when_an_objection_is_upheld_during_the_notice(
    time_env: WorkflowEnvironment, launch: Launch
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    handle = await launch(project_start(new_id(), calendar))
    await skip_to(time_env, window_of(calendar, Stage.FIRST_ROUND_REVIEW).opens_at + timedelta(hours=2))
    await pass_checks(handle)
    await announce(handle, advanced=True)
    await skip_to(time_env, window_of(calendar, Stage.TECHNICAL_VERIFICATION).opens_at + timedelta(hours=2))
    await wait_for(handle, in_stage(Stage.TECHNICAL_VERIFICATION, "organiser"))
    await handle.execute_update(ProjectWorkflow.decide, DecisionRequest("technical_verification", "advance", "验证组"))
    await skip_to(time_env, window_of(calendar, Stage.FIRST_PUBLIC_NOTICE).opens_at + timedelta(days=3))
    await wait_for(handle, in_stage(Stage.FIRST_PUBLIC_NOTICE, "public"))
    advance = DecisionRequest("first_public_notice", "advance", "组委会")
    assert await rejection_code(handle.execute_update(ProjectWorkflow.decide, advance)) == "decision_not_allowed"
    await handle.execute_update(
        ProjectWorkflow.decide,
        DecisionRequest("first_public_notice", "disqualify", "组委会", "实名举报经核查属实：知识产权不属于参赛单位"),
    )
    result = await handle.result()
    assert (result.outcome, result.final_stage) == ("disqualified", "first_public_notice")
    await keep_history(handle, "project_disqualified_in_notice")


async def test_withdrawn_during_registration(time_env: WorkflowEnvironment, launch: Launch) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    handle = await launch(project_start(new_id(), calendar))
    await wait_for(handle, in_stage(Stage.REGISTRATION, "team"))
    wrong = DecisionRequest("final_review", "withdraw", "王伟", "团队解散")
    assert await rejection_code(handle.execute_update(ProjectWorkflow.decide, wrong)) == "wrong_stage"
    unknown = DecisionRequest("registration", "promote", "王伟", "")
    assert await rejection_code(handle.execute_update(ProjectWorkflow.decide, unknown)) == "unknown_decision"
    result = await handle.execute_update(ProjectWorkflow.decide, replace(wrong, stage="registration"))
    assert result.effect == "withdrawn"
    outcome = await handle.result()
    assert (outcome.outcome, outcome.final_stage) == ("withdrawn", "registration")
    with pytest.raises(RPCError) as closed:  # a finished workflow takes no more updates
        await handle.execute_update(ProjectWorkflow.decide, replace(wrong, stage="registration"))
    assert closed.value.status == RPCStatusCode.NOT_FOUND
    await keep_history(handle, "project_withdrawn")


async def test_an_extended_deadline_moves_the_timer(time_env: WorkflowEnvironment, launch: Launch) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    handle = await launch(project_start(new_id(), calendar))
    await wait_for(handle, in_stage(Stage.REGISTRATION, "team"))
    registration = window_of(calendar, Stage.REGISTRATION)
    extended = move_window(
        calendar,
        Stage.REGISTRATION,
        registration.opens_at,
        registration.closes_at + timedelta(days=5),
        shift_later=True,
    )
    await handle.signal(ProjectWorkflow.apply_calendar, CalendarBroadcast("ln-test", 1, extended))
    await wait_for(
        handle,
        lambda s: s.calendar_revision == 1 and s.deadline == window_of(extended, Stage.REGISTRATION).closes_at,
    )
    await handle.signal(ProjectWorkflow.apply_calendar, CalendarBroadcast("ln-test", 0, calendar))  # stale: ignored
    await skip_to(time_env, registration.closes_at + timedelta(days=1))
    status = await wait_for(handle, in_stage(Stage.REGISTRATION))
    assert status.calendar_revision == 1
    await skip_to(time_env, window_of(extended, Stage.REGISTRATION).closes_at + timedelta(hours=1))
    await wait_for(handle, in_stage(Stage.FIRST_ROUND_REVIEW, "organiser"))
    await handle.execute_update(
        ProjectWorkflow.decide, DecisionRequest("first_round_review", "withdraw", "王伟", "团队放弃")
    )
    assert (await handle.result()).outcome == "withdrawn"
    await keep_history(handle, "project_calendar_moved")
