"""The registration stage on the time-skipping server: incomplete-materials mail, the 3-day reminder (moved with
the deadline), not submitted at close, representatives locked, eligibility at start and at close, a pending check."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contracts import CalendarBroadcast
from config import Settings
from db.models import CreditListing, Project, Team
from db.outbox import Mail
from domain.calendar import move_window, window_of
from domain.stages import Stage
from tests.conftest import free_port
from tests.helpers import (
    eventually,
    in_stage,
    keep_history,
    liaoning_calendar_from,
    project_start,
    seed_project,
    skip_to,
    start_project,
    wait_for,
)
from workers.main import build_worker
from workflows.contracts import DecisionRequest, MaterialsState, ProjectResult, ProjectStart
from workflows.project import ProjectWorkflow

MISSING = MaterialsState(complete=False, missing=["application.solution", "proof.ip_proof"], version=0)


async def milestones(sessions: async_sessionmaker[AsyncSession], project_id: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(select(Mail.milestone).where(Mail.workflow_id == project_id).order_by(Mail.id))
        return list(rows.all())


async def launch(
    time_env: WorkflowEnvironment,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
    start: ProjectStart,
    **seed: str,
) -> WorkflowHandle[ProjectWorkflow, ProjectResult]:
    await seed_project(sessions, start, **seed)
    return await start_project(time_env.client, worker.task_queue, start)


def new_start(calendar: list, materials: MaterialsState = MISSING) -> ProjectStart:  # type: ignore[type-arg]
    return project_start(f"ln-test-P{uuid.uuid4().hex[:8]}", calendar, f"{uuid.uuid4().hex[:8]}@example.com", materials)


async def test_incomplete_projects_are_told_reminded_and_end_not_submitted(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    closes = window_of(calendar, Stage.REGISTRATION).closes_at
    start = new_start(calendar)
    handle = await launch(time_env, worker, sessions, start)
    await wait_for(handle, in_stage(Stage.REGISTRATION, "team"))

    async def told() -> bool:
        return await milestones(sessions, start.project_id) == ["registration_received", "registration_incomplete"]

    assert await eventually(told)
    await skip_to(time_env, closes - timedelta(days=3, hours=1))
    assert "registration_closing" not in str(await milestones(sessions, start.project_id))
    result = await handle.result()
    assert (result.outcome, result.final_stage) == ("not_submitted", "registration")
    sent = await milestones(sessions, start.project_id)
    assert sent == [
        "registration_received",
        "registration_incomplete",
        f"registration_closing/{closes:%Y%m%dT%H%M}",
        "registration_not_submitted",
    ]
    await keep_history(handle, "project_not_submitted")


async def test_completed_in_time_it_advances_and_representatives_lock(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    start = new_start(calendar)
    handle = await launch(time_env, worker, sessions, start)
    await wait_for(handle, in_stage(Stage.REGISTRATION, "team"))
    await handle.signal(ProjectWorkflow.materials_updated, MaterialsState(True, [], 2))
    await handle.signal(ProjectWorkflow.materials_updated, MISSING)  # older version: ignored
    await wait_for(handle, lambda s: s.materials.complete)
    await skip_to(time_env, window_of(calendar, Stage.REGISTRATION).closes_at + timedelta(hours=1))
    await wait_for(handle, in_stage(Stage.FIRST_ROUND_REVIEW, "organiser"))
    async with sessions() as session:
        project = await session.get(Project, start.project_id)
        assert project is not None
        team = await session.get(Team, project.team_id)
        assert team is not None and team.representatives_locked_at is not None
    assert not any(m.startswith("registration_closing") for m in await milestones(sessions, start.project_id))
    await handle.execute_update(
        ProjectWorkflow.decide, DecisionRequest("first_round_review", "withdraw", "王伟", "测试")
    )
    assert (await handle.result()).outcome == "withdrawn"


async def test_a_moved_deadline_moves_the_reminder(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    registration = window_of(calendar, Stage.REGISTRATION)
    start = new_start(calendar)
    handle = await launch(time_env, worker, sessions, start)
    await wait_for(handle, in_stage(Stage.REGISTRATION, "team"))
    later = move_window(
        calendar,
        Stage.REGISTRATION,
        registration.opens_at,
        registration.closes_at + timedelta(days=10),
        shift_later=True,
    )
    await handle.signal(ProjectWorkflow.apply_calendar, CalendarBroadcast("ln-test", 1, later))
    await wait_for(handle, lambda s: s.calendar_revision == 1)
    await skip_to(time_env, registration.closes_at + timedelta(hours=1))  # the old deadline passes: nothing
    status = await wait_for(handle, in_stage(Stage.REGISTRATION))
    assert status.outcome is None
    assert not any(m.startswith("registration_closing") for m in await milestones(sessions, start.project_id))
    new_close = window_of(later, Stage.REGISTRATION).closes_at
    await skip_to(time_env, new_close - timedelta(days=3) + timedelta(hours=1))
    status = await wait_for(handle, in_stage(Stage.REGISTRATION))
    sent = await milestones(sessions, start.project_id)
    assert f"registration_closing/{new_close:%Y%m%dT%H%M}" in sent
    await handle.execute_update(ProjectWorkflow.decide, DecisionRequest("registration", "withdraw", "王伟", "测试"))
    assert (await handle.result()).outcome == "withdrawn"


async def test_a_listed_unit_is_refused_at_registration(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    start = new_start(calendar, MaterialsState(True, [], 1))
    code = await seed_project(sessions, start)
    async with sessions.begin() as session:
        session.add(CreditListing(credit_code=code, list_kind="dishonest_executed", name="x", source="test"))
    handle = await start_project(time_env.client, worker.task_queue, start)
    result = await handle.result()
    assert (result.outcome, result.final_stage) == ("disqualified", "registration")
    status = await handle.query(ProjectWorkflow.status)
    assert [v.code for v in status.violations] == ["listed_dishonest_executed"]
    assert "ineligible" in await milestones(sessions, start.project_id)
    await keep_history(handle, "project_ineligible")


async def test_a_unit_listed_before_the_deadline_is_caught_at_close(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    start = new_start(calendar, MaterialsState(True, [], 1))
    code = await seed_project(sessions, start)
    handle = await start_project(time_env.client, worker.task_queue, start)
    await wait_for(handle, in_stage(Stage.REGISTRATION, "team"))
    async with sessions.begin() as session:
        session.add(CreditListing(credit_code=code, list_kind="major_tax_violation", name="x", source="test"))
    result = await handle.result()
    assert (result.outcome, result.final_stage) == ("disqualified", "registration")
    assert [v.code for v in (await handle.query(ProjectWorkflow.status)).violations] == ["listed_major_tax_violation"]


async def test_an_unreachable_registry_leaves_the_project_pending_not_passed(
    time_env: WorkflowEnvironment, settings_factory: Callable[..., Settings], sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = settings_factory(credit_registry_url=f"http://127.0.0.1:{free_port()}/listings")
    async with build_worker(time_env.client, settings) as worker:
        calendar = liaoning_calendar_from(await time_env.get_current_time())
        start = new_start(calendar, MaterialsState(True, [], 1))
        handle = await launch(time_env, worker, sessions, start)
        status = await wait_for(handle, lambda s: s.waiting_on == "credit_check", within=60)
        assert status.stage == "registration" and status.outcome is None
        await handle.execute_update(ProjectWorkflow.decide, DecisionRequest("registration", "withdraw", "王伟", "放弃"))
        assert (await handle.result()).outcome == "withdrawn"
        await keep_history(handle, "project_check_pending_withdrawn")
