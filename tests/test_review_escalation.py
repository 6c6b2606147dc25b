"""Reminders, overdue mails and reassignment on the time-skipping server: a judge is reminded before the due
date, told at it, then replaced by the least-loaded conflict-free reserve while the organisers are alerted; a
judge who declares a conflict is replaced at once. Mails about a due date go out once per judge."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contracts import ReviewerSlot
from db.models import Assignment, Judge
from db.outbox import Mail
from domain.calendar import window_of
from domain.stages import Stage
from tests.helpers import (
    keep_history,
    liaoning_calendar_from,
    make_credit_code,
    pass_checks,
    project_start,
    seed_judge,
    seed_project,
    skip_to,
    start_project,
    wait_for,
)
from workflows.contracts import ProjectResult, ReviewAssignment, ReviewerChange, ReviewTerms
from workflows.project import ProjectWorkflow

DAY = 86400.0
ALERTS = "alerts@example.com"
TERMS = ReviewTerms(2 * DAY, DAY, 2 * DAY, 1, ALERTS)


async def mails(sessions: async_sessionmaker[AsyncSession], **where: str) -> list[Mail]:
    async with sessions() as session:
        query = select(Mail).order_by(Mail.id)
        for column, value in where.items():
            query = query.where(getattr(Mail, column) == value)
        return list((await session.scalars(query)).all())


async def assignments(sessions: async_sessionmaker[AsyncSession], project_id: str) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Assignment.account_id, Assignment.state)
            .where(Assignment.project_id == project_id)
            .order_by(Assignment.id)
        )
        return [(str(a), s) for a, s in rows.all()]


async def test_remind_then_overdue_then_reassign_to_a_conflict_free_reserve(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    code = f"ln-esc-{uuid.uuid4().hex[:6]}"
    opens = window_of(calendar, Stage.FIRST_ROUND_REVIEW).opens_at
    due = opens + timedelta(days=4)
    team_unit = make_credit_code(uuid.uuid4().hex)
    starts = [replace(project_start(f"{code}-P{n:05d}", calendar), competition_code=code) for n in (1, 2)]
    for start in starts:
        await seed_project(
            sessions, start, credit_code=make_credit_code(uuid.uuid4().hex) if start is starts[1] else team_unit
        )
    slow, slow_email = await seed_judge(sessions, code, projects=tuple(s.project_id for s in starts), due_at=due)
    conflicted, _ = await seed_judge(sessions, code, unit_code=team_unit)  # same unit as project 1's team
    busy, _ = await seed_judge(sessions, code, max_load=1, projects=("",) * 0)
    reserve, reserve_email = await seed_judge(sessions, code)
    async with sessions.begin() as session:  # the busy judge is at their cap already
        session.add(Assignment(project_id=starts[1].project_id, account_id=int(busy), kind="judge", due_at=due))
    handles: list[WorkflowHandle[ProjectWorkflow, ProjectResult]] = []
    for start in starts:
        handle = await start_project(time_env.client, worker.task_queue, start)
        slot = [ReviewerSlot(slow, slow_email, due)]
        await handle.signal(ProjectWorkflow.reviewers_assigned, ReviewAssignment(slot, TERMS))
        handles.append(handle)
    await skip_to(time_env, opens + timedelta(hours=1))
    for handle in handles:
        await pass_checks(handle)
        await wait_for(handle, lambda s: s.waiting_on == "judges" and s.deadline == due)

    await skip_to(time_env, due - timedelta(days=2) + timedelta(hours=1))
    reminders = await _eventually_mails(sessions, 1, recipient=slow_email, template_prefix="review_reminder")
    assert reminders[0].workflow_id == f"{code}-judge-{slow}"  # two projects, one reminder

    await skip_to(time_env, due + timedelta(hours=1))
    await _eventually_mails(sessions, 1, recipient=slow_email, template_prefix="review_overdue")
    status = await wait_for(handles[0], lambda s: s.overdue)
    assert status.waiting_on == "judges"

    await skip_to(time_env, due + timedelta(days=1, hours=1))
    review = await _review_when(handles[0], lambda r: any(x.state == "replaced" for x in r.reviewers))
    assert {(r.judge, r.state) for r in review.reviewers} == {(slow, "replaced"), (reserve, "assigned")}
    new_due = next(r.due_at for r in review.reviewers if r.judge == reserve)
    assert abs(new_due - (due + timedelta(days=3))) < timedelta(minutes=1)
    assert await assignments(sessions, starts[0].project_id) == [(slow, "replaced"), (reserve, "assigned")]
    assert conflicted not in {r.judge for r in review.reviewers} and busy not in {r.judge for r in review.reviewers}
    alerts = await _eventually_mails(sessions, 2, recipient=ALERTS)
    assert {m.workflow_id for m in alerts} == {s.project_id for s in starts}
    assert await _eventually_mails(sessions, 1, recipient=reserve_email, template_prefix="review_assigned")

    # The reserve declares a conflict on project 1: nobody is left (the slow judge had it, the other conflicts).
    change = ReviewerChange(reserve, "conflict_declared", "曾为该团队提供咨询", reserve)
    outcome = await handles[0].execute_update(ProjectWorkflow.change_reviewer, change)
    assert (outcome.replaced, outcome.replacement) == (reserve, None)
    async with sessions() as session:
        judge = await session.scalar(
            select(Judge).where(Judge.competition_code == code, Judge.account_id == int(reserve))
        )
        assert judge is not None and starts[0].project_id in judge.declared_conflicts
    status = await wait_for(handles[0], lambda s: s.waiting_on == "organiser")
    assert status.review_phase == "expert_review"
    await keep_history(handles[0], "project_reassigned")
    for handle in handles:
        await handle.terminate("test over")


async def _review_when(handle: WorkflowHandle[ProjectWorkflow, ProjectResult], predicate):  # type: ignore[no-untyped-def]
    import asyncio

    for _ in range(300):
        review = await handle.query(ProjectWorkflow.review)
        if predicate(review):
            return review
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out; last review: {review}")


async def _eventually_mails(
    sessions: async_sessionmaker[AsyncSession], count: int, *, recipient: str, template_prefix: str = ""
) -> list[Mail]:
    import asyncio

    found: list[Mail] = []
    for _ in range(300):
        found = [
            m
            for m in await mails(sessions, recipient=recipient)
            if m.milestone.startswith(template_prefix) and m.status == "sent"
        ]
        if len(found) >= count:
            assert len(found) == count, [m.milestone for m in found]
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} mails to {recipient} ({template_prefix}), found {len(found)}")


_ = datetime
