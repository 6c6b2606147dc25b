"""The mail log: every mail the outbox holds, filtered by state, workflow or milestone, and an organiser's resend of a
failed one (run by a worker as `MailResendWorkflow`: the API never sends mail itself)."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel
from sqlalchemy import func, select
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.audit_trail import audit
from api.auth import guard
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import ApiError
from api.temporal_errors import temporal_call
from db.outbox import Mail
from domain.roles import Action
from workflows.mail_resend import MailResendWorkflow, resend_workflow_id

router = APIRouter(prefix="/mails", tags=["organisers"])
MailStatus = Literal["queued", "sending", "sent", "failed", "uncertain"]


class MailOut(BaseModel):
    """One outbox row as organisers see it."""

    id: int
    workflow_id: str
    milestone: str
    recipient: str
    subject: str
    status: str
    attempts: int
    resent: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    sending_since: datetime | None = None  # an attempt's claim; `sending` long after it means the attempt died


class MailPage(BaseModel):
    """A page of the log, and how many rows match the filter in all."""

    total: int
    mails: list[MailOut]


class ResendOut(BaseModel):
    """The resend that was started (or was already running), to follow in the Temporal UI."""

    mail_id: int
    workflow_id: str
    status: str


def _not_found(mail_id: int) -> ApiError:
    return ApiError(404, "mail_not_found", f"邮件 {mail_id} 不存在", f"mail {mail_id} does not exist")


@router.get("", response_model=MailPage, summary="The mail log, newest first", **guard(Action.MAIL_READ))
async def mail_log(
    session: SessionDep,
    state: Annotated[MailStatus | None, Query(alias="status")] = None,
    workflow_id: Annotated[str | None, Query(max_length=100, description="Prefix, e.g. a competition code")] = None,
    milestone: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> MailPage:
    """Failed and uncertain mails are what organisers look for: `?status=failed`, `?status=uncertain` (the
    connection broke after the server was handed the mail and it cannot be asked: resend if the team says so)."""
    query = select(Mail)
    if state is not None:
        query = query.where(Mail.status == state)
    if workflow_id:
        query = query.where(Mail.workflow_id.startswith(workflow_id, autoescape=True))
    if milestone:
        query = query.where(Mail.milestone == milestone)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Mail.id.desc()).offset(offset).limit(limit))
    return MailPage(total=total or 0, mails=[MailOut.model_validate(r, from_attributes=True) for r in rows])


@router.post(
    "/{mail_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ResendOut,
    summary="Resend a failed or stuck mail (exactly once: a mail sent meanwhile is not sent again)",
    **guard(Action.MAIL_RESEND),
)
async def resend(
    mail_id: int, request: Request, session: SessionDep, client: TemporalDep, settings: SettingsDep
) -> ResendOut:
    """Starts the resend; its result shows in the log (`status`, `attempts`, `last_error`)."""
    row = await session.get(Mail, mail_id)
    if row is None:
        raise _not_found(mail_id)
    if row.status == "sent":
        raise ApiError(409, "mail_already_sent", "该邮件已发送，无需重发", f"mail {mail_id} was delivered already")
    if row.template is None:
        raise ApiError(
            409,
            "mail_not_resendable",
            "该邮件早于重发功能，无法重发",
            f"mail {mail_id} predates resending (no template)",
        )
    workflow_id = resend_workflow_id(mail_id)
    handle: WorkflowHandle[MailResendWorkflow, str] | None = None
    async with temporal_call(_not_found(mail_id)):
        with suppress(WorkflowAlreadyStartedError):  # the same resend is running already: this click changes nothing
            handle = await client.start_workflow(
                MailResendWorkflow.run,
                mail_id,
                id=workflow_id,
                task_queue=settings.temporal_task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,  # a closed resend leaves room for the next
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,  # a running one is not started twice
                static_summary=f"resend mail {mail_id}: {row.milestone}",
            )
    if handle is not None:
        await audit(session, request, "mail.resend_requested", "mail", str(mail_id), workflow_id=workflow_id)
        await session.commit()
    return ResendOut(mail_id=mail_id, workflow_id=workflow_id, status="started" if handle else "running")
