"""A competition whose first round is open now, with projects seeded straight into it (their workflows running
on the API's worker) and taken through the qualification check and screening by the API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from domain.calendar import windows_from_plain
from tests.helpers import make_credit_code, project_start, rehearsal, seed_project, start_project

# (track, problem) pairs of the Liaoning catalog, one per track.
PROBLEMS = [
    ("industry", "industry-01"),
    ("agriculture", "agriculture-01"),
    ("transport", "transport-01"),
    ("sci_tech", "sci_tech-01"),
    ("culture_tourism", "culture_tourism-01"),
    ("medical_security", "medical_security-01"),
    ("emergency", "emergency-01"),
    ("meteorology", "meteorology-01"),
    ("city_governance", "city_governance-01"),
    ("comprehensive", "comprehensive-trade-01"),
]


async def gather_limited(calls: list[Awaitable[Any]], limit: int = 16) -> list[Any]:
    """Await the (not yet started) coroutines with at most `limit` in flight."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[Any]) -> Any:
        async with gate:
            return await call

    return await asyncio.gather(*(one(c) for c in calls))


async def open_first_round(api: httpx.AsyncClient, season_minutes: float = 240) -> tuple[str, dict[str, Any]]:
    """A rehearsal competition whose registration closed a moment ago: the first round is open."""
    code = await rehearsal(api, minutes=season_minutes)
    calendar = (await api.get(f"/competitions/{code}")).json()["calendar"]
    moved = await api.put(
        f"/competitions/{code}/stages/registration",
        json={
            "opens_at": calendar[0]["opens_at"],
            "closes_at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
            "shift_later": True,
            "reason": "演练：直接进入初赛",
        },
    )
    assert moved.status_code == 200, moved.text
    await asyncio.sleep(1.2)
    return code, moved.json()


async def seed_projects(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    task_queue: str,
    code: str,
    competition: dict[str, Any],
    count: int,
) -> dict[str, tuple[str, str]]:
    """Project id → (track, team's unit credit code), tracks dealt round-robin; workflows started in the open round."""
    windows = windows_from_plain(competition["calendar"])
    projects: dict[str, tuple[str, str]] = {}
    starts = []
    for n in range(1, count + 1):
        track, problem = PROBLEMS[n % len(PROBLEMS)]
        start = replace(
            project_start(f"{code}-P{n:05d}", windows, email=f"team{n}-{code}@example.com"),
            competition_code=code,
            competition_name=competition["name"],
            project_name=f"演练项目{n}",
            track_code=track,
            problem_code=problem,
            calendar_revision=competition["calendar_revision"],
        )
        unit = make_credit_code(uuid.uuid4().hex)
        await seed_project(sessions, start, credit_code=unit)
        projects[start.project_id] = (track, unit)
        starts.append(start)
    await gather_limited([start_project(client, task_queue, s) for s in starts])
    return projects


async def wait_phase(api: httpx.AsyncClient, project_id: str, phase: str, within: float = 120) -> None:
    """Until the project's first-round task is `phase` (closing registration for hundreds of projects takes a while)."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if (await api.get(f"/projects/{project_id}")).json().get("review_phase") == phase:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{project_id} never reached the {phase} task")


async def pass_checks_via_api(api: httpx.AsyncClient, project_ids: list[str]) -> None:
    """Qualification pass, then screening pass, for each project, through the API."""

    async def one(project_id: str) -> None:
        await wait_phase(api, project_id, "qualification")
        qualified = await api.post(f"/projects/{project_id}/qualification", json={"decision": "pass"})
        assert qualified.status_code == 200, qualified.text
        screened = await api.post(
            f"/projects/{project_id}/screening",
            json={"decision": "pass", "score": 80, "organisation": "辽宁省数据评估中心"},
        )
        assert screened.status_code == 200, screened.text
        for _ in range(200):  # the workflow logs the verdict by activity, just after the update returns
            if any(e["kind"] == "screening" for e in (await api.get(f"/projects/{project_id}")).json()["log"]):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{project_id}: the screening verdict never reached the log")

    await gather_limited([one(p) for p in project_ids])
