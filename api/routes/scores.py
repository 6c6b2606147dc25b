"""First-round scores: an assigned judge submits a rubric sheet (a validated workflow update); judges read only
their own sheets, organisers all, teams none."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field, StringConstraints

from api.audit_trail import audit_once
from api.auth import PrincipalDep, authorize_project, guard
from api.deps import SessionDep, TemporalDep
from api.errors import ApiError
from api.schemas import Strict
from api.temporal_errors import temporal_call
from domain.roles import Action, Role
from workflows.contracts import ScoreRecord, ScoreSubmission
from workflows.project import ProjectWorkflow

router = APIRouter(tags=["scores"])


class ScoreIn(Strict):
    """One value per rubric dimension, and a comment."""

    values: dict[Annotated[str, StringConstraints(max_length=64)], float] = Field(max_length=20)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""


class ScoreOut(BaseModel):
    """A sheet as kept; `judge` is shown to organisers only."""

    judge: str | None
    version: int
    values: dict[str, float]
    total: float
    comment: str
    submitted_at: datetime


def _out(record: ScoreRecord, show_judge: bool) -> ScoreOut:
    return ScoreOut(
        judge=record.judge if show_judge else None,
        version=record.version,
        values=record.values,
        total=record.total,
        comment=record.comment,
        submitted_at=record.submitted_at,
    )


@router.post(
    "/projects/{project_id}/scores",
    response_model=ScoreOut,
    summary="Submit or amend your score sheet",
    **guard(Action.SCORE_SUBMIT),
)
async def submit(
    project_id: str,
    body: ScoreIn,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ScoreOut:
    """The workflow's validator refuses a judge not assigned, a closed round, or an incomplete sheet."""
    await authorize_project(session, principal, Action.SCORE_SUBMIT, project_id)
    closed = ApiError(409, "project_closed", "项目已结束", "the project has ended")
    async with temporal_call(closed):
        record = await client.get_workflow_handle_for(ProjectWorkflow.run, project_id).execute_update(
            ProjectWorkflow.submit_score,
            ScoreSubmission(str(principal.account_id), body.values, body.comment),
            id=f"score-{idempotency_key}" if idempotency_key else None,
        )
    await audit_once(
        session,
        request,
        idempotency_key,
        "score.submitted",
        "project",
        project_id,
        version=record.version,
        total=record.total,
    )
    await session.commit()
    return _out(record, show_judge=False)


@router.get(
    "/projects/{project_id}/scores",
    response_model=list[ScoreOut],
    summary="Score sheets you may see",
    **guard(Action.SCORE_READ),
)
async def read(project_id: str, session: SessionDep, client: TemporalDep, principal: PrincipalDep) -> list[ScoreOut]:
    """A judge sees their own versions only; judges never learn each other's identities."""
    await authorize_project(session, principal, Action.SCORE_READ, project_id)
    async with temporal_call(ApiError(404, "project_not_found", "没有该项目", "no such project")):
        records = await client.get_workflow_handle_for(ProjectWorkflow.run, project_id).query(ProjectWorkflow.scores)
    if principal.role is Role.JUDGE:
        return [_out(r, False) for r in records if r.judge == str(principal.account_id)]
    return [_out(r, True) for r in records]
