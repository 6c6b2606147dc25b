"""Materials: the application's versions, attachments by category, and whether the submission is complete."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from db import models
from domain.materials import missing_materials
from workflows.contracts import MaterialsState
from workflows.project import ProjectWorkflow


def required_proofs(competition: models.Competition) -> list[str]:
    """The proof categories this competition requires (from its catalog)."""
    materials = competition.catalog.get("materials") or {}
    return list(materials.get("required_proofs", ["unit_qualification", "responsibility_statement"]))


async def latest_application(session: AsyncSession, project_id: str) -> models.ApplicationVersion | None:
    """The newest version of the application, if any."""
    return await session.scalar(
        select(models.ApplicationVersion)
        .where(models.ApplicationVersion.project_id == project_id)
        .order_by(models.ApplicationVersion.version.desc())
        .limit(1)
    )


async def add_application_version(
    session: AsyncSession, project_id: str, sections: dict[str, Any], by: str
) -> models.ApplicationVersion:
    """A new version of the application (earlier ones stay)."""
    latest = await latest_application(session, project_id)
    version = models.ApplicationVersion(
        project_id=project_id, version=(latest.version + 1) if latest else 1, sections=sections, submitted_by=by
    )
    session.add(version)
    await session.flush()
    return version


async def lock_materials(session: AsyncSession, project_id: str) -> None:
    """Before changing a project's materials: lock its row, so concurrent changes of one project run (and read their
    state, see `materials_state`) one after the other. First in the transaction, before the rows that point at it:
    taken after them, two uploads deadlock on PostgreSQL (each insert holds a key-share lock on the project)."""
    await session.execute(select(models.Project.id).where(models.Project.id == project_id).with_for_update())


async def materials_state(session: AsyncSession, project: models.Project) -> MaterialsState:
    """Complete or not, what is missing, and a version that grows with every change. After a change, read it inside
    the change's transaction (under `lock_materials`): no two states then share a version with different contents
    (the workflow keeps the highest version; parallel uploads from one browser once lost a proof that way)."""
    competition = await session.get(models.Competition, project.competition_code)
    assert competition is not None
    latest = await latest_application(session, project.id)
    categories = set(
        (
            await session.scalars(select(models.Attachment.category).where(models.Attachment.project_id == project.id))
        ).all()
    )
    changes = (await session.scalar(select(func.count()).where(models.Attachment.project_id == project.id)) or 0) + (
        latest.version if latest else 0
    )
    missing = missing_materials(latest.sections if latest else None, categories, required_proofs(competition))
    return MaterialsState(complete=not missing, missing=missing, version=changes)


async def tell_workflow(client: Client, project_id: str, state: MaterialsState) -> None:
    """Signal the project's workflow; a finished workflow has nothing left to wait for."""
    with suppress(RPCError):
        handle = client.get_workflow_handle_for(ProjectWorkflow.run, project_id)
        await handle.signal(ProjectWorkflow.materials_updated, state)
