"""The first public notice through the API on the dev server: the public listing, objections refused for every
missing piece, a real-name objection taken and held by the project's workflow, the committee's ruling, and the
mails to both sides; the objector's numbers stay encrypted and masked."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from config import Settings
from db.models import Competition
from db.notice_models import Objection
from db.outbox import Mail
from domain.calendar import window_of, windows_to_plain
from domain.roles import Role
from domain.stages import Stage
from tests.helpers import (
    announce,
    eventually,
    liaoning_calendar_from,
    make_id_number,
    pass_checks,
    project_start,
    seed_project,
    signed_in,
    start_project,
    wait_for,
)
from workflows.contracts import DecisionRequest
from workflows.project import ProjectWorkflow

NOTICE = "first_public_notice"
PDF = ("举报证据.pdf", b"%PDF-1.7 evidence", "application/pdf")


def objection_form(project_id: str, **changes: str) -> dict[str, str]:
    form = {
        "project_id": project_id,
        "name": "李明",
        "id_number": make_id_number(77),
        "phone": "13912345678",
        "email": f"objector-{uuid.uuid4().hex[:6]}@example.com",
        "relation": "competitor",
        "grounds": "应用案例证明与实际不符",
    }
    return {**form, **changes}


async def test_a_notice_lists_takes_objections_and_the_committee_rules(
    api: httpx.AsyncClient,
    public: httpx.AsyncClient,
    transport: httpx.ASGITransport,
    dev_env: WorkflowEnvironment,
    api_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = await dev_env.get_current_time()
    calendar = liaoning_calendar_from(now - timedelta(days=71))  # the first public notice opened two days ago
    notice = window_of(calendar, Stage.FIRST_PUBLIC_NOTICE)
    assert notice.opens_at < now < notice.closes_at
    code = f"ln-notice-{uuid.uuid4().hex[:6]}"
    start = replace(project_start(f"{code}-P00001", calendar), competition_code=code)
    await seed_project(sessions, start)
    async with sessions.begin() as session:
        await session.execute(
            update(Competition).where(Competition.code == code).values(calendar=windows_to_plain(calendar))
        )
    handle = await start_project(dev_env.client, api_settings.temporal_task_queue, start)
    await pass_checks(handle)
    await announce(handle, advanced=True)
    await wait_for(handle, lambda s: s.stage == "technical_verification")
    await handle.execute_update(ProjectWorkflow.decide, DecisionRequest("technical_verification", "advance", "验证组"))
    await wait_for(handle, lambda s: s.stage == NOTICE and s.waiting_on == "public")

    listing = (await public.get(f"/competitions/{code}/notices/{NOTICE}")).json()
    assert [p["project_id"] for p in listing["projects"]] == [start.project_id]
    shown = {"project_id", "project_name", "track_code", "problem_code", "unit_name", "award"}
    assert set(listing["projects"][0]) == shown and listing["projects"][0]["award"] is None
    assert (await public.get(f"/competitions/{code}/notices/award")).json()["error"]["code"] == "notice_not_found"
    page = await public.get(f"/competitions/{code}/notices/{NOTICE}/page")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert start.project_name in page.text and "初赛公示" in page.text and 'name="evidence"' in page.text
    assert f'action="http://contestflow.test/competitions/{code}/notices/{NOTICE}/page"' in page.text
    assert start.contact_email not in page.text  # a notice shows no people

    url = f"/competitions/{code}/notices/{NOTICE}/objections"
    anonymous = await public.post(
        url, data=objection_form(start.project_id, name="", id_number=""), files=[("evidence", PDF)]
    )
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (422, "anonymous")
    bare = await public.post(url, data=objection_form(start.project_id, email="no-at"))
    assert (bare.status_code, bare.json()["error"]["code"]) == (422, "invalid_email")
    assert [p["code"] for p in bare.json()["error"]["problems"]] == ["invalid_email", "evidence_required"]
    stranger = await public.post(url, data=objection_form("ln-none-P1"), files=[("evidence", PDF)])
    assert stranger.status_code == 404

    form = objection_form(start.project_id)
    taken = await public.post(url, data=form, files=[("evidence", PDF), ("evidence", PDF)])
    assert taken.status_code == 201, taken.text
    receipt: dict[str, Any] = taken.json()
    assert receipt["status"] == "open" and form["id_number"] not in taken.text and form["phone"] not in taken.text
    await wait_for(handle, lambda s: s.waiting_on == "committee")

    committee_id, committee = await signed_in(sessions, Role.COMMITTEE)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=committee) as member:
        listed = (await member.get(f"/competitions/{code}/objections")).json()
        assert [(o["objection_id"], o["status"], len(o["evidence"])) for o in listed] == [
            (receipt["objection_id"], "open", 2)
        ]
        assert listed[0]["id_number_masked"].count("*") == 10 and form["phone"] not in str(listed)
        ruling_url = f"/objections/{receipt['objection_id']}/ruling"
        assert (await api.post(ruling_url, json={"ruling": "dismissed", "reasons": "x"})).status_code == 403
        unknown = await member.post(ruling_url, json={"ruling": "maybe", "reasons": "核查中"})
        assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_ruling")
        ruled = await member.post(ruling_url, json={"ruling": "dismissed", "reasons": "经核查，证明材料真实有效"})
        assert ruled.status_code == 200, ruled.text
        assert ruled.json()["state"] == "dismissed"
        again = await member.post(ruling_url, json={"ruling": "upheld", "reasons": "重新裁定"})
        assert (again.status_code, again.json()["error"]["code"]) == (409, "already_ruled")

    async def settled() -> tuple[Objection, list[str]] | None:
        async with sessions() as session:
            row = await session.get(Objection, receipt["objection_id"])
            mails = (await session.scalars(select(Mail.milestone).where(Mail.recipient == form["email"]))).all()
        return (row, list(mails)) if row is not None and row.status == "dismissed" and mails else None

    row, objector_mails = await eventually(settled, within=30)
    assert objector_mails == ["objection_dismissed"] and row.ruled_by is not None and committee_id
    assert row.id_number_encrypted != form["id_number"] and row.phone_encrypted != form["phone"]
    await wait_for(handle, lambda s: s.stage == NOTICE and s.waiting_on == "public")
    await handle.terminate("test over")
