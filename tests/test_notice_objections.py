"""Objections during the first public notice, on the time-skipping server: taken only in the window, ruled by
the committee by update; an unruled objection holds the notice open and reminds the committee; upheld
disqualifies, dismissed lets the project go on; the team and the objector are told, the objector by a lookup
that keeps their address out of the workflow's history."""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.notice_models import Objection
from db.outbox import Mail
from domain.calendar import StageWindow, window_of
from domain.identifiers import mask_id_number, mask_phone
from domain.stages import Stage
from security.personal_data import PersonalDataCipher
from tests.conftest import TEST_PERSONAL_DATA_KEY
from tests.helpers import (
    announce,
    keep_history,
    liaoning_calendar_from,
    make_id_number,
    pass_checks,
    project_start,
    rejection_code,
    seed_project,
    skip_to,
    start_project,
    wait_for,
)
from workflows.contracts import DecisionRequest, ObjectionFiled, ObjectionRuling, ProjectResult
from workflows.project import ProjectWorkflow

COMMITTEE = "committee@example.com"
Handle = WorkflowHandle[ProjectWorkflow, ProjectResult]


async def in_first_notice(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> tuple[Handle, list[StageWindow], str]:
    """A project through the first round and verification, three days into its first public notice."""
    calendar = liaoning_calendar_from(await time_env.get_current_time())
    start = replace(
        project_start(f"ln-test-P{uuid.uuid4().hex[:8]}", calendar, email=f"team-{uuid.uuid4().hex[:6]}@example.com"),
        committee_email=COMMITTEE,
    )
    await seed_project(sessions, start)
    handle = await start_project(time_env.client, worker.task_queue, start)
    await skip_to(time_env, window_of(calendar, Stage.FIRST_ROUND_REVIEW).opens_at + timedelta(hours=2))
    await pass_checks(handle)
    await announce(handle, advanced=True)
    await skip_to(time_env, window_of(calendar, Stage.TECHNICAL_VERIFICATION).opens_at + timedelta(hours=2))
    await wait_for(handle, lambda s: s.stage == "technical_verification")
    await handle.execute_update(ProjectWorkflow.decide, DecisionRequest("technical_verification", "advance", "验证组"))
    await skip_to(time_env, window_of(calendar, Stage.FIRST_PUBLIC_NOTICE).opens_at + timedelta(days=3))
    await wait_for(handle, lambda s: s.stage == "first_public_notice" and s.waiting_on == "public")
    return handle, calendar, start.contact_email


async def stored_objection(sessions: async_sessionmaker[AsyncSession], project_id: str, email: str) -> int:
    """The row the API writes for a checked objection (its numbers encrypted)."""
    cipher = PersonalDataCipher(base64.urlsafe_b64decode(TEST_PERSONAL_DATA_KEY))
    id_number, phone = make_id_number(41), "13912345678"
    async with sessions.begin() as session:
        row = Objection(
            competition_code="ln-test",
            project_id=project_id,
            stage="first_public_notice",
            name="李明",
            id_number_encrypted=cipher.encrypt(id_number),
            id_number_masked=mask_id_number(id_number),
            phone_encrypted=cipher.encrypt(phone),
            phone_masked=mask_phone(phone),
            email=email,
            relation="competitor",
            grounds="应用案例证明与实际不符",
            evidence=[{"name": "证据.pdf"}],
            status="open",
        )
        session.add(row)
        await session.flush()
        return row.id


async def mails_to(sessions: async_sessionmaker[AsyncSession], recipient: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(select(Mail.milestone).where(Mail.recipient == recipient).order_by(Mail.id))
        return list(rows.all())


async def test_an_unruled_objection_holds_the_notice_until_it_is_dismissed(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    handle, calendar, team = await in_first_notice(time_env, worker, sessions)
    notice = window_of(calendar, Stage.FIRST_PUBLIC_NOTICE)
    objector = f"objector-{uuid.uuid4().hex[:6]}@example.com"
    objection = await stored_objection(sessions, handle.id, objector)
    now = await time_env.get_current_time()
    filed = ObjectionFiled(objection, "first_public_notice", now, "competitor")
    await handle.execute_update(ProjectWorkflow.file_objection, filed)
    assert await rejection_code(handle.execute_update(ProjectWorkflow.file_objection, filed)) == "duplicate_request"
    late = replace(filed, objection_id=objection + 1000, filed_at=notice.closes_at)
    assert await rejection_code(handle.execute_update(ProjectWorkflow.file_objection, late)) == "outside_notice_window"
    await wait_for(handle, lambda s: s.waiting_on == "committee")

    # The notice ends with the objection unruled: the project does not pass; the committee is reminded daily.
    await skip_to(time_env, notice.closes_at + timedelta(days=2, hours=1))
    status = await wait_for(handle, lambda s: s.overdue)
    assert (status.stage, status.waiting_on) == ("first_public_notice", "committee")
    assert await mails_to(sessions, COMMITTEE) == [
        "objection_waiting/first_public_notice/1",
        "objection_waiting/first_public_notice/2",
    ]

    bad = ObjectionRuling(objection, "accepted", "核查", "组委会")
    assert await rejection_code(handle.execute_update(ProjectWorkflow.rule_objection, bad)) == "unknown_ruling"
    silent = replace(bad, ruling="dismissed", reasons=" ")
    assert await rejection_code(handle.execute_update(ProjectWorkflow.rule_objection, silent)) == "reason_required"
    ruling = ObjectionRuling(objection, "dismissed", "经核查，应用案例证明真实有效", "组委会 张华")
    ruled = await handle.execute_update(ProjectWorkflow.rule_objection, ruling)
    assert ruled.state == "dismissed" and ruled.ruled_at is not None
    assert await rejection_code(handle.execute_update(ProjectWorkflow.rule_objection, ruling)) == "already_ruled"

    await wait_for(handle, lambda s: s.stage == "final_review")
    assert await mails_to(sessions, objector) == ["objection_dismissed"]
    assert "objection_dismissed/" + str(objection) in await mails_to(sessions, team)
    async with sessions() as session:
        row = await session.get(Objection, objection)
    assert row is not None and (row.status, row.ruled_by) == ("dismissed", "组委会 张华")
    history = (await handle.fetch_history()).to_json()
    assert objector not in history and "13912345678" not in history  # the objector stays out of the history
    await keep_history(handle, "project_objection_dismissed")
    await handle.terminate("test over")


async def test_an_upheld_objection_disqualifies_the_project(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    handle, _, team = await in_first_notice(time_env, worker, sessions)
    objector = f"objector-{uuid.uuid4().hex[:6]}@example.com"
    objection = await stored_objection(sessions, handle.id, objector)
    now: datetime = await time_env.get_current_time()
    await handle.execute_update(
        ProjectWorkflow.file_objection, ObjectionFiled(objection, "first_public_notice", now, "rights_holder")
    )
    ruling = ObjectionRuling(objection, "upheld", "知识产权不属于参赛单位", "组委会 张华")
    await handle.execute_update(ProjectWorkflow.rule_objection, ruling)
    result = await handle.result()
    assert (result.outcome, result.final_stage) == ("disqualified", "first_public_notice")
    assert result.decisions[-1].reason == f"objection {objection} upheld: 知识产权不属于参赛单位"
    assert await mails_to(sessions, objector) == ["objection_upheld"]
    assert f"objection_upheld/{objection}" in await mails_to(sessions, team)
    await keep_history(handle, "project_objection_upheld")


async def test_a_ruling_that_arrives_while_another_is_announced_is_acted_on_at_once(
    time_env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    handle, calendar, _ = await in_first_notice(time_env, worker, sessions)
    now: datetime = await time_env.get_current_time()
    filed = []
    for n in range(2):
        objection = await stored_objection(sessions, handle.id, f"objector{n}-{uuid.uuid4().hex[:6]}@example.com")
        await handle.execute_update(
            ProjectWorkflow.file_objection, ObjectionFiled(objection, "first_public_notice", now, "competitor")
        )
        filed.append(objection)
    dismissed = ObjectionRuling(filed[0], "dismissed", "证明材料真实有效", "组委会 张华")
    upheld = ObjectionRuling(filed[1], "upheld", "应用案例与实际不符", "组委会 张华")
    # The second ruling lands while the notice announces the first (a mail and a stored ruling each).
    await asyncio.gather(
        handle.execute_update(ProjectWorkflow.rule_objection, dismissed),
        handle.execute_update(ProjectWorkflow.rule_objection, upheld),
    )
    status = await wait_for(handle, lambda s: s.outcome is not None)  # real seconds: no skipping to the close
    assert status.outcome == "disqualified"
    assert status.decisions[-1].decided_at < window_of(calendar, Stage.FIRST_PUBLIC_NOTICE).closes_at
