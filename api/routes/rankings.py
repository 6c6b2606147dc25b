"""The first round's ranking and finalists: computed from the stored scores (previewed as a run that is kept),
then confirmed once by an organiser, after which every live project is told its result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.audit_trail import audit
from api.auth import PrincipalDep, guard
from api.deps import SessionDep, TemporalDep
from api.errors import ApiError, competition_not_found
from api.schemas import Strict
from api.temporal_errors import temporal_call
from db import models
from db.review_queries import completion_times, live_projects, valid_sheets
from domain.ranking import Allocation, compute, digest
from domain.review import ReviewPolicy, parse_review
from domain.roles import Action
from workflows.competition import CompetitionWorkflow, competition_workflow_id
from workflows.contracts import FinalistsConfirmation

router = APIRouter(prefix="/competitions/{code}/rankings", tags=["rankings"])


class AllocationIn(Strict):
    """Finalists' places per track: proportional to ranked entries with a minimum, or fixed counts."""

    mode: Literal["proportional", "fixed"] = "proportional"
    total: int | None = Field(None, ge=1, le=10_000, description="Default: the catalog's number of finalists")
    minimum: int | None = Field(None, ge=0, le=1000, description="Default: the review policy's minimum per track")
    counts: dict[str, int] | None = None


class RankingIn(Strict):
    """How to allocate the finalists' places (the aggregation and tie-breaks are the competition's, fixed)."""

    allocation: AllocationIn = AllocationIn(total=None, minimum=None)


class RunOut(BaseModel):
    """A ranking run: its parameters, the finalists, counts, tie-break uses, and whether it was confirmed."""

    run_id: int
    digest: str
    parameters: dict[str, Any]
    allocation: dict[str, int]
    finalists: list[dict[str, Any]]
    counts: dict[str, int]
    tie_break_uses: list[dict[str, Any]]
    created_at: datetime
    confirmed_at: datetime | None
    confirmed_by: str | None
    tracks: dict[str, list[dict[str, Any]]] | None = None


async def _competition(session: SessionDep, code: str) -> tuple[models.Competition, ReviewPolicy]:
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    return competition, parse_review(competition.catalog.get("review"))


def _out(run: models.RankingRun, with_tracks: bool = False) -> RunOut:
    result = run.result
    rows = {r["project_id"]: (track, r) for track, ranked in result["tracks"].items() for r in ranked}
    return RunOut(
        run_id=run.id,
        digest=run.digest,
        parameters=run.parameters,
        allocation=result["allocation"],
        finalists=[{"track": rows[p][0], **rows[p][1]} for p in result["finalists"]],
        counts={
            "live": len(result["outcomes"]),
            "ranked": len(rows),
            "unranked": len(result["unranked"]),
            "finalists": len(result["finalists"]),
        },
        tie_break_uses=result["tie_break_uses"],
        created_at=run.created_at,
        confirmed_at=run.confirmed_at,
        confirmed_by=run.confirmed_by,
        tracks=result["tracks"] if with_tracks else None,
    )


async def _compute(session: SessionDep, code: str, parameters: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The ranking from what is stored now, and the digest of its inputs."""
    sheets = await valid_sheets(session, code)
    live = await live_projects(session, code)
    allocation = parameters["allocation"]
    try:
        result = compute(
            sheets,
            live,
            await completion_times(session, code),
            min_valid_scores=parameters["min_valid_scores"],
            normalise=parameters["normalise"],
            tie_breaks=parameters["tie_breaks"],
            allocation=Allocation(allocation["mode"], allocation["total"], allocation["minimum"], allocation["counts"]),
        )
    except ValueError as exc:
        raise ApiError(422, "invalid_allocation", f"名额分配无效：{exc}", f"the allocation is invalid: {exc}") from None
    return result, digest(sheets, parameters | {"live": sorted(live)})


@router.post(
    "",
    response_model=RunOut,
    status_code=201,
    summary="Compute and keep a ranking run (a preview)",
    **guard(Action.RANKING_PREVIEW),
)
async def preview(code: str, body: RankingIn, request: Request, session: SessionDep, principal: PrincipalDep) -> RunOut:
    """Ranks every project with enough valid scores, per track and overall, and picks the finalists; nothing is
    announced until an organiser confirms the run."""
    competition, policy = await _competition(session, code)
    allocation = body.allocation
    parameters = {
        "min_valid_scores": policy.min_valid_scores,
        "normalise": policy.normalise,
        "tie_breaks": list(policy.tie_breaks),
        "aggregation": "trimmed_mean(drop highest and lowest when ≥5)",
        "allocation": {
            "mode": allocation.mode,
            "total": allocation.total or int(competition.catalog["quotas"]["finalists"]),
            "minimum": policy.finalist_minimum_per_track if allocation.minimum is None else allocation.minimum,
            "counts": allocation.counts,
        },
    }
    result, inputs = await _compute(session, code, parameters)
    run = models.RankingRun(
        competition_code=code,
        round="first_round",
        parameters=parameters,
        result=result,
        digest=inputs,
        created_by=principal.username,
        created_at=datetime.now(UTC),
    )
    session.add(run)
    await session.flush()
    await audit(
        session, request, "ranking.computed", "competition", code, run_id=run.id, finalists=len(result["finalists"])
    )
    await session.commit()
    return _out(run)


async def _run(session: SessionDep, code: str, run_id: int) -> models.RankingRun:
    run = await session.get(models.RankingRun, run_id)
    if run is None or run.competition_code != code:
        raise ApiError(404, "ranking_not_found", "没有该排名", f"no ranking run {run_id}")
    return run


@router.get(
    "/{run_id}",
    response_model=RunOut,
    summary="A ranking run with every track's ranking",
    **guard(Action.RANKING_PREVIEW),
)
async def read(code: str, run_id: int, session: SessionDep) -> RunOut:
    """The stored run, including each track's full ranking with raw and adjusted scores."""
    return _out(await _run(session, code, run_id), with_tracks=True)


@router.post(
    "/{run_id}/confirm",
    response_model=RunOut,
    summary="Confirm a run's finalists and announce every project's result",
    **guard(Action.FINALISTS_CONFIRM),
)
async def confirm(
    code: str, run_id: int, request: Request, session: SessionDep, principal: PrincipalDep, client: TemporalDep
) -> RunOut:
    """Refused when the scores changed since the preview (recompute first) or when a run was confirmed already."""
    await _competition(session, code)
    run = await _run(session, code, run_id)
    _, now_digest = await _compute(session, code, run.parameters)
    if now_digest != run.digest:
        raise ApiError(
            409,
            "ranking_stale",
            "预览之后评分或项目已变化，请重新计算排名",
            "scores or projects changed since this preview; compute the ranking again",
        )
    await session.commit()
    confirmation = FinalistsConfirmation(run.id, run.digest, principal.username, len(run.result["finalists"]))
    not_found = ApiError(404, "competition_not_running", "赛事流程未运行", "the competition's workflow is not running")
    async with temporal_call(not_found):
        await client.get_workflow_handle_for(CompetitionWorkflow.run, competition_workflow_id(code)).execute_update(
            CompetitionWorkflow.confirm_finalists, confirmation
        )
    run.confirmed_at, run.confirmed_by = datetime.now(UTC), principal.username
    await audit(session, request, "finalists.confirmed", "competition", code, run_id=run.id, digest=run.digest)
    await session.commit()
    return _out(run)
