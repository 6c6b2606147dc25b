"""Attachments: upload a file to a project (checked by content, stored by hash), list a project's files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile, status
from pydantic import BaseModel
from sqlalchemy import func, select

from api.audit_trail import audit
from api.auth import PrincipalDep, authorize_project, guard
from api.deps import SessionDep, SettingsDep, StoreDep, TemporalDep
from api.errors import ApiError
from api.materials import lock_materials, materials_state, tell_workflow
from api.receive_upload import receive_upload
from db import models
from domain.materials import CATEGORIES
from domain.roles import Action

router = APIRouter(tags=["attachments"])


class AttachmentOut(BaseModel):
    """A stored attachment."""

    id: int
    project_id: str
    display_name: str
    extension: str
    kind: str
    category: str
    version: int
    sha256: str
    size: int
    uploaded_at: datetime


def attachment_out(a: models.Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.id,
        project_id=a.project_id,
        display_name=a.display_name,
        extension=a.extension,
        kind=a.kind,
        category=a.category,
        version=a.version,
        sha256=a.sha256,
        size=a.size,
        uploaded_at=a.uploaded_at,
    )


@router.post(
    "/projects/{project_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    response_model=AttachmentOut,
    summary="Upload a file (pdf, docx, xlsx, pptx, png, jpg, mp4) to the project",
    **guard(Action.MATERIALS_EDIT),
)
async def upload(
    project_id: str,
    file: UploadFile,
    category: Annotated[str, Form(max_length=32, description="Proof or other-material category")],
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    store: StoreDep,
    client: TemporalDep,
) -> AttachmentOut:
    """Streams to a temporary file while hashing; refuses wrong content, empty files and files over the limit."""
    project = await authorize_project(session, principal, Action.MATERIALS_EDIT, project_id)
    if category not in CATEGORIES:
        raise ApiError(
            422,
            "unknown_category",
            f"未知的材料类别「{category}」",
            f"unknown material category '{category}'",
            allowed=sorted(CATEGORIES),
        )
    received = await receive_upload(file, store, settings.upload_limits())
    await lock_materials(session, project_id)  # after the file is in, before anything points at the project
    attachment = models.Attachment(
        project_id=project_id,
        display_name=received.name,
        extension=received.extension,
        kind=received.kind,
        category=category,
        version=1
        + (
            await session.scalar(
                select(func.count()).where(
                    models.Attachment.project_id == project_id, models.Attachment.category == category
                )
            )
            or 0
        ),
        sha256=received.sha256,
        size=received.size,
        uploaded_by=principal.username,
    )
    session.add(attachment)
    await session.flush()
    await audit(
        session,
        request,
        "attachment.uploaded",
        "project",
        project_id,
        attachment=attachment.id,
        sha256=received.sha256,
        size=received.size,
        name=attachment.display_name,
    )
    state = await materials_state(session, project)
    await session.commit()
    await tell_workflow(client, project_id, state)
    return attachment_out(attachment)


@router.get(
    "/projects/{project_id}/attachments",
    response_model=list[AttachmentOut],
    summary="The project's attachments",
    **guard(Action.PROJECT_READ),
)
async def list_attachments(project_id: str, session: SessionDep, principal: PrincipalDep) -> list[AttachmentOut]:
    """Newest last."""
    await authorize_project(session, principal, Action.PROJECT_READ, project_id)
    rows = await session.scalars(
        select(models.Attachment).where(models.Attachment.project_id == project_id).order_by(models.Attachment.id)
    )
    return [attachment_out(a) for a in rows.all()]
