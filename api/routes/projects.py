"""Projects: register one (starts its workflow), read its status, send a stage decision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from temporalio.client import WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import ApiError
from api.routes.competitions import competition_handle, competition_not_found
from api.schemas import (
    DecisionIn,
    DecisionOut,
    DecisionRecordOut,
    ProjectEventOut,
    ProjectOut,
    ProjectRegister,
)
from api.temporal_errors import temporal_call
from api.views import utc_offset_minutes, windows_out
from db import models
from domain.calendar import window_of
from domain.stages import Stage, rule_for
from workflows import presentation
from workflows import search_attributes as sa
from workflows.competition import CompetitionWorkflow
from workflows.contracts import DecisionRequest, ProjectResult, ProjectStart
from workflows.project import ProjectWorkflow

router = APIRouter(tags=["projects"])
IdempotencyKey = Annotated[str | None, Header(max_length=200, description="Repeat-safe key for this decision")]


def project_id_for(competition_code: str, number: int) -> str:
    """The readable project and workflow id, e.g. `ln-2025-P00042`."""
    return f"{competition_code}-P{number:05d}"


def project_not_found(project_id: str) -> ApiError:
    """The 404 for an unknown project."""
    return ApiError(404, "project_not_found", f"没有编号为 {project_id} 的项目", f"no project '{project_id}'")


def project_handle(client: TemporalDep, project_id: str) -> WorkflowHandle[ProjectWorkflow, ProjectResult]:
    """The typed handle of a project's workflow."""
    return client.get_workflow_handle_for(ProjectWorkflow.run, project_id)


async def _unit(session: SessionDep, body: ProjectRegister) -> models.Unit:
    lead = body.team.lead_unit
    unit = await session.scalar(select(models.Unit).where(models.Unit.credit_code == lead.credit_code))
    if unit is None:
        unit = models.Unit(credit_code=lead.credit_code, name=lead.name, kind=lead.kind.value, is_sme=lead.is_sme)
        session.add(unit)
        await session.flush()
    return unit


@router.post(
    "/competitions/{code}/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectOut,
    summary="Register a team and its project; starts the project's workflow (role: team)",
)
async def register_project(
    code: str, body: ProjectRegister, session: SessionDep, client: TemporalDep, settings: SettingsDep
) -> ProjectOut:
    """Check the window and the basic rules, store the registration, start the workflow."""
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    problem = await session.scalar(
        select(models.Problem).where(models.Problem.competition_code == code, models.Problem.code == body.problem_code)
    )
    if problem is None:
        raise ApiError(
            422,
            "unknown_problem",
            f"赛题 {body.problem_code} 不属于本赛事",
            f"problem '{body.problem_code}' is not in this competition",
        )
    limit = int(competition.catalog["eligibility"]["max_representatives"])
    if len(body.team.representatives) > limit:
        raise ApiError(
            422,
            "too_many_representatives",
            f"每个团队的参赛代表不超过 {limit} 人",
            f"a team has at most {limit} representatives",
        )
    async with temporal_call(competition_not_found(code)):
        view = await competition_handle(client, code).query(CompetitionWorkflow.calendar)
    now = datetime.now(UTC)
    registration = window_of(view.windows, Stage.REGISTRATION)
    if not registration.opens_at <= now < registration.closes_at:
        raise ApiError(
            409,
            "registration_closed",
            "当前不在报名时间内",
            "registration is not open now",
            opens_at=registration.opens_at.isoformat(),
            closes_at=registration.closes_at.isoformat(),
        )
    if await session.scalar(
        select(models.Team.id).where(models.Team.competition_code == code, models.Team.name == body.team.name)
    ):
        raise ApiError(
            409,
            "team_exists",
            f"团队名称「{body.team.name}」已被使用",
            f"team name '{body.team.name}' is taken in this competition",
        )
    track = await session.scalar(
        select(models.Track).where(models.Track.competition_code == code, models.Track.code == problem.track_code)
    )
    assert track is not None
    unit = await _unit(session, body)
    team = models.Team(
        competition_code=code,
        name=body.team.name,
        lead_unit_id=unit.id,
        contact_name=body.team.contact_name,
        contact_email=str(body.team.contact_email),
    )
    session.add(team)
    await session.flush()
    session.add_all(
        [models.Representative(team_id=team.id, name=r.name, email=str(r.email)) for r in body.team.representatives]
    )
    number = (
        await session.scalar(select(func.max(models.Project.number)).where(models.Project.competition_code == code))
        or 0
    ) + 1
    project = models.Project(
        id=project_id_for(code, number),
        competition_code=code,
        number=number,
        name=body.project_name,
        team_id=team.id,
        track_code=track.code,
        problem_code=problem.code,
        registered_at=now,
    )
    session.add(project)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ApiError(
            409,
            "registration_conflict",
            "报名冲突，请重试",
            "another registration took this number at the same moment; retry",
        ) from exc
    start = ProjectStart(
        project_id=project.id,
        competition_code=code,
        competition_name=competition.name,
        project_name=project.name,
        team_name=team.name,
        track_code=track.code,
        track_name=track.name,
        problem_code=problem.code,
        problem_title=problem.title,
        contact_name=team.contact_name,
        contact_email=team.contact_email,
        calendar=view.windows,
        calendar_revision=view.revision,
        display_utc_offset_minutes=utc_offset_minutes(competition.timezone, now),
    )
    async with temporal_call(competition_not_found(code)):
        await client.start_workflow(
            ProjectWorkflow.run,
            start,
            id=project.id,
            task_queue=settings.temporal_task_queue,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.COMPETITION, code),
                    SearchAttributePair(sa.STAGE, Stage.REGISTRATION.value),
                    SearchAttributePair(sa.TRACK, track.code),
                    SearchAttributePair(sa.PROBLEM, problem.code),
                ]
            ),
            static_summary=presentation.project_summary(project.name, track.name, problem.code),
            static_details=presentation.project_details(
                project.id, project.name, team.name, track.name, problem.code, problem.title, competition.name
            ),
        )
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
    async with temporal_call(project_not_found(project_id)):
        result = await project_handle(client, project_id).execute_update(
            ProjectWorkflow.decide, request, id=f"decision-{idempotency_key}" if idempotency_key else None
        )
    return DecisionOut(stage=result.stage, decision=result.decision, effect=result.effect, decided_at=result.decided_at)
