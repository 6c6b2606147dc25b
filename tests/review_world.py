"""A competition whose first round is open now, with projects seeded straight into it (their workflows running
on the API's worker) and taken through the qualification check and screening by the API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from config import Settings
from db.models import ProjectEvent
from domain.calendar import windows_from_plain
from tests.helpers import make_credit_code, project_start, seed_project, start_project

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


@contextlib.asynccontextmanager
async def second_worker(settings: Settings, temporal_address: str) -> AsyncIterator[None]:
    """One more worker process on the same task queue, as a scaled-out deployment runs: the cohort's workflows and
    activities are shared between it and the API's in-process worker, and each gets a CPU core."""
    env = dict(
        os.environ,
        CONTESTFLOW_DATABASE_URL=settings.effective_database_url,
        CONTESTFLOW_TEMPORAL_ADDRESS=temporal_address,
        CONTESTFLOW_TEMPORAL_TASK_QUEUE=settings.temporal_task_queue,
        CONTESTFLOW_SMTP_PORT=str(settings.smtp_port),
        CONTESTFLOW_PERSONAL_DATA_KEY=settings.personal_data_key,
        CONTESTFLOW_DATA_DIR=str(settings.data_dir),
        CONTESTFLOW_WORKER_METRICS_PORT="0",  # two suites run side by side: no fixed port to fight over
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.main", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    while b"worker polling" not in (line := await asyncio.wait_for(process.stderr.readline(), 60)):
        assert line, "the second worker exited before polling"
    drain = asyncio.create_task(process.stderr.read())  # keep its pipe from filling up
    try:
        yield
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
        await drain


async def gather_limited(calls: list[Awaitable[Any]], limit: int = 16) -> list[Any]:
    """Await the (not yet started) coroutines with at most `limit` in flight."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[Any]) -> Any:
        async with gate:
            return await call

    return await asyncio.gather(*(one(c) for c in calls))


async def close_registration_now(api: httpx.AsyncClient, code: str, reason: str) -> dict[str, Any]:
    """Move the registration deadline to a second from now (later stages shift with it); the competition after."""
    calendar = (await api.get(f"/competitions/{code}")).json()["calendar"]
    moved = await api.put(
        f"/competitions/{code}/stages/registration",
        json={
            "opens_at": calendar[0]["opens_at"],
            "closes_at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
            "shift_later": True,
            "reason": reason,
        },
    )
    assert moved.status_code == 200, moved.text
    body: dict[str, Any] = moved.json()
    return body


async def seed_projects(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    task_queue: str,
    code: str,
    competition: dict[str, Any],
    count: int,
    first: int = 1,
) -> dict[str, tuple[str, str]]:
    """Project id → (track, team's unit credit code), numbered from `first`, tracks dealt round-robin; workflows
    started in the open round."""
    windows = windows_from_plain(competition["calendar"])
    projects: dict[str, tuple[str, str]] = {}
    starts = []
    for n in range(first, first + count):
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


async def wait_cohort(client: Client, code: str, count: int, waiting_on: str, within: float = 240) -> None:
    """Until `count` of the competition's projects are in the first round waiting on `waiting_on`: one visibility
    count a second, where polling every project through the API would starve the worker of CPU."""
    query = (
        f"WorkflowType = 'ProjectWorkflow' AND ContestCompetition = '{code}' "
        f"AND ContestStage = 'first_round_review' AND ContestWaitingOn = '{waiting_on}'"
    )
    deadline = asyncio.get_running_loop().time() + within
    seen = 0
    while asyncio.get_running_loop().time() < deadline:
        seen = (await client.count_workflows(query)).count
        if seen >= count:
            return
        await asyncio.sleep(1)
    raise AssertionError(f"only {seen} of {count} projects of {code} came to wait on {waiting_on}")


async def pass_checks_via_api(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], project_ids: list[str]
) -> None:
    """Qualification pass, then screening pass, for each project through the API; returns once every screening
    verdict is in the projects' logs, where the judge planner reads it."""

    async def one(project_id: str) -> None:
        await wait_phase(api, project_id, "qualification")
        qualified = await api.post(f"/projects/{project_id}/qualification", json={"decision": "pass"})
        assert qualified.status_code == 200, qualified.text
        screened = await api.post(
            f"/projects/{project_id}/screening",
            json={"decision": "pass", "score": 80, "organisation": "辽宁省数据评估中心"},
        )
        assert screened.status_code == 200, screened.text

    await gather_limited([one(p) for p in project_ids])

    async def logged() -> int:
        async with sessions() as session:
            count = await session.scalar(
                select(func.count(distinct(ProjectEvent.project_id))).where(
                    ProjectEvent.project_id.in_(project_ids), ProjectEvent.kind == "screening"
                )
            )
        return int(count or 0)

    for _ in range(600):  # the workflow logs each verdict by activity, just after its update returns
        if await logged() == len(project_ids):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"only {await logged()} of {len(project_ids)} screening verdicts reached the log")
