"""Materials and the fixed parts of a project: the application's versions, completeness, name, problem,
representatives."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import delete, select
from temporalio.service import RPCError

from api.audit_trail import audit
from api.auth import PrincipalDep, authorize_project, guard
from api.deps import CipherDep, SessionDep, TemporalDep
from api.errors import ApiError
from api.materials import (
    add_application_version,
    latest_application,
    lock_materials,
    materials_state,
    tell_workflow,
)
from api.registration import representative
from api.routes.attachments import AttachmentOut, attachment_out
from api.schemas import ApplicationIn, RepresentativeIn, RepresentativeOut, Strict, Title
from api.temporal_errors import temporal_call
from checks.facts import representatives_elsewhere
from db import models
from domain.eligibility import problem_change, project_rename, representatives_change
from domain.roles import Action
from workflows.contracts import SupplementRequest
from workflows.project import ProjectWorkflow

router = APIRouter(tags=["materials"])


class ApplicationOut(BaseModel):
    """One version of the application."""

    version: int
    sections: dict[str, Any]
    submitted_by: str
    submitted_at: datetime


class MaterialsOut(BaseModel):
    """Everything submitted, and whether it is complete."""

    complete: bool
    missing: list[str]
    application: ApplicationOut | None
    attachments: list[AttachmentOut]


class ProjectChange(Strict):
    """What a team might try to change; the notice fixes both."""

    name: Title | None = None
    problem_code: str | None = None


class RepresentativesIn(Strict):
    """The full new list of representatives."""

    representatives: list[RepresentativeIn]


def _application_out(version: models.ApplicationVersion) -> ApplicationOut:
    return ApplicationOut(
        version=version.version,
        sections=version.sections,
        submitted_by=version.submitted_by,
        submitted_at=version.submitted_at,
    )


@router.put(
    "/projects/{project_id}/application",
    response_model=ApplicationOut,
    summary="Submit a new version of the application (项目申报书)",
    **guard(Action.MATERIALS_EDIT),
)
async def submit_application(
    project_id: str,
    body: ApplicationIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    client: TemporalDep,
) -> ApplicationOut:
    """Every submission is a new version; earlier versions stay."""
    project = await authorize_project(session, principal, Action.MATERIALS_EDIT, project_id)
    await lock_materials(session, project.id)
    version = await add_application_version(session, project.id, body.model_dump(), principal.username)
    await audit(session, request, "application.submitted", "project", project.id, version=version.version)
    state = await materials_state(session, project)
    await session.commit()
    await tell_workflow(client, project.id, state)
    return _application_out(version)


@router.get(
    "/projects/{project_id}/materials",
    response_model=MaterialsOut,
    summary="The latest application, every attachment, and what is missing",
    **guard(Action.PROJECT_READ),
)
async def materials(project_id: str, session: SessionDep, principal: PrincipalDep) -> MaterialsOut:
    """Completeness as the registration stage judges it."""
    project = await authorize_project(session, principal, Action.PROJECT_READ, project_id)
    state = await materials_state(session, project)
    latest = await latest_application(session, project.id)
    files = await session.scalars(
        select(models.Attachment).where(models.Attachment.project_id == project.id).order_by(models.Attachment.id)
    )
    return MaterialsOut(
        complete=state.complete,
        missing=state.missing,
        application=_application_out(latest) if latest else None,
        attachments=[attachment_out(a) for a in files.all()],
    )


@router.patch(
    "/projects/{project_id}",
    summary="Change the project's name or problem (the notice fixes both)",
    **guard(Action.MATERIALS_EDIT),
)
async def change_project(
    project_id: str, body: ProjectChange, session: SessionDep, principal: PrincipalDep
) -> dict[str, str]:
    """Refused with `name_locked` or `problem_locked`; asking for what already is changes nothing."""
    project = await authorize_project(session, principal, Action.MATERIALS_EDIT, project_id)
    for wanted, current, violation in (
        (body.name, project.name, project_rename()),
        (body.problem_code, project.problem_code, problem_change()),
    ):
        if wanted is not None and wanted != current:
            raise ApiError(409, violation.code, violation.zh, violation.en, clause=violation.clause)
    return {"id": project.id, "name": project.name, "problem_code": project.problem_code}


@router.put(
    "/projects/{project_id}/representatives",
    response_model=list[RepresentativeOut],
    summary="Replace the representatives (until the registration deadline)",
    **guard(Action.MATERIALS_EDIT),
)
async def replace_representatives(
    project_id: str,
    body: RepresentativesIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
) -> list[RepresentativeOut]:
    """Locked from the deadline on; the same limits and one-team-per-person rule as at registration."""
    project = await authorize_project(session, principal, Action.MATERIALS_EDIT, project_id)
    team = await session.get(models.Team, project.team_id)
    competition = await session.get(models.Competition, project.competition_code)
    assert team is not None and competition is not None
    locked = representatives_change(team.representatives_locked_at is not None)
    if locked is not None:
        raise ApiError(409, locked.code, locked.zh, locked.en, clause=locked.clause)
    limit = int(competition.catalog["eligibility"]["max_representatives"])
    if len(body.representatives) > limit:
        raise ApiError(
            422,
            "too_many_representatives",
            f"每个团队的参赛代表不超过 {limit} 人（通知五(一)2）",
            f"a team has at most {limit} representatives (notice 五(一)2)",
        )
    elsewhere = await representatives_elsewhere(
        session, competition.edition, [cipher.blind_index(r.id_number) for r in body.representatives], team.id
    )
    if elsewhere:
        raise ApiError(
            422,
            "representative_elsewhere",
            f"参赛代表 {'、'.join(elsewhere)} 已代表其他团队参赛（通知五(一)2）",
            f"representatives {', '.join(elsewhere)} already represent another team (notice 五(一)2)",
        )
    await session.execute(delete(models.Representative).where(models.Representative.team_id == team.id))
    rows = [representative(team.id, r, cipher) for r in body.representatives]
    session.add_all(rows)
    await session.flush()
    await audit(session, request, "representatives.replaced", "project", project.id, count=len(rows))
    await session.commit()
    return [
        RepresentativeOut(id=r.id, name=r.name, email=r.email, id_number=r.id_number_masked, phone=r.phone_masked)
        for r in rows
    ]


class SupplementIn(Strict):
    """What to supplement, and by when."""

    items: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=20
    )
    due_at: datetime


class SupplementOut(BaseModel):
    """A supplement request and where it stands."""

    request_id: int
    items: list[str]
    due_at: datetime
    state: str


@router.post(
    "/projects/{project_id}/supplements",
    status_code=201,
    response_model=SupplementOut,
    summary="Ask the team for supplementary materials by a due date",
    **guard(Action.SUPPLEMENT_REQUEST),
)
async def request_supplement(
    project_id: str,
    body: SupplementIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    client: TemporalDep,
) -> SupplementOut:
    """Stored, then handed to the project's workflow, which mails the team and watches the due date."""
    project = await authorize_project(session, principal, Action.SUPPLEMENT_REQUEST, project_id)
    if body.due_at.tzinfo is None:
        raise ApiError(422, "timezone_required", "时间必须带时区（例如 +08:00）", "times must carry a UTC offset")
    if body.due_at <= datetime.now(UTC):
        raise ApiError(409, "due_in_past", "补充材料的截止时间必须晚于现在", "the due date must be in the future")
    row = models.SupplementRequest(
        project_id=project.id, items=body.items, due_at=body.due_at.astimezone(UTC), requested_by=principal.username
    )
    session.add(row)
    await session.flush()
    await audit(
        session,
        request,
        "supplement.requested",
        "project",
        project.id,
        request_id=row.id,
        items=body.items,
        due_at=row.due_at.isoformat(),
    )
    await session.commit()  # never hold a write lock while the workflow's activities write
    closed = ApiError(409, "project_closed", "项目已结束", "the project has ended")
    async with temporal_call(closed):
        status = await client.get_workflow_handle_for(ProjectWorkflow.run, project.id).execute_update(
            ProjectWorkflow.request_supplement, SupplementRequest(row.id, body.items, row.due_at, principal.username)
        )
    return SupplementOut(request_id=status.request_id, items=status.items, due_at=status.due_at, state=status.state)


@router.post(
    "/projects/{project_id}/supplements/{request_id}/fulfil",
    response_model=SupplementOut,
    summary="Confirm the supplementary materials are submitted",
    **guard(Action.MATERIALS_EDIT),
)
async def fulfil_supplement(
    project_id: str,
    request_id: int,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    client: TemporalDep,
) -> SupplementOut:
    """Marks the request fulfilled and tells the workflow, which stops watching its due date."""
    project = await authorize_project(session, principal, Action.MATERIALS_EDIT, project_id)
    row = await session.get(models.SupplementRequest, request_id)
    if row is None or row.project_id != project.id:
        raise ApiError(404, "supplement_not_found", "没有这个补充请求", f"no supplement request {request_id}")
    if row.fulfilled_at is None:
        row.fulfilled_at = datetime.now(UTC)
        await audit(session, request, "supplement.fulfilled", "project", project.id, request_id=row.id)
        await session.commit()
        with suppress(RPCError):
            await client.get_workflow_handle_for(ProjectWorkflow.run, project.id).signal(
                ProjectWorkflow.supplement_fulfilled, row.id
            )
    return SupplementOut(request_id=row.id, items=list(row.items), due_at=row.due_at, state="fulfilled")
