"""The final through the API on the dev server, from the roadshow to the awards: the organiser plans the roadshow and
the panel, moves the final to open now, the panel scores through the API, the final ranking combines the roadshow
with the first round, the awards follow the track's quota (vacancies reported), the recommendations report the SME
shortfall, and the confirmed result moves every finalist on to the final public notice."""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta

import httpx
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from config import Settings
from db.models import Project, Team, Unit
from db.outbox import Mail
from domain.calendar import window_of
from domain.stages import Stage
from tests.helpers import eventually, seed_judge, session_for, team_session, wait_for
from tests.stage_world import StageWorld, calendar_on, stage_world
from workflows.competition import competition_workflow_id
from workflows.contracts import DecisionRequest
from workflows.project import ProjectWorkflow

SHEETS = [
    {"innovation": 95, "data_value": 92, "application": 90, "business_model": 88, "team": 90},
    {"innovation": 80, "data_value": 82, "application": 78, "business_model": 75, "team": 80},
    {"innovation": 70, "data_value": 72, "application": 68, "business_model": 70, "team": 75},
    {"innovation": 60, "data_value": 65, "application": 62, "business_model": 60, "team": 66},
]


async def test_final_scores_rank_award_and_recommend(
    api: httpx.AsyncClient,
    transport: httpx.ASGITransport,
    dev_env: WorkflowEnvironment,
    api_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = await dev_env.get_current_time()
    calendar = calendar_on(now, date(2025, 8, 20))
    code = f"ln-award-{uuid.uuid4().hex[:6]}"
    world = await stage_world(sessions, dev_env.client, api_settings.temporal_task_queue, code, calendar, 4)
    sme = world.starts[3].project_id  # the lowest-ranked finalist's lead unit is an SME
    async with sessions.begin() as session:
        team_id = (await session.get(Project, sme)).team_id  # type: ignore[union-attr]
        lead = (await session.get(Team, team_id)).lead_unit_id  # type: ignore[union-attr]
        await session.execute(update(Unit).where(Unit.id == lead).values(is_sme=True))
    for handle in world.handles:
        await wait_for(handle, lambda s: s.stage == "technical_verification" and s.overdue)
        passed = DecisionRequest("technical_verification", "advance", "组委会")
        await handle.execute_update(ProjectWorkflow.decide, passed)
        await wait_for(handle, lambda s: s.stage == "final_review" and s.waiting_on == "organiser")

    final = window_of(calendar, Stage.FINAL_REVIEW)
    track = world.starts[0].track_code
    roadshow = {"sessions": {track: {"starts_at": (final.opens_at + timedelta(hours=1)).isoformat(), "room": "A厅"}}}
    assert (await api.post(f"/competitions/{code}/final/roadshow", json=roadshow)).status_code == 201
    judges = [await seed_judge(sessions, code, tracks=(track,)) for _ in range(3)]
    panel = {"panels": {track: [int(j) for j, _ in judges]}}
    assert (await api.post(f"/competitions/{code}/final/panel", json=panel)).json()["assigned"] == 12
    move = {"opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": final.closes_at.isoformat()}
    moved = await api.put(f"/competitions/{code}/stages/final_review", json=move | {"reason": "决赛提前举行（演练）"})
    assert moved.status_code == 200, moved.text
    for handle in world.handles:
        await wait_for(handle, lambda s: s.waiting_on == "judges")

    early = await api.post(f"/competitions/{code}/final/ranking")
    assert early.status_code == 201 and len(early.json()["unranked"]) == 4  # nobody scored yet: nobody ranked
    for judge, _ in judges:
        headers = await session_for(sessions, int(judge))
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            for start, sheet in zip(world.starts, SHEETS, strict=True):
                sent = await client.post(f"/projects/{start.project_id}/scores", json={"values": sheet})
                assert sent.status_code == 200, sent.text
    stale = await api.post(f"/competitions/{code}/final/ranking/{early.json()['run_id']}/confirm")
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "ranking_stale")

    run = (await api.post(f"/competitions/{code}/final/ranking")).json()
    standings = run["standings"]
    assert [s["project_id"] for s in standings] == [s.project_id for s in world.starts]
    top = standings[0]
    assert top["combined"] == round(0.7 * top["final_score"] + 0.3 * top["first_round_score"], 4)
    assert [(a["project_id"], a["level"]) for a in run["awards"]] == [
        (world.starts[0].project_id, "first"),
        (world.starts[1].project_id, "second"),
        (world.starts[2].project_id, "third"),
        (world.starts[3].project_id, "third"),
    ]
    mine = {(v["level"], v["count"]) for v in run["vacancies"] if v["track"] == track}
    assert mine == {("third", 1), ("excellence", 3)}
    assert len({v["track"] for v in run["vacancies"]}) == 10  # every other track gives nothing: all vacant
    recommended = run["recommendations"]
    assert (len(recommended["projects"]), recommended["smes"], recommended["sme_minimum"]) == (4, 1, 3)
    assert recommended["sme_shortfall"] == 2 and recommended["swaps"] == []

    ceremony = window_of(calendar, Stage.CEREMONY)
    invitation = {"starts_at": (ceremony.opens_at + timedelta(hours=2)).isoformat(), "venue": "沈阳市 辽宁大厦"}
    unconfirmed = await api.post(f"/competitions/{code}/ceremony", json=invitation)
    assert (unconfirmed.status_code, unconfirmed.json()["error"]["code"]) == (409, "awards_not_confirmed")
    confirmed = await api.post(f"/competitions/{code}/final/ranking/{run['run_id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    again = await api.post(f"/competitions/{code}/final/ranking/{run['run_id']}/confirm")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_confirmed")
    status = await wait_for(world.handles[0], lambda s: s.stage == "final_public_notice")
    assert "award first" in status.decisions[-1].reason
    listed = (await api.get(f"/competitions/{code}/awards")).json()
    assert {a["state"] for a in listed["awards"]} == {"awarded"} and listed["recommendations"]["revoked"] == []
    await _after_the_awards(api, transport, dev_env, sessions, world, invitation, now)
    await dev_env.client.get_workflow_handle(competition_workflow_id(code)).terminate("test over")


async def _after_the_awards(
    api: httpx.AsyncClient,
    transport: httpx.ASGITransport,
    dev_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    world: StageWorld,
    invitation: dict[str, str],
    now: datetime,
) -> None:
    """Organisation awards, the ceremony's invitations, the certificates and the national list."""
    code = world.code
    units = [{"recipient": f"沈阳市{n}", "kind": "city", "citation": "组织发动成效显著"} for n in range(6)]
    too_many = await api.put(f"/competitions/{code}/organisation-awards", json={"awards": units})
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (422, "invalid_organisation_awards")
    granted = await api.put(f"/competitions/{code}/organisation-awards", json={"awards": units[:5]})
    assert granted.status_code == 200, granted.text
    assert len((await api.get(f"/competitions/{code}/organisation-awards")).json()) == 5

    wrong_day = await api.post(f"/competitions/{code}/ceremony", json=invitation | {"starts_at": now.isoformat()})
    assert (wrong_day.status_code, wrong_day.json()["error"]["code"]) == (422, "ceremony_out_of_window")
    planned = await api.post(f"/competitions/{code}/ceremony", json=invitation)
    assert planned.json() == {"version": 1, "invited": 4, "not_invited": []}, planned.text

    async def invited() -> int | None:
        async with sessions() as session:
            count = await session.scalar(
                select(func.count()).where(
                    Mail.milestone == "ceremony_invitation/1", Mail.workflow_id.like(f"{code}-%")
                )
            )
        return count if count == 4 else None

    await eventually(invited, within=30)
    first = world.starts[0].project_id
    early = await api.get(f"/projects/{first}/certificate")
    assert (early.status_code, early.json()["error"]["code"]) == (409, "certificate_not_issued")

    # The organiser closes the final and runs the final public notice for a few seconds (a rehearsal).
    clock = await dev_env.get_current_time()
    final = {
        "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": (clock + timedelta(seconds=6)).isoformat(),
    }
    notice = {
        "opens_at": (clock + timedelta(seconds=6)).isoformat(),
        "closes_at": (clock + timedelta(seconds=12)).isoformat(),
    }
    for stage, window in (("final_review", final), ("final_public_notice", notice)):
        moved = await api.put(f"/competitions/{code}/stages/{stage}", json=window | {"reason": "演练：压缩公示期"})
        assert moved.status_code == 200, moved.text
    await wait_for(world.handles[0], lambda s: s.stage in ("award", "ceremony"), within=40)
    issued = await api.get(f"/projects/{first}/certificate")
    assert issued.status_code == 200 and "text/html" in issued.headers["content-type"]
    assert "2025年‘数据要素×’大赛辽宁分赛" in issued.text and "一等奖" in issued.text
    async with sessions() as session:
        team_id = (await session.get(Project, first)).team_id  # type: ignore[union-attr]
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers=await team_session(sessions, team_id)
    ) as team:
        assert (await team.get(f"/projects/{first}/certificate")).status_code == 200
        other = await team.get(f"/projects/{world.starts[1].project_id}/certificate")
        assert other.status_code == 404  # another team's certificate does not exist for this team

    exported = await api.get(f"/competitions/{code}/national-recommendations.csv")
    assert exported.status_code == 200 and exported.text.startswith("\ufeff序号")
    lines = exported.text.strip().splitlines()
    assert len(lines) == 5 and lines[1].split(",")[1] == first and lines[4].split(",")[6] == "是"
    await _exports_match(api, code, first, exported.content, len(world.starts))


async def _exports_match(api: httpx.AsyncClient, code: str, first: str, national_csv: bytes, projects: int) -> None:
    """Every result table opens in Excel with its header row and the rows the API reported; the CSV export is the
    same table as the national list's own CSV."""
    sheets = {}
    for table in ("first-round-ranking", "finalists", "final-ranking", "awards", "national-recommendations"):
        response = await api.get(f"/competitions/{code}/exports/{table}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert f"{code}-{table}.xlsx" in response.headers["content-disposition"]
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None and sheet.freeze_panes == "A2"
        sheets[table] = [[c.value for c in row] for row in sheet.iter_rows()]
        assert len(sheets[table]) - 1 == int(response.headers["x-rows"])
    assert len(sheets["first-round-ranking"]) - 1 == projects
    assert sheets["final-ranking"][1][:4] == [1, sheets["final-ranking"][1][1], 1, first]
    assert sheets["final-ranking"][1][-1] == "一等奖"
    assert [first, "获奖"] == [sheets["awards"][1][2], sheets["awards"][1][-1]]
    csv_copy = await api.get(f"/competitions/{code}/exports/national-recommendations", params={"format": "csv"})
    assert csv_copy.content == national_csv
    unknown = await api.get(f"/competitions/{code}/exports/everything")
    assert unknown.status_code == 422
