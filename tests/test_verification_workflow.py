"""Technical verification on the time-skipping server: a pledge that passes, an on-site visit with a conditional
verdict, remediation and re-check, a fail that disqualifies, and the promotion of the next project of the track
from the reserve through the competition's workflow."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.models import ProjectEvent
from db.outbox import Mail
from domain.calendar import StageWindow, window_of
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
from workflows.competition import CompetitionWorkflow
from workflows.contracts import CompetitionStart, ProjectResult
from workflows.project import ProjectWorkflow
from workflows.stage_contracts import (
    PledgeReceived,
    Promotion,
    RemediationDone,
    VerificationPlan,
    VerificationReport,
)

Handle = WorkflowHandle[ProjectWorkflow, ProjectResult]
ALL_PASS = {"compliance": "pass", "authenticity": "pass", "legality": "pass", "ip": "pass"}
VERIFIER = "verifier@example.com"


async def entered(
    time_env: WorkflowEnvironment,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
    calendar: list[StageWindow],
    advanced: bool = True,
    rank: int = 3,
    reserve: bool | None = None,
) -> Handle:
    """A project through the first round's checks with the given confirmed result."""
    start = project_start(
        f"ln-test-P{uuid.uuid4().hex[:8]}", calendar, email=f"team-{uuid.uuid4().hex[:6]}@example.com"
    )
    await seed_project(sessions, start)
    handle = await start_project(time_env.client, worker.task_queue, start)
    if await time_env.get_current_time() < window_of(calendar, Stage.FIRST_ROUND_REVIEW).opens_at:
        await skip_to(time_env, window_of(calendar, Stage.FIRST_ROUND_REVIEW).opens_at + timedelta(hours=2))
    await pass_checks(handle)
    await announce(handle, advanced=advanced, rank=rank, reserve=reserve)
    return handle


async def in_verification(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> tuple[Handle, list[StageWindow]]:
    """A finalist two hours into technical verification, waiting for the organiser's choice of method."""
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    handle = await entered(time_env, worker, sessions, calendar)
    await skip_to(time_env, window_of(calendar, Stage.TECHNICAL_VERIFICATION).opens_at + timedelta(hours=2))
    await wait_for(handle, lambda s: s.stage == "technical_verification" and s.waiting_on == "organiser")
    return handle, calendar


async def test_a_signed_pledge_that_passes_sends_the_project_to_the_first_notice(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    handle, _ = await in_verification(time_env, worker, sessions)
    report = VerificationReport(ALL_PASS, "", "组委会 王强")
    update = ProjectWorkflow.file_verification_report
    assert await rejection_code(handle.execute_update(update, report)) == "method_not_chosen"
    pledge = PledgeReceived("a" * 64, "承诺书.pdf", "team")
    assert await rejection_code(handle.execute_update(ProjectWorkflow.receive_pledge, pledge)) == "pledge_not_requested"
    bad = VerificationPlan("phone_call", "组委会")
    assert await rejection_code(handle.execute_update(ProjectWorkflow.plan_verification, bad)) == "unknown_method"

    await handle.execute_update(ProjectWorkflow.plan_verification, VerificationPlan("pledge", "组委会 王强"))
    status = await wait_for(handle, lambda s: s.waiting_on == "team")
    assert (await handle.query(ProjectWorkflow.verification)).phase == "pledge" and not status.overdue
    assert await rejection_code(handle.execute_update(update, report)) == "pledge_missing"
    await handle.execute_update(ProjectWorkflow.receive_pledge, pledge)
    await wait_for(handle, lambda s: s.waiting_on == "organiser")
    partial = replace(report, verdicts={"compliance": "pass", "ip": "great"})
    assert await rejection_code(handle.execute_update(update, partial)) == "verdicts_incomplete"
    filed = await handle.execute_update(update, report)
    assert filed.overall == "pass"

    status = await wait_for(handle, lambda s: s.stage == "first_public_notice")
    assert [d.decision for d in status.decisions][-2:] == ["advance", "advance"]
    async with sessions() as session:
        kinds = list(
            (
                await session.scalars(
                    select(ProjectEvent.kind).where(ProjectEvent.project_id == handle.id).order_by(ProjectEvent.seq)
                )
            ).all()
        )
        mails = list((await session.scalars(select(Mail.milestone).where(Mail.workflow_id == handle.id))).all())
    assert kinds.count("verification_method") == 1 and kinds.count("verification_report") == 1
    assert "verification_method/pledge/" in mails and "verification_pass" in mails
    await keep_history(handle, "project_verified_by_pledge")


async def test_a_conditional_visit_waits_for_remediation_and_a_recheck(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    handle, calendar = await in_verification(time_env, worker, sessions)
    window = window_of(calendar, Stage.TECHNICAL_VERIFICATION)
    now = await time_env.get_current_time()
    plan = ProjectWorkflow.plan_verification
    nobody = VerificationPlan("on_site", "组委会", visit_at=now + timedelta(days=1))
    assert await rejection_code(handle.execute_update(plan, nobody)) == "verifier_required"
    late = replace(nobody, verifier="verifier1", verifier_email=VERIFIER, visit_at=window.closes_at)
    assert await rejection_code(handle.execute_update(plan, late)) == "visit_out_of_range"
    visit = replace(late, visit_at=now + timedelta(days=2))
    await handle.execute_update(plan, visit)
    await wait_for(handle, lambda s: s.waiting_on == "verifier")

    update = ProjectWorkflow.file_verification_report
    conditional = VerificationReport({**ALL_PASS, "ip": "conditional"}, "", "verifier1")
    assert await rejection_code(handle.execute_update(update, conditional)) == "findings_required"
    conditional = replace(conditional, findings="软件著作权证明缺失")
    assert await rejection_code(handle.execute_update(update, conditional)) == "remediation_due_required"
    due = now + timedelta(days=5)
    filed = await handle.execute_update(update, replace(conditional, remediation_due=due))
    assert filed.overall == "conditional"
    status = await wait_for(handle, lambda s: s.waiting_on == "team")
    assert status.deadline == due
    recheck = VerificationReport(ALL_PASS, "已补充软著登记证书", "verifier1")
    assert await rejection_code(handle.execute_update(update, recheck)) == "remediation_pending"

    # The due date passes without word from the team: the verifier re-checks (the team may still report).
    await skip_to(time_env, due + timedelta(hours=1))
    status = await wait_for(handle, lambda s: s.waiting_on == "verifier")
    assert (await handle.query(ProjectWorkflow.verification)).phase == "recheck"
    done = RemediationDone("已补充软件著作权登记证书", "team")
    await handle.execute_update(ProjectWorkflow.submit_remediation, done)
    again = ProjectWorkflow.submit_remediation
    assert await rejection_code(handle.execute_update(again, done)) == "duplicate_request"
    await handle.execute_update(update, recheck)
    await wait_for(handle, lambda s: s.stage == "first_public_notice")

    async with sessions() as session:
        to_team = list((await session.scalars(select(Mail.milestone).where(Mail.workflow_id == handle.id))).all())
        to_verifier = list((await session.scalars(select(Mail.milestone).where(Mail.recipient == VERIFIER))).all())
    key = f"on_site/{visit.visit_at.isoformat() if visit.visit_at else ''}"
    assert to_verifier.count(f"verification_visit/{key}") == 1
    assert {f"verification_method/{key}", "verification_conditional/1", "verification_pass"} <= set(to_team)
    await keep_history(handle, "project_verified_after_remediation")


async def test_a_ranked_project_outside_the_reserve_line_ends_when_told_and_one_inside_waits(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    waiting = await entered(time_env, worker, sessions, calendar, advanced=False, rank=4, reserve=True)
    leaving = await entered(time_env, worker, sessions, calendar, advanced=False, rank=9, reserve=False)
    status = await wait_for(waiting, lambda s: s.review_phase == "reserve" and s.waiting_on is not None)
    assert (status.stage, status.waiting_on) == ("first_round_review", "organiser")
    assert status.deadline == window_of(calendar, Stage.FIRST_PUBLIC_NOTICE).closes_at
    ended = await wait_for(leaving, lambda s: s.outcome is not None)  # at once, not when the notice closes
    assert (ended.outcome, ended.decisions[-1].decision) == ("not_advanced", "reject")
    assert ended.decisions[-1].decided_at < window_of(calendar, Stage.FIRST_ROUND_REVIEW).closes_at
    async with sessions() as session:
        sent = set((await session.scalars(select(Mail.milestone).where(Mail.workflow_id == leaving.id))).all())
    assert "first_round_not_advanced" in sent


async def test_a_fail_disqualifies_and_the_next_of_the_track_is_promoted_from_the_reserve(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    finalist = await entered(time_env, worker, sessions, calendar)
    reserve = await entered(time_env, worker, sessions, calendar, advanced=False, rank=4)
    unchosen = await entered(time_env, worker, sessions, calendar, advanced=False, rank=5)
    status = await wait_for(reserve, lambda s: s.waiting_on == "organiser")
    assert (status.stage, status.review_phase) == ("first_round_review", "reserve")
    assert status.deadline == window_of(calendar, Stage.FIRST_PUBLIC_NOTICE).closes_at

    await skip_to(time_env, window_of(calendar, Stage.TECHNICAL_VERIFICATION).opens_at + timedelta(hours=2))
    await wait_for(finalist, lambda s: s.stage == "technical_verification")
    await finalist.execute_update(ProjectWorkflow.plan_verification, VerificationPlan("pledge", "组委会"))
    await finalist.execute_update(ProjectWorkflow.receive_pledge, PledgeReceived("b" * 64, "承诺书.pdf", "team"))
    failed = VerificationReport({**ALL_PASS, "authenticity": "fail"}, "应用案例与实际不符", "组委会 王强")
    await finalist.execute_update(ProjectWorkflow.file_verification_report, failed)
    result = await finalist.result()
    assert (result.outcome, result.decisions[-1].decision) == ("disqualified", "disqualify")

    code = f"ln-test-{uuid.uuid4().hex[:6]}"
    competition = await time_env.client.start_workflow(
        CompetitionWorkflow.run, CompetitionStart(code, "辽宁分赛", calendar), id=code, task_queue=worker.task_queue
    )
    promotion = Promotion(reserve.id, finalist.id, "industry", "组委会 王强", "入围项目技术验证未通过，按排名递补")
    await competition.execute_update(CompetitionWorkflow.promote, promotion)
    twice = replace(promotion, candidate=unchosen.id)
    assert await rejection_code(competition.execute_update(CompetitionWorkflow.promote, twice)) == "already_replaced"
    assert await competition.query(CompetitionWorkflow.promotions) == [promotion]

    status = await wait_for(reserve, lambda s: s.stage == "technical_verification")
    assert status.decisions[-1].decision == "advance" and finalist.id in status.decisions[-1].reason
    async with sessions() as session:
        promoted = list((await session.scalars(select(Mail.milestone).where(Mail.workflow_id == reserve.id))).all())
    assert "first_round_promoted" in promoted and "first_round_not_advanced" in promoted

    # Nobody promoted the other: it leaves the reserve, not advanced, when the first public notice closes.
    left = await unchosen.result()
    assert (left.outcome, left.final_stage) == ("not_advanced", "first_round_review")
    await keep_history(reserve, "project_promoted_from_reserve")
    await competition.terminate("test over")
