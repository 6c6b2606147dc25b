"""Technical verification and promotion through the API on the dev server: the organiser plans a visit by a
verifier account, the verifier (who sees the project only once assigned) files a failing report, the organiser
promotes the next of the track from the reserve, and the promoted project passes by signed pledge."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from config import Settings
from db.models import Account, Competition, Project, RankingRun
from domain.calendar import window_of, windows_to_plain
from domain.roles import Role
from domain.stages import Stage
from tests.helpers import (
    announce,
    liaoning_calendar_from,
    pass_checks,
    project_start,
    seed_project,
    signed_in,
    start_project,
    wait_for,
)
from workflows.competition import CompetitionWorkflow, competition_workflow_id
from workflows.contracts import CompetitionStart

ALL_PASS = {"compliance": "pass", "authenticity": "pass", "legality": "pass", "ip": "pass"}
PLEDGE = ("承诺书.pdf", b"%PDF-1.7 signed pledge", "application/pdf")


async def test_a_failed_finalist_is_replaced_by_the_next_of_its_track(
    api: httpx.AsyncClient,
    transport: httpx.ASGITransport,
    dev_env: WorkflowEnvironment,
    api_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = await dev_env.get_current_time()
    calendar = liaoning_calendar_from(now - timedelta(days=57))  # technical verification opened two days ago
    window = window_of(calendar, Stage.TECHNICAL_VERIFICATION)
    assert window.opens_at < now < window.closes_at
    code = f"ln-verify-{uuid.uuid4().hex[:6]}"
    finalist, reserve = (
        replace(project_start(f"{code}-P0000{n}", calendar, email=f"team{n}-{code}@example.com"), competition_code=code)
        for n in (1, 2)
    )
    for start in (finalist, reserve):
        await seed_project(sessions, start)
    async with sessions.begin() as session:
        await session.execute(
            update(Competition).where(Competition.code == code).values(calendar=windows_to_plain(calendar))
        )
        tracks = {finalist.track_code: [{"project_id": finalist.project_id, "rank": 1}]}
        tracks[finalist.track_code].append({"project_id": reserve.project_id, "rank": 2})
        result = {"tracks": tracks, "finalists": [finalist.project_id]}
        session.add(
            RankingRun(
                competition_code=code,
                round="first_round",
                parameters={},
                result=result,
                digest="0" * 64,
                created_by="organiser",
                confirmed_by="organiser",
                confirmed_at=datetime.now(UTC),
            )
        )
    queue = api_settings.temporal_task_queue
    await dev_env.client.start_workflow(
        CompetitionWorkflow.run,
        CompetitionStart(code, "辽宁分赛", calendar),
        id=competition_workflow_id(code),
        task_queue=queue,
    )
    handles = [await start_project(dev_env.client, queue, s) for s in (finalist, reserve)]
    for handle, advanced, rank in zip(handles, (True, False), (1, 2), strict=True):
        await pass_checks(handle)
        await announce(handle, advanced=advanced, rank=rank)
    await wait_for(handles[0], lambda s: s.stage == "technical_verification" and s.waiting_on == "organiser")
    await wait_for(handles[1], lambda s: s.review_phase == "reserve")

    verifier_id, verifier_headers = await signed_in(sessions, Role.VERIFIER)
    async with sessions() as session:
        verifier_name = (await session.get(Account, verifier_id)).username  # type: ignore[union-attr]
    base = f"/projects/{finalist.project_id}/verification"
    unknown = await api.post(f"{base}/plan", json={"method": "on_site", "verifier": "nobody"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_verifier")
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=verifier_headers) as verifier:
        assert (await verifier.get(base)).status_code == 404  # not assigned yet: the project does not exist for them
        visit = (now + timedelta(days=1)).isoformat()
        planned = await api.post(
            f"{base}/plan", json={"method": "on_site", "verifier": verifier_name, "visit_at": visit}
        )
        assert planned.status_code == 200, planned.text
        assert (await verifier.get(base)).json()["phase"] in {"on_site", "choose_method"}
        silent = await verifier.post(f"{base}/report", json={"verdicts": {**ALL_PASS, "legality": "fail"}})
        assert (silent.status_code, silent.json()["error"]["code"]) == (422, "findings_required")
        failed = await verifier.post(
            f"{base}/report", json={"verdicts": {**ALL_PASS, "legality": "fail"}, "findings": "数据来源未获授权"}
        )
        assert failed.status_code == 201 and failed.json()["overall"] == "fail", failed.text
    assert (await handles[0].result()).outcome == "disqualified"

    standing = (await api.get(f"/competitions/{code}/reserve")).json()[finalist.track_code]
    assert [(s["project_id"], s["live"], s["next_in_line"]) for s in standing] == [
        (finalist.project_id, False, False),
        (reserve.project_id, True, True),
    ]
    promotions = f"/competitions/{code}/promotions"
    wrong = await api.post(promotions, json={"replaces": reserve.project_id, "reason": "递补"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (409, "not_a_finalist")
    promoted = await api.post(
        promotions, json={"replaces": finalist.project_id, "reason": "技术验证未通过，按排名递补"}
    )
    assert promoted.status_code == 201 and promoted.json()["candidate"] == reserve.project_id, promoted.text
    again = await api.post(promotions, json={"replaces": finalist.project_id, "reason": "再次递补"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "reserve_empty")

    await wait_for(handles[1], lambda s: s.stage == "technical_verification" and s.waiting_on == "organiser")
    async with sessions() as session:
        team_id = (await session.get(Project, reserve.project_id)).team_id  # type: ignore[union-attr]
    _, team_headers = await signed_in(sessions, Role.TEAM, team_id=team_id)
    base = f"/projects/{reserve.project_id}/verification"
    assert (await api.post(f"{base}/plan", json={"method": "pledge"})).status_code == 200
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=team_headers) as team:
        uploaded = await team.post(f"{base}/pledge", files={"file": PLEDGE})
        assert uploaded.status_code == 200 and uploaded.json()["pledge"]["filename"] == "承诺书.pdf", uploaded.text
        assert (await api.post(f"{base}/report", json={"verdicts": ALL_PASS})).status_code == 201
        await wait_for(handles[1], lambda s: s.stage == "first_public_notice")
        view = (await team.get(base)).json()
        assert [r["overall"] for r in view["reports"]] == ["pass"]

    await dev_env.client.get_workflow_handle(competition_workflow_id(code)).terminate("test over")
