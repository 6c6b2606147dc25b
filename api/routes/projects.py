"""Projects: register one (starts its workflow), read its status, decide, representatives, assignments."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from temporalio.client import WorkflowHandle

from api.audit_trail import audit, audit_once
from api.auth import PrincipalDep, authorize_project, guard
from api.deps import CipherDep, IdempotencyKey, RegistryDep, SessionDep, SettingsDep, TemporalDep
from api.errors import ApiError
from api.materials import materials_state
from api.registration import as_started, check_entry, discard_workflow, start_project_workflow, store_entry
from api.schemas import (
    AssignmentIn,
    AssignmentOut,
    DecisionIn,
    DecisionOut,
    DecisionRecordOut,
    ProjectEventOut,
    ProjectOut,
    ProjectRegister,
    RepresentativeOut,
    RevealIn,
)
from api.temporal_errors import temporal_call
from api.views import windows_out
from db import models
from domain.roles import Action, Role
from domain.stages import Stage, rule_for
from workflows.contracts import DecisionRequest, ProjectResult, ProjectStatus
from workflows.project import ProjectWorkflow

router = APIRouter(tags=["projects"])
HIDDEN_ACTOR = "组委会 committee"


def project_handle(client: TemporalDep, project_id: str) -> WorkflowHandle[ProjectWorkflow, ProjectResult]:
    """The typed handle of a project's workflow."""
    return client.get_workflow_handle_for(ProjectWorkflow.run, project_id)


@router.post(
    "/competitions/{code}/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectOut,
    summary="Register a team and its project; starts the project's workflow",
    **guard(Action.PROJECT_REGISTER),
)
async def register_project(
    code: str,
    body: ProjectRegister,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    cipher: CipherDep,
    registry: RegistryDep,
) -> ProjectOut:
    """Check the entry rules, store the registration (the contact's account included), start the workflow."""
    entry = await check_entry(session, client, registry, cipher, code, body)
    project, team = await store_entry(session, entry, body, cipher)
    materials = await materials_state(session, project)
    try:
        await start_project_workflow(client, settings, entry, project, team, materials, body.team.lead_unit.is_sme)
        # The audit chain's head is one row every recorded act takes in turn: taken only now, just before the
        # commit, so no other act (a mail marked sent, a score) waits on this registration's call to Temporal.
        await audit(
            session,
            request,
            "project.registered",
            "project",
            project.id,
            team=team.name,
            problem=project.problem_code,
            representatives=len(body.team.representatives),
        )
        await session.commit()
    except BaseException:
        await discard_workflow(client, project.id)  # a run whose registration was not stored belongs to no one
        raise
    # The reply is the state the run starts in, not a query of the new run: the query cost the worker a workflow task
    # and the API a tenth of its CPU per registration, and a late read must not send the team to register twice.
    return await _project_out(project, session, client, Role.TEAM, as_started(entry, project.id, materials))


@router.get(
    "/projects/{project_id}",
    response_model=ProjectOut,
    summary="A project's stage, dates and decisions",
    **guard(Action.PROJECT_READ),
)
async def read_project(
    project_id: str, session: SessionDep, client: TemporalDep, principal: PrincipalDep
) -> ProjectOut:
    """The registration from the database, live state from the workflow, and the durable log."""
    project = await authorize_project(session, principal, Action.PROJECT_READ, project_id)
    return await _project_out(project, session, client, principal.role)


async def _project_out(
    project: models.Project,
    session: SessionDep,
    client: TemporalDep,
    role: Role,
    state: ProjectStatus | None = None,
) -> ProjectOut:
    competition = await session.get(models.Competition, project.competition_code)
    team = await session.get(models.Team, project.team_id)
    assert competition is not None and team is not None
    if state is None:
        async with temporal_call(
            ApiError(503, "workflow_missing", "项目工作流暂不可读", "the project's workflow is missing")
        ):
            state = await project_handle(client, project.id).query(ProjectWorkflow.status)
    log = (
        await session.scalars(
            select(models.ProjectEvent)
            .where(models.ProjectEvent.project_id == project.id)
            .order_by(models.ProjectEvent.seq)
        )
    ).all()

    def shown(actor: str | None) -> str | None:
        return HIDDEN_ACTOR if actor and role is Role.TEAM else actor  # teams never learn who decided

    return ProjectOut(
        materials_complete=state.materials.complete,
        missing_materials=list(state.materials.missing),
        violations=[
            {"code": v.code, "clause": v.clause, "message_zh": v.zh, "message_en": v.en} for v in state.violations
        ],
        supplements=[
            {"request_id": x.request_id, "items": x.items, "due_at": x.due_at.isoformat(), "state": x.state}
            for x in state.supplements
        ],
        review_phase=state.review_phase,
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
                stage=d.stage, decision=d.decision, actor=shown(d.actor) or "", reason=d.reason, decided_at=d.decided_at
            )
            for d in state.decisions
        ],
        log=[
            ProjectEventOut(
                seq=e.seq,
                kind=e.kind,
                stage=e.stage,
                decision=e.decision,
                actor=shown(e.actor),
                reason=e.reason,
                occurred_at=e.occurred_at,
            )
            for e in log
        ],
    )


@router.post(
    "/projects/{project_id}/decisions",
    response_model=DecisionOut,
    summary="Decide on the project's current stage",
    **guard(Action.PROJECT_DECIDE),
)
async def decide(
    project_id: str,
    body: DecisionIn,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> DecisionOut:
    """Send the decision as a workflow update; its validator's rejection comes back as a 4xx."""
    await authorize_project(session, principal, Action.PROJECT_DECIDE, project_id)
    decision = DecisionRequest(body.stage, body.decision, principal.username, body.reason)
    # The project exists (checked above), so a workflow Temporal no longer finds running has ended.
    closed = ApiError(409, "project_closed", "项目已结束，不能再作决定", "the project has ended; no more decisions")
    async with temporal_call(closed):
        result = await project_handle(client, project_id).execute_update(
            ProjectWorkflow.decide, decision, id=f"decision-{idempotency_key}" if idempotency_key else None
        )
    await audit_once(
        session,
        request,
        idempotency_key,
        "project.decided",
        "project",
        project_id,
        stage=result.stage,
        decision=result.decision,
        effect=result.effect,
        reason=body.reason,
    )
    await session.commit()
    return DecisionOut(stage=result.stage, decision=result.decision, effect=result.effect, decided_at=result.decided_at)


@router.get(
    "/projects/{project_id}/representatives",
    response_model=list[RepresentativeOut],
    summary="The team's representatives, ID and phone masked",
    **guard(Action.REPRESENTATIVES_READ),
)
async def representatives(project_id: str, session: SessionDep, principal: PrincipalDep) -> list[RepresentativeOut]:
    """Masked as `2101**********1234` and `138****5678`."""
    project = await authorize_project(session, principal, Action.REPRESENTATIVES_READ, project_id)
    rows = await session.scalars(
        select(models.Representative)
        .where(models.Representative.team_id == project.team_id)
        .order_by(models.Representative.id)
    )
    return [
        RepresentativeOut(id=r.id, name=r.name, email=r.email, id_number=r.id_number_masked, phone=r.phone_masked)
        for r in rows.all()
    ]


@router.post(
    "/projects/{project_id}/representatives/reveal",
    response_model=list[RepresentativeOut],
    summary="The representatives' personal data in clear, with a logged reason",
    **guard(Action.PERSONAL_DATA_REVEAL),
)
async def reveal(
    project_id: str, body: RevealIn, request: Request, session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> list[RepresentativeOut]:
    """Decrypts ID and phone numbers; the reason and the caller go into the audit trail first."""
    project = await authorize_project(session, principal, Action.PERSONAL_DATA_REVEAL, project_id)
    rows = (
        await session.scalars(
            select(models.Representative)
            .where(models.Representative.team_id == project.team_id)
            .order_by(models.Representative.id)
        )
    ).all()
    await audit(
        session,
        request,
        "personal_data.revealed",
        "project",
        project_id,
        reason=body.reason,
        representatives=[r.id for r in rows],
    )
    await session.commit()
    return [
        RepresentativeOut(
            id=r.id,
            name=r.name,
            email=r.email,
            id_number=cipher.decrypt(r.id_number_encrypted),
            phone=cipher.decrypt(r.phone_encrypted),
        )
        for r in rows
    ]


@router.post(
    "/projects/{project_id}/assignments",
    status_code=status.HTTP_201_CREATED,
    response_model=AssignmentOut,
    summary="Assign a judge or verifier to the project",
    **guard(Action.ASSIGNMENT_CREATE),
)
async def assign(
    project_id: str, body: AssignmentIn, request: Request, session: SessionDep, principal: PrincipalDep
) -> AssignmentOut:
    """The account's role (judge or verifier) is the kind of assignment; it lets them see the project."""
    await authorize_project(session, principal, Action.ASSIGNMENT_CREATE, project_id)
    account = await session.get(models.Account, body.account_id)
    if account is None or account.role not in (Role.JUDGE.value, Role.VERIFIER.value):
        raise ApiError(422, "not_assignable", "只能分配评审专家或核查人员", "only judges and verifiers can be assigned")
    session.add(models.Assignment(project_id=project_id, account_id=account.id, kind=account.role))
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ApiError(409, "already_assigned", "已分配", "already assigned") from exc
    await audit(session, request, "assignment.created", "project", project_id, account_id=account.id, kind=account.role)
    await session.commit()
    return AssignmentOut(project_id=project_id, account_id=account.id, kind=account.role)
