"""The final ranking and the awards: previewed from the final panel's sheets (combined with the first round as the
competition sets it), awards under the per-track quotas with vacancies, the national recommendations with the SME
floor; confirmed once by an organiser, after which every finalist is told; then the awards as they stand (an award
whose project was disqualified afterwards shows as revoked, marked for recovery)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import select

from api.audit_trail import audit
from api.auth import PrincipalDep, guard
from api.deps import SessionDep, TemporalDep
from api.errors import ApiError, competition_not_found
from api.exports import ended
from api.finalists import NOT_RUNNING, live_finalists
from api.temporal_errors import temporal_call
from db import models
from db.review_queries import confirmed_run, valid_sheets
from domain.catalog import parse_catalog
from domain.final import parse_final
from domain.final_ranking import final_result
from domain.ranking import digest
from domain.review import parse_review
from domain.roles import Action
from workflows.competition import CompetitionWorkflow, competition_workflow_id
from workflows.contracts import FinalistsConfirmation

router = APIRouter(prefix="/competitions/{code}", tags=["awards"])
ROUND = "final"


class FinalRunOut(BaseModel):
    """A final ranking run: standings, unranked finalists, awards, vacancies, recommendations, confirmation."""

    run_id: int
    digest: str
    parameters: dict[str, Any]
    standings: list[dict[str, Any]]
    unranked: dict[str, int]
    awards: list[dict[str, Any]]
    vacancies: list[dict[str, Any]]
    recommendations: dict[str, Any]
    created_at: datetime
    confirmed_at: datetime | None
    confirmed_by: str | None


def _out(run: models.RankingRun) -> FinalRunOut:
    return FinalRunOut(
        run_id=run.id,
        digest=run.digest,
        parameters=run.parameters,
        created_at=run.created_at,
        confirmed_at=run.confirmed_at,
        confirmed_by=run.confirmed_by,
        **{k: run.result[k] for k in ("standings", "unranked", "awards", "vacancies", "recommendations")},
    )


async def _first_round_scores(session: SessionDep, code: str) -> dict[str, float]:
    run = await confirmed_run(session, code, "first_round")
    rows = run.result["tracks"].values() if run else []
    return {r["project_id"]: float(r.get("score") or 0.0) for ranked in rows for r in ranked}


async def _smes(session: SessionDep, project_ids: list[str]) -> set[str]:
    rows = await session.scalars(
        select(models.Project.id)
        .join(models.Team, models.Team.id == models.Project.team_id)
        .join(models.Unit, models.Unit.id == models.Team.lead_unit_id)
        .where(models.Project.id.in_(project_ids), models.Unit.is_sme.is_(True))
    )
    return set(rows.all())


async def _compute(session: SessionDep, client: TemporalDep, code: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The final result from what is stored now, the digest of its inputs, and the parameters used."""
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    catalog, review = competition.catalog, parse_review(competition.catalog.get("review"))
    policy = parse_final(catalog.get("final"))
    quotas = parse_catalog(catalog).quotas
    finalists = await live_finalists(session, client, code)
    sheets = await valid_sheets(session, code, "final_review")
    first = await _first_round_scores(session, code)
    smes = await _smes(session, sorted(finalists))
    parameters = {
        "final_weight": policy.final_weight,
        "min_valid_scores": review.min_valid_scores,
        "normalise": review.normalise,
        "aggregation": "trimmed_mean(drop highest and lowest when ≥5)",
        "tie_breaks": ["roadshow score", "first-round score", "project id"],
    }
    result = final_result(
        sheets,
        finalists,
        first,
        smes,
        policy,
        quotas,
        min_valid_scores=review.min_valid_scores,
        normalise=review.normalise,
    )
    inputs = digest(sheets, parameters | {"finalists": sorted(finalists), "smes": sorted(smes), "first": first})
    return result, inputs, parameters


@router.post(
    "/final/ranking",
    response_model=FinalRunOut,
    status_code=201,
    summary="Compute and keep a final ranking run with its awards and recommendations (a preview)",
    **guard(Action.RANKING_PREVIEW),
)
async def preview(
    code: str, request: Request, session: SessionDep, principal: PrincipalDep, client: TemporalDep
) -> FinalRunOut:
    """Nothing is announced until an organiser confirms the run."""
    result, inputs, parameters = await _compute(session, client, code)
    run = models.RankingRun(
        competition_code=code,
        round=ROUND,
        parameters=parameters,
        result=result,
        digest=inputs,
        created_by=principal.username,
        created_at=datetime.now(UTC),
    )
    session.add(run)
    await session.flush()
    await audit(session, request, "final_ranking.computed", "competition", code, run_id=run.id)
    await session.commit()
    return _out(run)


async def _run(session: SessionDep, code: str, run_id: int) -> models.RankingRun:
    run = await session.get(models.RankingRun, run_id)
    if run is None or run.competition_code != code or run.round != ROUND:
        raise ApiError(404, "ranking_not_found", "没有该排名", f"no final ranking run {run_id}")
    return run


@router.get(
    "/final/ranking/{run_id}",
    response_model=FinalRunOut,
    summary="A final ranking run",
    **guard(Action.RANKING_PREVIEW),
)
async def read(code: str, run_id: int, session: SessionDep) -> FinalRunOut:
    """As computed (and, once confirmed, as announced)."""
    return _out(await _run(session, code, run_id))


@router.post(
    "/final/ranking/{run_id}/confirm",
    response_model=FinalRunOut,
    summary="Confirm the final ranking and its awards, and tell every finalist",
    **guard(Action.AWARDS_CONFIRM),
)
async def confirm(
    code: str, run_id: int, request: Request, session: SessionDep, principal: PrincipalDep, client: TemporalDep
) -> FinalRunOut:
    """Refused when scores or finalists changed since the preview, or when a final run was confirmed already."""
    run = await _run(session, code, run_id)
    _, now_digest, _ = await _compute(session, client, code)
    if now_digest != run.digest:
        raise ApiError(
            409,
            "ranking_stale",
            "预览之后评分或入围项目已变化，请重新计算",
            "scores or finalists changed since this preview; compute the final ranking again",
        )
    awards = len(run.result["awards"])
    await session.commit()
    confirmation = FinalistsConfirmation(run.id, run.digest, principal.username, awards)
    async with temporal_call(NOT_RUNNING):
        await client.get_workflow_handle_for(CompetitionWorkflow.run, competition_workflow_id(code)).execute_update(
            CompetitionWorkflow.confirm_awards, confirmation
        )
    run.confirmed_at, run.confirmed_by = datetime.now(UTC), principal.username
    await audit(session, request, "awards.confirmed", "competition", code, run_id=run.id, awards=awards)
    await session.commit()
    return _out(run)


@router.get(
    "/awards",
    response_model=dict[str, Any],
    summary="The confirmed awards as they stand, vacancies, and the national recommendations",
    **guard(Action.RANKING_PREVIEW),
)
async def awards(code: str, session: SessionDep) -> dict[str, Any]:
    """An award whose project was disqualified or withdrew after the confirmation is `revoked` and marked for
    recovery; a recommended project that left is marked the same way."""
    run = await confirmed_run(session, code, ROUND)
    if run is None:
        raise ApiError(409, "awards_not_confirmed", "奖项尚未确认", "the awards are not confirmed yet")
    revoked = await ended(session, [a["project_id"] for a in run.result["awards"]])
    listed = [
        a | {"state": "revoked" if a["project_id"] in revoked else "awarded", "recovery": a["project_id"] in revoked}
        for a in run.result["awards"]
    ]
    recommendations = run.result["recommendations"]
    return {
        "run_id": run.id,
        "awards": listed,
        "vacancies": run.result["vacancies"],
        "recommendations": recommendations | {"revoked": [p for p in recommendations["projects"] if p in revoked]},
    }
