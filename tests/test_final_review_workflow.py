"""The final review on the time-skipping server: the roadshow slot is mailed (again when re-planned), the panel
scores with the first round's validators, a silent judge is reminded and mailed overdue but not replaced, the
organiser cannot decide the result by hand, and the confirmed final result moves the project to the final notice."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contracts import FinalResult, ReviewerSlot
from db.models import ProjectEvent, Score
from db.outbox import Mail
from devtools.mail_sink import MailSink, read_store
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
from workflows.contracts import DecisionRequest, ProjectResult, ReviewAssignment, ReviewTerms, ScoreSubmission
from workflows.project import ProjectWorkflow
from workflows.stage_contracts import (
    CeremonyInvitation,
    PledgeReceived,
    RoadshowSlot,
    VerificationPlan,
    VerificationReport,
)

ALL_PASS = {"compliance": "pass", "authenticity": "pass", "legality": "pass", "ip": "pass"}
SHEET: dict[str, float] = {"innovation": 90, "data_value": 85, "application": 88, "business_model": 80, "team": 92}


async def in_the_final(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> tuple[WorkflowHandle[ProjectWorkflow, ProjectResult], list[StageWindow], str]:
    """A finalist past the first round and verification (by the organiser's decision), two hours into the final;
    its handle, calendar and team address."""
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    email = f"team-{uuid.uuid4().hex[:6]}@example.com"
    start = project_start(f"ln-test-P{uuid.uuid4().hex[:8]}", calendar, email=email)
    await seed_project(sessions, start)
    handle = await start_project(time_env.client, worker.task_queue, start)
    await skip_to(time_env, window_of(calendar, Stage.FIRST_ROUND_REVIEW).opens_at + timedelta(hours=2))
    await pass_checks(handle)
    await announce(handle, advanced=True)
    await skip_to(time_env, window_of(calendar, Stage.TECHNICAL_VERIFICATION).opens_at + timedelta(hours=2))
    await wait_for(handle, lambda s: s.stage == "technical_verification" and s.waiting_on == "organiser")
    await handle.execute_update(ProjectWorkflow.decide, DecisionRequest("technical_verification", "advance", "组委会"))
    await skip_to(time_env, window_of(calendar, Stage.FINAL_REVIEW).opens_at + timedelta(hours=2))
    await wait_for(handle, lambda s: s.stage == "final_review")
    return handle, calendar, email


async def test_roadshow_panel_scores_and_the_confirmed_final_result(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    email = f"team-{uuid.uuid4().hex[:6]}@example.com"
    start = project_start(f"ln-test-P{uuid.uuid4().hex[:8]}", calendar, email=email)
    await seed_project(sessions, start)
    handle = await start_project(time_env.client, worker.task_queue, start)
    await skip_to(time_env, window_of(calendar, Stage.FIRST_ROUND_REVIEW).opens_at + timedelta(hours=2))
    await pass_checks(handle)
    await announce(handle, advanced=True)
    await skip_to(time_env, window_of(calendar, Stage.TECHNICAL_VERIFICATION).opens_at + timedelta(hours=2))
    await wait_for(handle, lambda s: s.stage == "technical_verification" and s.waiting_on == "organiser")
    await handle.execute_update(ProjectWorkflow.plan_verification, VerificationPlan("pledge", "组委会"))
    await handle.execute_update(ProjectWorkflow.receive_pledge, PledgeReceived("c" * 64, "承诺书.pdf", "team"))
    await handle.execute_update(ProjectWorkflow.file_verification_report, VerificationReport(ALL_PASS, "", "组委会"))

    final = window_of(calendar, Stage.FINAL_REVIEW)
    await skip_to(time_env, final.opens_at - timedelta(days=1))
    status = await wait_for(handle, lambda s: s.stage == "final_review" and s.waiting_on == "organiser")
    assert status.deadline == final.opens_at  # the roadshow must be planned before the final opens
    starts = final.opens_at + timedelta(hours=1)
    slot = RoadshowSlot(
        handle.id,
        start.track_code,
        3,
        starts,
        starts + timedelta(minutes=8),
        starts + timedelta(minutes=13),
        "A厅",
        8,
        5,
        1,
    )
    await handle.signal(ProjectWorkflow.roadshow_scheduled, slot)
    moved = RoadshowSlot(**{**slot.__dict__, "room": "B厅", "version": 2})
    await handle.signal(ProjectWorkflow.roadshow_scheduled, moved)
    await handle.signal(ProjectWorkflow.roadshow_scheduled, slot)  # an older version never replaces a newer one
    assert (await handle.query(ProjectWorkflow.roadshow)) == moved
    await wait_for(handle, lambda s: s.waiting_on == "calendar")

    terms = ReviewTerms(3600, 3600, 3600, 1, "alerts@example.com")
    judges = [
        ReviewerSlot("71", "judge71@example.com", final.closes_at),
        ReviewerSlot("72", "judge72@example.com", final.closes_at),
    ]
    await handle.signal(ProjectWorkflow.reviewers_assigned, ReviewAssignment(judges, terms))
    score = ProjectWorkflow.submit_score
    assert await rejection_code(handle.execute_update(score, ScoreSubmission("71", SHEET))) == "scoring_closed"
    await skip_to(time_env, final.opens_at + timedelta(hours=2))
    await wait_for(handle, lambda s: s.waiting_on == "judges")
    assert await rejection_code(handle.execute_update(score, ScoreSubmission("99", SHEET))) == "not_assigned"
    assert await rejection_code(handle.execute_update(score, ScoreSubmission("71", {"team": 5.0}))) == "invalid_score"
    record = await handle.execute_update(score, ScoreSubmission("71", SHEET, "路演表现好"))
    assert (record.round, record.version) == ("final_review", 1)
    by_hand = DecisionRequest("final_review", "advance", "组委会")
    assert await rejection_code(handle.execute_update(ProjectWorkflow.decide, by_hand)) == "decided_by_review"

    # Judge 72 stays silent: reminded, then mailed overdue at the close, and never replaced (the panel has sat).
    await skip_to(time_env, final.closes_at + timedelta(hours=3))
    status = await wait_for(handle, lambda s: s.overdue)
    assert status.waiting_on == "judges"
    assert (await handle.query(ProjectWorkflow.review)).reviewers[1].state == "assigned"
    await handle.signal(ProjectWorkflow.final_result, FinalResult(7, rank=12, track_rank=2, score=88.1, award="second"))
    status = await wait_for(handle, lambda s: s.stage == "final_public_notice")
    assert "award second" in status.decisions[-1].reason

    async with sessions() as session:
        mails = list((await session.scalars(select(Mail.milestone).where(Mail.recipient == email))).all())
        to_judge = list(
            (
                await session.scalars(
                    select(Mail.milestone).where(Mail.recipient == "judge72@example.com").order_by(Mail.id)
                )
            ).all()
        )
        rounds = list((await session.scalars(select(Score.round).where(Score.project_id == handle.id))).all())
    assert mails.count("roadshow_schedule/1") + mails.count("roadshow_schedule/2") in (1, 2)
    assert "roadshow_schedule/2" in mails
    assert [m.split("/")[0] for m in to_judge] == ["review_reminder", "review_overdue"]
    assert rounds == ["final_review"]
    await keep_history(handle, "project_final_review")


async def test_an_award_is_revoked_when_its_project_is_disqualified_after_the_final_notice(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    handle, calendar, _ = await in_the_final(time_env, worker, sessions)
    await handle.signal(ProjectWorkflow.final_result, FinalResult(3, rank=1, track_rank=1, score=95.0, award="first"))
    await skip_to(time_env, window_of(calendar, Stage.FINAL_PUBLIC_NOTICE).closes_at + timedelta(hours=1))
    await wait_for(handle, lambda s: s.stage in ("award", "ceremony"))
    stage = (await handle.query(ProjectWorkflow.status)).stage
    reason = "经核查，项目存在数据来源违规，撤销奖项并追回奖励"
    await handle.execute_update(ProjectWorkflow.decide, DecisionRequest(stage, "disqualify", "组委会", reason))
    result = await handle.result()
    assert result.outcome == "disqualified"
    async with sessions() as session:
        revoked = await session.scalar(
            select(ProjectEvent.reason).where(
                ProjectEvent.project_id == handle.id, ProjectEvent.kind == "award_revoked"
            )
        )
    assert revoked == "first: revoked, rewards to be recovered"


async def test_the_ceremony_invites_at_once_and_grants_the_award_on_the_day(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession], mail_sink: MailSink
) -> None:
    handle, calendar, email = await in_the_final(time_env, worker, sessions)
    await handle.signal(ProjectWorkflow.final_result, FinalResult(4, rank=2, track_rank=1, score=93.0, award="second"))
    await skip_to(time_env, window_of(calendar, Stage.FINAL_PUBLIC_NOTICE).opens_at + timedelta(days=2))
    await wait_for(handle, lambda s: s.stage == "final_public_notice")

    ceremony = window_of(calendar, Stage.CEREMONY)
    url = f"http://contestflow.test/projects/{handle.id}/certificate"
    first = CeremonyInvitation(ceremony.opens_at + timedelta(hours=2), "沈阳市 辽宁大厦", 1, url)
    await handle.signal(ProjectWorkflow.ceremony_invited, first)
    await handle.signal(ProjectWorkflow.ceremony_invited, replace(first, venue="沈阳市 国际会议中心", version=2))
    await handle.signal(ProjectWorkflow.ceremony_invited, first)  # an older version is not mailed again

    async def mailed() -> list[str]:
        async with sessions() as session:
            rows = await session.scalars(select(Mail.milestone).where(Mail.recipient == email).order_by(Mail.id))
            return list(rows.all())

    result = await handle.result()  # the time-skipping server runs the notice out and the ceremony day
    assert (result.outcome, result.final_stage) == ("completed", "ceremony")
    sent = await mailed()
    assert sent.count("ceremony_invitation/1") == 1 and sent.count("ceremony_invitation/2") == 1
    assert sent.index("ceremony_invitation/2") < sent.index("award_granted") and sent.count("award_granted") == 1
    delivered = [m for m in read_store(mail_sink.store) if m["X-Envelope-To"] == email]
    award = next(m for m in delivered if "Your award" in str(m["Subject"]))
    text = award.get_body(preferencelist=("plain",))
    assert text is not None and url in text.get_content() and "二等奖" in text.get_content()
    await keep_history(handle, "project_awarded_at_ceremony")
