"""Projects: register one (starts its workflow), read its status, send a stage decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, status
from sqlalchemy import select
from temporalio.client import WorkflowHandle

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import ApiError, project_not_found
from api.registration import check_entry, start_project_workflow, store_entry
from api.schemas import DecisionIn, DecisionOut, DecisionRecordOut, ProjectEventOut, ProjectOut, ProjectRegister
from api.temporal_errors import temporal_call
from api.views import windows_out
from db import models
from domain.stages import Stage, rule_for
from workflows.contracts import DecisionRequest, ProjectResult
from workflows.project import ProjectWorkflow

router = APIRouter(tags=["projects"])
IdempotencyKey = Annotated[str | None, Header(max_length=200, description="Repeat-safe key for this decision")]


def project_handle(client: TemporalDep, project_id: str) -> WorkflowHandle[ProjectWorkflow, ProjectResult]:
    """The typed handle of a project's workflow."""
    return client.get_workflow_handle_for(ProjectWorkflow.run, project_id)


@router.post(
    "/competitions/{code}/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectOut,
    summary="Register a team and its project; starts the project's workflow (role: team)",
)
async def register_project(
    code: str, body: ProjectRegister, session: SessionDep, client: TemporalDep, settings: SettingsDep
) -> ProjectOut:
    """Check the entry rules, store the registration, start the workflow, then commit."""
    entry = await check_entry(session, client, code, body)
    project, team = await store_entry(session, entry, body)
    await start_project_workflow(client, settings, entry, project, team)
    await session.commit()
    return await read_project(project.id, session, client)


@router.get(
    "/projects/{project_id}",
    response_model=ProjectOut,
    summary="A project's stage, dates and decisions (role: organiser, or the project's team)",
)
async def read_project(project_id: str, session: SessionDep, client: TemporalDep) -> ProjectOut:
    """The registration from the database, live state from the workflow, and the durable log."""
    project = await session.get(models.Project, project_id)
    if project is None:
        raise project_not_found(project_id)
    competition = await session.get(models.Competition, project.competition_code)
    team = await session.get(models.Team, project.team_id)
    assert competition is not None and team is not None
    async with temporal_call(project_not_found(project_id)):
        state = await project_handle(client, project_id).query(ProjectWorkflow.status)
    log = (
        await session.scalars(
            select(models.ProjectEvent)
            .where(models.ProjectEvent.project_id == project_id)
            .order_by(models.ProjectEvent.seq)
        )
    ).all()
    return ProjectOut(
        id=project.id,
        number=project.number,
        name=project.name,
        competition_code=project.competition_code,
        team_name=team.name,
        track_code=project.track_code,
        problem_code=project.problem_code,
        registered_at=project.registered_at,
        stage=state.stage,
        stage_name_zh=rule_for(Stage(state.stage)).name_zh,
        outcome=state.outcome,
        waiting_on=state.waiting_on,
        deadline=state.deadline,
        overdue=state.overdue,
        calendar=windows_out(state.calendar, competition.timezone),
        decisions=[
            DecisionRecordOut(
                stage=d.stage, decision=d.decision, actor=d.actor, reason=d.reason, decided_at=d.decided_at
            )
            for d in state.decisions
        ],
        log=[
            ProjectEventOut(
                seq=e.seq,
                kind=e.kind,
                stage=e.stage,
                decision=e.decision,
                actor=e.actor,
                reason=e.reason,
                occurred_at=e.occurred_at,
            )
            for e in log
        ],
    )


@router.post(
    "/projects/{project_id}/decisions",
    response_model=DecisionOut,
    summary="Decide on the project's current stage (role: organiser)",
)
async def decide(
    project_id: str,
    body: DecisionIn,
    session: SessionDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> DecisionOut:
    """Send the decision as a workflow update; its validator's rejection comes back as a 4xx."""
    if await session.get(models.Project, project_id) is None:
        raise project_not_found(project_id)
    request = DecisionRequest(body.stage, body.decision, body.actor, body.reason)
    # The project exists (checked above), so a workflow Temporal no longer finds running has ended.
    closed = ApiError(409, "project_closed", "项目已结束，不能再作决定", "the project has ended; no more decisions")
    async with temporal_call(closed):
        result = await project_handle(client, project_id).execute_update(
            ProjectWorkflow.decide, request, id=f"decision-{idempotency_key}" if idempotency_key else None
        )
    return DecisionOut(stage=result.stage, decision=result.decision, effect=result.effect, decided_at=result.decided_at)
