"""Who the finalists are now: the confirmed first-round ranking's finalists plus every promotion, with whether
each is still live (its workflow logged no outcome)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import ApiError, competition_not_found
from api.temporal_errors import temporal_call
from db import models
from db.review_queries import confirmed_run, live_projects
from domain.verification import Standing
from workflows.competition import CompetitionWorkflow, competition_workflow_id
from workflows.stage_contracts import Promotion

NOT_RUNNING = ApiError(404, "competition_not_running", "赛事流程未运行", "the competition's workflow is not running")


async def standings(session: AsyncSession, client: Client, code: str) -> tuple[list[Standing], list[Promotion]]:
    """Every ranked project of the confirmed first-round ranking, with who is live and who is a finalist now."""
    if await session.get(models.Competition, code) is None:
        raise competition_not_found(code)
    run = await confirmed_run(session, code, "first_round")
    if run is None:
        raise ApiError(409, "ranking_not_confirmed", "初赛排名尚未确认", "the first-round ranking is not confirmed yet")
    live = await live_projects(session, code)
    result: dict[str, Any] = run.result
    await session.commit()
    async with temporal_call(NOT_RUNNING):
        promotions = await client.get_workflow_handle_for(CompetitionWorkflow.run, competition_workflow_id(code)).query(
            CompetitionWorkflow.promotions
        )
    finalists = set(result["finalists"]) | {p.candidate for p in promotions}
    rows = [
        Standing(row["project_id"], track, int(row["rank"]), row["project_id"] in live, row["project_id"] in finalists)
        for track, ranked in result["tracks"].items()
        for row in ranked
    ]
    return rows, promotions


async def live_finalists(session: AsyncSession, client: Client, code: str) -> dict[str, str]:
    """Project → track of every finalist still in the competition."""
    rows, _ = await standings(session, client, code)
    return {s.project_id: s.track for s in rows if s.finalist and s.live}
