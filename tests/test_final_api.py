"""The final review through the API on the dev server, two days before the final: the roadshow is planned per
track from the live finalists (seeded order, slots inside the final), each team is mailed its slot, a re-plan mails
again; the final panel is assigned with a conflicted judge skipped, and a panel judge may then see the project."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from config import Settings
from db.outbox import Mail
from domain.calendar import window_of
from domain.stages import Stage
from tests.helpers import eventually, seed_judge, wait_for
from tests.stage_world import calendar_on, stage_world
from workflows.competition import competition_workflow_id
from workflows.contracts import DecisionRequest
from workflows.project import ProjectWorkflow


async def test_roadshow_and_panel(
    api: httpx.AsyncClient,
    transport: httpx.ASGITransport,
    dev_env: WorkflowEnvironment,
    api_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    calendar = calendar_on(await dev_env.get_current_time(), date(2025, 8, 19))
    code = f"ln-final-{uuid.uuid4().hex[:6]}"
    world = await stage_world(sessions, dev_env.client, api_settings.temporal_task_queue, code, calendar, 3, 1)
    for handle in world.handles[:3]:
        await wait_for(handle, lambda s: s.stage == "technical_verification" and s.overdue)
        await handle.execute_update(
            ProjectWorkflow.decide, DecisionRequest("technical_verification", "advance", "组委会")
        )
        await wait_for(handle, lambda s: s.stage == "final_review" and s.waiting_on == "organiser")
    final = window_of(calendar, Stage.FINAL_REVIEW)
    track = world.starts[0].track_code
    url = f"/competitions/{code}/final/roadshow"

    early = final.opens_at + timedelta(hours=1)
    missing = await api.post(url, json={"sessions": {"other_track": {"starts_at": early.isoformat(), "room": "A厅"}}})
    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "invalid_roadshow")
    late = final.closes_at - timedelta(minutes=20)
    too_late = await api.post(url, json={"sessions": {track: {"starts_at": late.isoformat(), "room": "A厅"}}})
    assert (too_late.status_code, too_late.json()["error"]["code"]) == (422, "invalid_roadshow")
    planned = await api.post(
        url, json={"sessions": {track: {"starts_at": early.isoformat(), "room": "A厅"}}, "seed": 7}
    )
    assert planned.status_code == 201, planned.text
    slots = planned.json()
    assert sorted(s["project_id"] for s in slots) == sorted(s.project_id for s in world.starts[:3])
    assert [s["order"] for s in slots] == [1, 2, 3] and all(s["version"] == 1 for s in slots)
    assert slots[1]["starts_at"] > slots[0]["ends_at"]  # back to back with the changeover between
    again = await api.post(url, json={"sessions": {track: {"starts_at": early.isoformat(), "room": "B厅"}}, "seed": 7})
    assert [s["project_id"] for s in again.json()] == [s["project_id"] for s in slots]  # the seed fixes the order
    assert (await api.get(url)).json()[0]["room"] == "B厅"

    async def mailed() -> list[str] | None:
        async with sessions() as session:
            rows = await session.scalars(
                select(Mail.milestone).where(
                    Mail.milestone.like("roadshow_schedule/%"), Mail.workflow_id.like(f"{code}-%")
                )
            )
            found = list(rows.all())
        return found if found.count("roadshow_schedule/2") == 3 else None

    await eventually(mailed, within=30)

    fair, _ = await seed_judge(sessions, code, tracks=(track,))
    partial, _ = await seed_judge(sessions, code, tracks=(track,), unit_code=world.units[0])
    panel = f"/competitions/{code}/final/panel"
    stranger = await api.post(panel, json={"panels": {track: [int(fair), 999999]}})
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (422, "unknown_judge")
    assigned = await api.post(panel, json={"panels": {track: [int(fair), int(partial)]}})
    assert assigned.status_code == 200, assigned.text
    report = assigned.json()
    assert report["assigned"] == 5 and report["conflicts"] == [
        {"project_id": world.starts[0].project_id, "judge": partial, "reason": "same_or_related_unit"}
    ]
    repeat = (await api.post(panel, json={"panels": {track: [int(fair)]}})).json()
    assert repeat["assigned"] == 0  # assigning again adds nobody twice
    review = await world.handles[1].query(ProjectWorkflow.review)
    assert sorted(r.judge for r in review.reviewers) == sorted([fair, partial])
    await dev_env.client.get_workflow_handle(competition_workflow_id(code)).terminate("test over")
