"""A competition past its first round on the dev server, for the API tests of the later stages: projects seeded and
started on a calendar shifted so that `now` falls on a chosen day of the 2025 season, a confirmed first-round
ranking in the database, and the competition's workflow running."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import yaml
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle

from catalogs import bundled_catalogs
from db.models import Competition, RankingRun
from domain.calendar import StageWindow, windows_to_plain
from tests.helpers import announce, liaoning_calendar_from, pass_checks, project_start, seed_project, start_project
from workflows.competition import CompetitionWorkflow, competition_workflow_id
from workflows.contracts import CompetitionStart, ProjectResult, ProjectStart
from workflows.project import ProjectWorkflow

SEASON_START = date(2025, 6, 3)


@dataclass(frozen=True)
class StageWorld:
    """The competition's code and calendar, its projects (finalists first), their lead units' credit codes and their
    workflow handles."""

    code: str
    calendar: list[StageWindow]
    starts: list[ProjectStart]
    units: list[str]
    handles: list[WorkflowHandle[ProjectWorkflow, ProjectResult]]


def calendar_on(now: datetime, season_day: date) -> list[StageWindow]:
    """The Liaoning calendar shifted by whole days so that `now` falls on `season_day` of 2025."""
    return liaoning_calendar_from(now - timedelta(days=(season_day - SEASON_START).days - 1))


async def stage_world(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    task_queue: str,
    code: str,
    calendar: list[StageWindow],
    finalists: int,
    reserves: int = 0,
) -> StageWorld:
    """`finalists` + `reserves` projects of one track through the first round, ranked in that order and confirmed."""
    starts = [
        replace(project_start(f"{code}-P{n:05d}", calendar, email=f"team{n}-{code}@example.com"), competition_code=code)
        for n in range(1, finalists + reserves + 1)
    ]
    units = [await seed_project(sessions, start) for start in starts]
    track = starts[0].track_code
    async with sessions.begin() as session:
        catalog = json.loads(json.dumps(yaml.safe_load(bundled_catalogs()["liaoning-2025"].read_text()), default=str))
        await session.execute(
            update(Competition)
            .where(Competition.code == code)
            .values(calendar=windows_to_plain(calendar), catalog=catalog)
        )
        ranked = [{"project_id": s.project_id, "rank": n, "score": 90.0 - n} for n, s in enumerate(starts, start=1)]
        session.add(
            RankingRun(
                competition_code=code,
                round="first_round",
                parameters={},
                result={"tracks": {track: ranked}, "finalists": [s.project_id for s in starts[:finalists]]},
                digest="0" * 64,
                created_by="organiser",
                confirmed_by="organiser",
                confirmed_at=datetime.now(UTC),
            )
        )
    await client.start_workflow(
        CompetitionWorkflow.run,
        CompetitionStart(code, "辽宁分赛", calendar),
        id=competition_workflow_id(code),
        task_queue=task_queue,
    )
    handles = [await start_project(client, task_queue, s) for s in starts]
    for n, handle in enumerate(handles, start=1):
        await pass_checks(handle)
        await announce(handle, advanced=n <= finalists, rank=n)
    return StageWorld(code, calendar, starts, units, handles)
