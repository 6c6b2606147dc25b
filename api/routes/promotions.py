"""Promotion from the reserve: when a finalist fails verification or is disqualified, the organiser may promote the
next-ranked live project of the same track (by the confirmed first-round ranking); the competition's workflow
records it once per place and tells the promoted project, which then enters verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, StringConstraints
from sqlalchemy import select

from api.audit_trail import audit
from api.auth import PrincipalDep, guard
from api.deps import SessionDep, TemporalDep
from api.errors import ApiError, project_not_found
from api.finalists import NOT_RUNNING
from api.finalists import standings as current_standings
from api.schemas import Strict
from api.temporal_errors import temporal_call
from db import models
from domain.roles import Action
from domain.verification import next_in_line
from workflows.competition import CompetitionWorkflow, competition_workflow_id
from workflows.project import ProjectWorkflow
from workflows.stage_contracts import Promotion

router = APIRouter(prefix="/competitions/{code}", tags=["technical verification"])
ENDED = ("disqualified", "withdrawn")


class PromotionIn(Strict):
    """The finalist whose place is filled, and why."""

    replaces: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class StandingOut(BaseModel):
    """A ranked project of a track: still live, a finalist (confirmed or promoted), next in line."""

    project_id: str
    rank: int
    live: bool
    finalist: bool
    next_in_line: bool


@router.get(
    "/reserve",
    response_model=dict[str, list[StandingOut]],
    summary="Each track's ranking with finalists, live reserve and who is next in line",
    **guard(Action.PROMOTION_DECIDE),
)
async def reserve(code: str, session: SessionDep, client: TemporalDep) -> dict[str, list[StandingOut]]:
    """Per track, by first-round rank."""
    standings, _ = await current_standings(session, client, code)
    tracks: dict[str, list[StandingOut]] = {}
    for track in sorted({s.track for s in standings}):
        nxt = next_in_line(track, standings)
        tracks[track] = [
            StandingOut(
                project_id=s.project_id, rank=s.rank, live=s.live, finalist=s.finalist, next_in_line=s.project_id == nxt
            )
            for s in sorted((s for s in standings if s.track == track), key=lambda s: s.rank)
        ]
    return tracks


async def _ended_as(session: SessionDep, project_id: str) -> str | None:
    """The outcome the project's workflow logged, if it ended."""
    return await session.scalar(
        select(models.ProjectEvent.reason).where(
            models.ProjectEvent.project_id == project_id, models.ProjectEvent.kind == "outcome"
        )
    )


@router.post(
    "/promotions",
    response_model=dict[str, str],
    status_code=201,
    summary="Promote the next-ranked project of a track in place of a finalist who dropped out",
    **guard(Action.PROMOTION_DECIDE),
)
async def promote(
    code: str, body: PromotionIn, request: Request, session: SessionDep, principal: PrincipalDep, client: TemporalDep
) -> dict[str, str]:
    """Only for a finalist that was disqualified or withdrew; the candidate is the track's best live project in the
    reserve (refused when the track has none)."""
    replaced = await session.get(models.Project, body.replaces)
    if replaced is None or replaced.competition_code != code:
        raise project_not_found(body.replaces)
    standings, _ = await current_standings(session, client, code)
    mine = next((s for s in standings if s.project_id == replaced.id), None)
    if mine is None or not mine.finalist:
        raise ApiError(409, "not_a_finalist", "该项目不是入围项目", f"{replaced.id} is not a finalist")
    ended = await _ended_as(session, replaced.id)
    if ended not in ENDED:
        raise ApiError(
            409,
            "finalist_still_in",
            "该入围项目未被取消资格或退赛，不能递补",
            f"{replaced.id} was not disqualified and did not withdraw; its place is not free",
        )
    candidate = next_in_line(replaced.track_code, standings)
    if candidate is None:
        raise ApiError(409, "reserve_empty", "该赛道已无可递补的项目", "no live project is left in the track's reserve")
    await session.commit()
    async with temporal_call(ApiError(409, "project_closed", "递补项目已结束", "the candidate's run has ended")):
        review = await client.get_workflow_handle_for(ProjectWorkflow.run, candidate).query(ProjectWorkflow.review)
    if review.phase != "reserve":
        raise ApiError(
            409, "not_in_reserve", f"项目 {candidate} 不在候补状态", f"{candidate} is not waiting in the reserve"
        )
    promotion = Promotion(candidate, replaced.id, replaced.track_code, principal.username, body.reason)
    async with temporal_call(NOT_RUNNING):
        await client.get_workflow_handle_for(CompetitionWorkflow.run, competition_workflow_id(code)).execute_update(
            CompetitionWorkflow.promote, promotion
        )
    await audit(session, request, "finalist.promoted", "project", candidate, replaces=replaced.id)
    await session.commit()
    return {"candidate": candidate, "replaces": replaced.id, "track": replaced.track_code}
