"""Technical verification of a finalist: the organiser's choice of method, the team's signed pledge, the verifier's
report with a verdict per aspect, the team's remediation, and the view of it all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request, UploadFile
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select

from api.audit_trail import audit
from api.auth import PrincipalDep, authorize_project, guard
from api.deps import SessionDep, SettingsDep, StoreDep, TemporalDep
from api.errors import ApiError
from api.receive_upload import receive_upload
from api.schemas import Strict
from api.temporal_errors import temporal_call
from db import models
from domain.roles import Action, Role
from workflows.project import ProjectWorkflow
from workflows.stage_contracts import (
    FiledReport,
    PledgeReceived,
    RemediationDone,
    VerificationPlan,
    VerificationReport,
    VerificationView,
)

router = APIRouter(tags=["technical verification"])
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
CLOSED = ApiError(409, "project_closed", "项目已结束", "the project has ended")


class PlanIn(Strict):
    """A written pledge, or an on-site visit by a verifier account at a time inside the stage."""

    method: Literal["pledge", "on_site"]
    verifier: str = Field("", max_length=254, description="Username of a verifier account (on-site visits)")
    visit_at: datetime | None = None


class ReportIn(Strict):
    """A verdict (pass, conditional, fail) on compliance, authenticity, legality and ip; findings; a due date for
    a conditional verdict's remediation."""

    verdicts: dict[str, str] = Field(max_length=8)
    findings: Text = ""
    remediation_due: datetime | None = None


class RemediationIn(Strict):
    """What the team changed after a conditional verdict."""

    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class ReportOut(BaseModel):
    """A filed report."""

    verdicts: dict[str, str]
    overall: str
    findings: str
    actor: str
    filed_at: datetime
    remediation_due: datetime | None


class VerificationOut(BaseModel):
    """The verification as its project's workflow holds it."""

    project_id: str
    phase: str
    method: str | None
    verifier: str
    visit_at: datetime | None
    pledge: dict[str, str] | None
    reports: list[ReportOut]
    remediation: str | None


def _report(filed: FiledReport) -> ReportOut:
    return ReportOut(**{k: getattr(filed, k) for k in ReportOut.model_fields})


def _out(project_id: str, view: VerificationView) -> VerificationOut:
    return VerificationOut(
        project_id=project_id,
        phase=view.phase,
        method=view.method,
        verifier=view.verifier,
        visit_at=view.visit_at,
        pledge={"sha256": view.pledge.sha256, "filename": view.pledge.filename} if view.pledge else None,
        reports=[_report(r) for r in view.reports],
        remediation=view.remediation.note if view.remediation else None,
    )


def _aware(at: datetime | None) -> datetime | None:
    """Times without a zone are read as UTC, like every time the API takes."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


async def _verifier(session: SessionDep, username: str) -> models.Account:
    account = await session.scalar(select(models.Account).where(models.Account.username == username))
    if account is None or account.role != Role.VERIFIER.value or not account.active:
        raise ApiError(
            422, "unknown_verifier", f"没有名为「{username}」的验证人员账号", f"no active verifier account '{username}'"
        )
    return account


@router.post(
    "/projects/{project_id}/verification/plan",
    response_model=VerificationOut,
    summary="Choose how a finalist is verified: written pledge or on-site visit",
    **guard(Action.VERIFICATION_PLAN),
)
async def plan(
    project_id: str, body: PlanIn, request: Request, session: SessionDep, principal: PrincipalDep, client: TemporalDep
) -> VerificationOut:
    """The team is mailed the method (and a visit's time); a verifier is mailed the visit and may then see the
    project and file the report."""
    project = await authorize_project(session, principal, Action.VERIFICATION_PLAN, project_id)
    verifier = await _verifier(session, body.verifier) if body.method == "on_site" else None
    chosen = VerificationPlan(
        body.method,
        principal.username,
        verifier.username if verifier else "",
        verifier.email if verifier else "",
        _aware(body.visit_at),
    )
    verifier_id = verifier.id if verifier else None
    await session.commit()
    async with temporal_call(CLOSED):
        view = await client.get_workflow_handle_for(ProjectWorkflow.run, project.id).execute_update(
            ProjectWorkflow.plan_verification, chosen
        )
    if verifier_id is not None:
        exists = await session.scalar(
            select(models.Assignment.id).where(
                models.Assignment.project_id == project_id,
                models.Assignment.account_id == verifier_id,
                models.Assignment.kind == Role.VERIFIER.value,
            )
        )
        if exists is None:
            session.add(models.Assignment(project_id=project_id, account_id=verifier_id, kind=Role.VERIFIER.value))
    await audit(session, request, "verification.planned", "project", project_id, method=body.method)
    await session.commit()
    return _out(project_id, view)


@router.post(
    "/projects/{project_id}/verification/pledge",
    response_model=VerificationOut,
    summary="Upload the team's signed pledge (PDF or image)",
    **guard(Action.VERIFICATION_PLEDGE),
)
async def pledge(
    project_id: str,
    file: UploadFile,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    client: TemporalDep,
    store: StoreDep,
    settings: SettingsDep,
) -> VerificationOut:
    """Kept as the project's `pledge` attachment; the organiser then reviews it and files the verdict."""
    project = await authorize_project(session, principal, Action.VERIFICATION_PLEDGE, project_id)
    received = await receive_upload(file, store, settings.upload_limits())
    await session.commit()
    async with temporal_call(CLOSED):
        view = await client.get_workflow_handle_for(ProjectWorkflow.run, project.id).execute_update(
            ProjectWorkflow.receive_pledge, PledgeReceived(received.sha256, received.name, principal.username)
        )
    session.add(
        models.Attachment(
            project_id=project_id,
            display_name=received.name,
            extension=received.extension,
            kind=received.kind,
            sha256=received.sha256,
            category="pledge",
            size=received.size,
            uploaded_by=principal.username,
        )
    )
    await audit(session, request, "verification.pledge", "project", project_id, sha256=received.sha256)
    await session.commit()
    return _out(project_id, view)


@router.post(
    "/projects/{project_id}/verification/report",
    response_model=ReportOut,
    status_code=201,
    summary="File a verification report: a verdict per aspect, findings, remediation due date",
    **guard(Action.VERIFICATION_REPORT),
)
async def report(
    project_id: str,
    body: ReportIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    client: TemporalDep,
) -> ReportOut:
    """Pass sends the project to the first public notice; fail disqualifies it; conditional waits for the team's
    remediation and a re-check (every problem with the report is named in the error)."""
    project = await authorize_project(session, principal, Action.VERIFICATION_REPORT, project_id)
    filed_report = VerificationReport(body.verdicts, body.findings, principal.username, _aware(body.remediation_due))
    await session.commit()
    async with temporal_call(CLOSED):
        filed = await client.get_workflow_handle_for(ProjectWorkflow.run, project.id).execute_update(
            ProjectWorkflow.file_verification_report, filed_report
        )
    await audit(session, request, "verification.reported", "project", project_id, overall=filed.overall)
    await session.commit()
    return _report(filed)


@router.post(
    "/projects/{project_id}/verification/remediation",
    response_model=VerificationOut,
    summary="Report a conditional verdict's remediation done",
    **guard(Action.VERIFICATION_REMEDIATE),
)
async def remediation(
    project_id: str,
    body: RemediationIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    client: TemporalDep,
) -> VerificationOut:
    """The verifier re-checks and files a new report."""
    project = await authorize_project(session, principal, Action.VERIFICATION_REMEDIATE, project_id)
    await session.commit()
    async with temporal_call(CLOSED):
        view = await client.get_workflow_handle_for(ProjectWorkflow.run, project.id).execute_update(
            ProjectWorkflow.submit_remediation, RemediationDone(body.note, principal.username)
        )
    await audit(session, request, "verification.remediated", "project", project_id)
    await session.commit()
    return _out(project_id, view)


@router.get(
    "/projects/{project_id}/verification",
    response_model=VerificationOut,
    summary="The project's technical verification",
    **guard(Action.VERIFICATION_READ),
)
async def read(project_id: str, session: SessionDep, principal: PrincipalDep, client: TemporalDep) -> VerificationOut:
    """Method, verifier, pledge, reports and remediation as they stand."""
    project = await authorize_project(session, principal, Action.VERIFICATION_READ, project_id)
    await session.commit()
    async with temporal_call(CLOSED):
        view = await client.get_workflow_handle_for(ProjectWorkflow.run, project.id).query(ProjectWorkflow.verification)
    return _out(project_id, view)
