"""Public notices (八、公示与举报): the listing a notice shows, real-name objections with evidence filed within
its 7 days, and the committee's rulings, each handed to the project's workflow as an update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile, status
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select, update

from api.audit_trail import audit
from api.auth import PrincipalDep, guard
from api.deps import CipherDep, SessionDep, SettingsDep, StoreDep, TemporalDep
from api.errors import ApiError, competition_not_found, project_not_found
from api.receive_upload import receive_upload
from api.schemas import Strict
from api.temporal_errors import temporal_call
from db import models
from db.notice_models import Objection
from db.review_queries import confirmed_run
from domain.calendar import window_of, windows_from_plain
from domain.identifiers import mask_id_number, mask_phone
from domain.objections import ObjectionDraft, check_objection
from domain.roles import Action
from domain.stages import Stage
from workflows.contracts import ObjectionFiled, ObjectionRuling
from workflows.project import ProjectWorkflow

router = APIRouter(tags=["notices"])
NOTICES = {Stage.FIRST_PUBLIC_NOTICE.value, Stage.FINAL_PUBLIC_NOTICE.value}
MAX_EVIDENCE = 5
Field100 = Annotated[str, Form(max_length=100)]


class NoticeEntry(BaseModel):
    """What a notice shows of a project: no people, no scores."""

    project_id: str
    project_name: str
    track_code: str
    problem_code: str
    unit_name: str
    award: str | None = None  # the final notice lists the award winners with their award


class NoticeOut(BaseModel):
    """One public notice: its window and the projects on it."""

    competition: str
    stage: str
    opens_at: datetime
    closes_at: datetime
    projects: list[NoticeEntry]


class ObjectionReceipt(BaseModel):
    """What the objector gets back: the number to quote, never their own data echoed."""

    objection_id: int
    status: str
    filed_at: datetime


class ObjectionOut(BaseModel):
    """An objection as the committee sees it (numbers masked)."""

    objection_id: int
    project_id: str
    stage: str
    name: str
    id_number_masked: str
    phone_masked: str
    email: str
    relation: str
    grounds: str
    evidence: list[dict[str, Any]]
    status: str
    refusal_code: str | None
    reasons: str | None
    ruled_by: str | None
    ruled_at: datetime | None
    filed_at: datetime


class RulingIn(Strict):
    """The committee's ruling."""

    ruling: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)] = Field(
        description="upheld or dismissed"
    )
    reasons: Annotated[str, StringConstraints(max_length=5000)]


class RulingOut(BaseModel):
    """The ruling as the project's workflow recorded it."""

    objection_id: int
    state: str
    ruled_at: datetime | None


async def _confirmed_awards(session: SessionDep, code: str) -> dict[str, str]:
    """Project → award level of the confirmed final ranking (empty before it)."""
    run = await confirmed_run(session, code, "final")
    return {a["project_id"]: a["level"] for a in run.result["awards"]} if run else {}


async def _notice_window(session: SessionDep, code: str, stage: str) -> tuple[models.Competition, Any]:
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    if stage not in NOTICES:
        raise ApiError(404, "notice_not_found", f"没有「{stage}」公示", f"no notice '{stage}'")
    return competition, window_of(windows_from_plain(competition.calendar), Stage(stage))


@router.get(
    "/competitions/{code}/notices/{stage}",
    response_model=NoticeOut,
    summary="A public notice: its window and the projects on it",
    **guard(Action.NOTICE_READ),
)
async def read_notice(code: str, stage: str, session: SessionDep) -> NoticeOut:
    """Projects that entered the notice and have not been taken out of the competition."""
    _, window = await _notice_window(session, code, stage)
    entered = select(models.ProjectEvent.project_id).where(
        models.ProjectEvent.kind == "stage_entered", models.ProjectEvent.stage == stage
    )
    ended = select(models.ProjectEvent.project_id).where(
        models.ProjectEvent.kind == "outcome", models.ProjectEvent.reason != "completed"
    )
    rows = (
        await session.execute(
            select(models.Project, models.Unit.name)
            .join(models.Team, models.Team.id == models.Project.team_id)
            .join(models.Unit, models.Unit.id == models.Team.lead_unit_id)
            .where(
                models.Project.competition_code == code,
                models.Project.id.in_(entered),
                models.Project.id.not_in(ended),
            )
            .order_by(models.Project.track_code, models.Project.id)
        )
    ).all()
    awards = await _confirmed_awards(session, code) if stage == Stage.FINAL_PUBLIC_NOTICE.value else {}
    projects = [
        NoticeEntry(
            project_id=p.id,
            project_name=p.name,
            track_code=p.track_code,
            problem_code=p.problem_code,
            unit_name=unit,
            award=awards.get(p.id),
        )
        for p, unit in rows
    ]
    return NoticeOut(
        competition=code, stage=stage, opens_at=window.opens_at, closes_at=window.closes_at, projects=projects
    )


@router.post(
    "/competitions/{code}/notices/{stage}/objections",
    status_code=status.HTTP_201_CREATED,
    response_model=ObjectionReceipt,
    summary="File a real-name objection with evidence against a project on the notice",
    **guard(Action.OBJECTION_FILE),
)
async def file_objection(
    code: str,
    stage: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
    cipher: CipherDep,
    client: TemporalDep,
    project_id: Field100 = "",
    name: Field100 = "",
    id_number: Annotated[str, Form(max_length=18)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    relation: Annotated[str, Form(max_length=32)] = "",
    grounds: Annotated[str, Form(max_length=5000)] = "",
    evidence: Annotated[list[UploadFile] | None, File(description="1 to 5 evidence files")] = None,
) -> ObjectionReceipt:
    """Anonymous, incomplete, evidence-less or late objections are refused with every reason; an accepted one
    is stored (numbers encrypted), then handed to the project's workflow, which holds the notice until ruled."""
    form = ObjectionForm(project_id, name, id_number, phone, email, relation, grounds)
    return await take_objection(code, stage, request, session, settings, store, cipher, client, form, evidence or [])


@dataclass(frozen=True)
class ObjectionForm:
    """The objection form's fields as typed (the JSON endpoint and the public page share them)."""

    project_id: str
    name: str
    id_number: str
    phone: str
    email: str
    relation: str
    grounds: str


async def take_objection(
    code: str,
    stage: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
    cipher: CipherDep,
    client: TemporalDep,
    form: ObjectionForm,
    files: list[UploadFile],
) -> ObjectionReceipt:
    """Check, store and hand over one objection; an ApiError names every problem (`problems`) when refused."""
    project_id, name, id_number, phone, email = form.project_id, form.name, form.id_number, form.phone, form.email
    relation, grounds = form.relation, form.grounds
    competition, window = await _notice_window(session, code, stage)
    project = await session.get(models.Project, project_id.strip())
    if project is None or project.competition_code != competition.code:
        raise project_not_found(project_id)
    draft = ObjectionDraft(name, id_number.strip().upper(), phone.strip(), email.strip(), relation, grounds, len(files))
    now = datetime.now(UTC)
    refusals = check_objection(draft, now, window.opens_at, window.closes_at)
    if len(files) > MAX_EVIDENCE:
        raise ApiError(
            422, "too_many_files", f"证据材料最多 {MAX_EVIDENCE} 个", f"at most {MAX_EVIDENCE} evidence files"
        )
    if refusals:
        first = refusals[0]
        raise ApiError(
            409 if first.code == "outside_notice_window" else 422,
            first.code,
            first.zh,
            first.en,
            problems=[{"code": r.code, "field": r.field, "zh": r.zh, "en": r.en} for r in refusals],
        )
    received = [await receive_upload(f, store, settings.upload_limits()) for f in files]
    row = Objection(
        competition_code=code,
        project_id=project.id,
        stage=stage,
        name=draft.name.strip(),
        id_number_encrypted=cipher.encrypt(draft.id_number),
        id_number_masked=mask_id_number(draft.id_number),
        phone_encrypted=cipher.encrypt(draft.phone),
        phone_masked=mask_phone(draft.phone),
        email=draft.email,
        relation=relation,
        grounds=grounds.strip(),
        evidence=[{"name": f.name, "sha256": f.sha256, "size": f.size, "kind": f.kind} for f in received],
        status="received",
        filed_at=now,
    )
    session.add(row)
    await session.flush()
    objection_id = row.id
    await audit(session, request, "objection.filed", "project", project.id, objection=objection_id, stage=stage)
    await session.commit()  # recorded before the workflow hears of it: nothing is lost if that call fails
    handle = client.get_workflow_handle_for(ProjectWorkflow.run, project.id)
    try:
        async with temporal_call(project_not_found(project.id)):
            await handle.execute_update(
                ProjectWorkflow.file_objection, ObjectionFiled(objection_id, stage, now, relation)
            )
    except ApiError as refused:
        await _set_status(session, objection_id, "refused", refused.code)
        raise
    await _set_status(session, objection_id, "open")
    return ObjectionReceipt(objection_id=objection_id, status="open", filed_at=now)


async def _set_status(session: SessionDep, objection_id: int, status: str, refusal_code: str | None = None) -> None:
    await session.execute(
        update(Objection).where(Objection.id == objection_id).values(status=status, refusal_code=refusal_code)
    )
    await session.commit()


@router.get(
    "/competitions/{code}/objections",
    response_model=list[ObjectionOut],
    summary="Every objection of the competition, for the committee",
    **guard(Action.OBJECTION_LIST),
)
async def list_objections(code: str, session: SessionDep) -> list[ObjectionOut]:
    """Newest last; the objector's numbers stay masked."""
    if await session.get(models.Competition, code) is None:
        raise competition_not_found(code)
    rows = await session.scalars(select(Objection).where(Objection.competition_code == code).order_by(Objection.id))
    return [_objection_out(o) for o in rows]


def _objection_out(o: Objection) -> ObjectionOut:
    return ObjectionOut(
        objection_id=o.id,
        project_id=o.project_id,
        stage=o.stage,
        name=o.name,
        id_number_masked=o.id_number_masked,
        phone_masked=o.phone_masked,
        email=o.email,
        relation=o.relation,
        grounds=o.grounds,
        evidence=list(o.evidence),
        status=o.status,
        refusal_code=o.refusal_code,
        reasons=o.reasons,
        ruled_by=o.ruled_by,
        ruled_at=o.ruled_at,
        filed_at=o.filed_at,
    )


@router.post(
    "/objections/{objection_id}/ruling",
    response_model=RulingOut,
    summary="Rule on an objection: upheld (the project is disqualified) or dismissed",
    **guard(Action.OBJECTION_RULE),
)
async def rule_objection(
    objection_id: int, body: RulingIn, session: SessionDep, principal: PrincipalDep, client: TemporalDep
) -> RulingOut:
    """The project's workflow validates and records the ruling; it then tells the team and the objector."""
    objection = await session.get(Objection, objection_id)
    if objection is None or objection.status == "refused":
        raise ApiError(404, "objection_not_found", f"没有编号为 {objection_id} 的举报", f"no objection {objection_id}")
    project_id = objection.project_id
    await session.rollback()  # nothing of ours is held while the workflow's activities write
    handle = client.get_workflow_handle_for(ProjectWorkflow.run, project_id)
    ruling = ObjectionRuling(objection_id, body.ruling, body.reasons, principal.username)
    async with temporal_call(project_not_found(project_id)):
        state = await handle.execute_update(ProjectWorkflow.rule_objection, ruling)
    return RulingOut(objection_id=objection_id, state=state.state, ruled_at=state.ruled_at)
