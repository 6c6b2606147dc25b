"""The first round's human tasks: the qualification check, the third-party screening, a judge's inbox and
declared conflicts, an organiser's override of an assignment, and the view of every project still waiting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import func, select

from activities.contracts import ReviewerSlot
from api.audit_trail import audit, audit_once
from api.auth import PrincipalDep, authorize_project, guard
from api.deps import IdempotencyKey, SessionDep, TemporalDep
from api.errors import ApiError, competition_not_found
from api.routes.materials import SupplementIn, request_supplement
from api.schemas import Strict
from api.temporal_errors import temporal_call
from api.views import aware
from db import models
from db.review_queries import JUDGE, judge_profiles, live_projects, project_profiles, screened_projects
from domain.assignment import conflict
from domain.review import parse_review
from domain.roles import Action
from workflows.contracts import ReviewerChange, TaskDecision, TaskRecord
from workflows.project import ProjectWorkflow

router = APIRouter(tags=["first-round review"])
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
CLOSED = ApiError(409, "project_closed", "项目已结束", "the project has ended")


class TaskOut(BaseModel):
    """A qualification or screening verdict as recorded."""

    kind: str
    decision: str
    reason: str
    decided_at: datetime
    score: float | None = None
    organisation: str = ""


def _task(record: TaskRecord) -> TaskOut:
    return TaskOut(
        kind=record.kind,
        decision=record.decision,
        reason=record.reason,
        decided_at=record.decided_at,
        score=record.score,
        organisation=record.organisation,
    )


class QualificationIn(Strict):
    """Pass, fail (with a reason), or supplement: the team is asked for `items` by `due_at` and the check waits."""

    decision: Literal["pass", "fail", "supplement"]
    reason: Reason = ""
    items: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20
    )
    due_at: datetime | None = None


class ScreeningIn(Strict):
    """The screening organisation's verdict and score."""

    decision: Literal["pass", "fail"]
    score: float = Field(ge=0, le=100)
    organisation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    reason: Reason = ""


@router.post(
    "/projects/{project_id}/qualification",
    response_model=None,
    summary="Decide the online qualification check (pass, fail or supplement)",
    **guard(Action.QUALIFICATION_DECIDE),
)
async def qualify(
    project_id: str,
    body: QualificationIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, object]:
    """A fail ends the project as not advanced and mails the team; a supplement request waits for the team."""
    project = await authorize_project(session, principal, Action.QUALIFICATION_DECIDE, project_id)
    if body.decision == "supplement":
        if not body.items or body.due_at is None:
            raise ApiError(422, "items_required", "请列出需要补充的材料和截止时间", "list the materials and a due date")
        asked = await request_supplement(
            project.id, SupplementIn(items=body.items, due_at=body.due_at), request, session, principal, client
        )
        return {"kind": "qualification", "decision": "supplement", "supplement": asked.model_dump(mode="json")}
    async with temporal_call(CLOSED):
        record = await client.get_workflow_handle_for(ProjectWorkflow.run, project.id).execute_update(
            ProjectWorkflow.qualify,
            TaskDecision(body.decision, principal.username, body.reason),
            id=f"qualification-{idempotency_key}" if idempotency_key else None,
        )
    await audit_once(
        session, request, idempotency_key, "qualification.decided", "project", project.id, decision=body.decision
    )
    await session.commit()
    return _task(record).model_dump(mode="json")


@router.post(
    "/projects/{project_id}/screening",
    response_model=TaskOut,
    summary="Record the third-party screening verdict and score",
    **guard(Action.SCREENING_RECORD),
)
async def screen(
    project_id: str,
    body: ScreeningIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    client: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> TaskOut:
    """Pass sends the project to the expert review; fail ends it as not advanced, with a mail."""
    project = await authorize_project(session, principal, Action.SCREENING_RECORD, project_id)
    verdict = TaskDecision(body.decision, principal.username, body.reason, body.score, body.organisation)
    async with temporal_call(CLOSED):
        record = await client.get_workflow_handle_for(ProjectWorkflow.run, project.id).execute_update(
            ProjectWorkflow.screen, verdict, id=f"screening-{idempotency_key}" if idempotency_key else None
        )
    await audit_once(
        session,
        request,
        idempotency_key,
        "screening.recorded",
        "project",
        project.id,
        decision=body.decision,
        score=body.score,
    )
    await session.commit()
    return _task(record)


class InboxItem(BaseModel):
    """One review task of the calling judge."""

    project_id: str
    project_name: str
    track_code: str
    problem_code: str
    state: str
    due_at: datetime | None
    overdue: bool
    latest_version: int | None


@router.get(
    "/judges/me/tasks",
    response_model=list[InboxItem],
    summary="My review tasks, soonest due first",
    **guard(Action.REVIEW_INBOX),
)
async def inbox(session: SessionDep, principal: PrincipalDep) -> list[InboxItem]:
    """Every project assigned to the calling judge that they still hold, with its due date and their latest sheet."""
    latest = (
        select(models.Score.project_id, func.max(models.Score.version).label("version"))
        .where(models.Score.judge_account_id == principal.account_id)
        .group_by(models.Score.project_id)
        .subquery()
    )
    rows = await session.execute(
        select(models.Assignment, models.Project, latest.c.version)
        .join(models.Project, models.Project.id == models.Assignment.project_id)
        .outerjoin(latest, latest.c.project_id == models.Assignment.project_id)
        .where(
            models.Assignment.account_id == principal.account_id,
            models.Assignment.kind == JUDGE,
            models.Assignment.state != "replaced",
        )
        .order_by(models.Assignment.due_at, models.Project.id)
    )
    now = datetime.now(UTC)
    items = []
    for assignment, project, version in rows.all():
        due = aware(assignment.due_at)
        items.append(
            InboxItem(
                project_id=project.id,
                project_name=project.name,
                track_code=project.track_code,
                problem_code=project.problem_code,
                state=assignment.state,
                due_at=due,
                overdue=assignment.state == "assigned" and due is not None and due <= now,
                latest_version=version,
            )
        )
    return items


class ConflictIn(Strict):
    """Why the judge may not review this project."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ChangeOut(BaseModel):
    """Who left a project and who took over (null: nobody was free; the organisers were alerted)."""

    replaced: str
    replacement: str | None


@router.post(
    "/projects/{project_id}/conflicts",
    response_model=ChangeOut,
    summary="Declare a conflict of interest on a project assigned to you",
    **guard(Action.CONFLICT_DECLARE),
)
async def declare_conflict(
    project_id: str,
    body: ConflictIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    client: TemporalDep,
) -> ChangeOut:
    """The judge leaves the project at once and a conflict-free reserve takes over."""
    project = await authorize_project(session, principal, Action.CONFLICT_DECLARE, project_id)
    await session.commit()  # the replacement's activity writes; hold no transaction across the update
    change = ReviewerChange(str(principal.account_id), "conflict_declared", body.reason, principal.username)
    async with temporal_call(CLOSED):
        result = await client.get_workflow_handle_for(ProjectWorkflow.run, project.id).execute_update(
            ProjectWorkflow.change_reviewer, change
        )
    await audit(session, request, "conflict.declared", "project", project.id, replacement=result.replacement)
    await session.commit()
    return ChangeOut(replaced=result.replaced, replacement=result.replacement)


class OverrideIn(Strict):
    """Replace a judge on a project: with a named judge, or (null) the least-loaded conflict-free reserve."""

    replacement: int | None = None
    due_at: datetime | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


@router.put(
    "/projects/{project_id}/reviewers/{judge_id}",
    response_model=ChangeOut,
    summary="Override the assignment: replace a judge on a project, with a logged reason",
    **guard(Action.ASSIGNMENT_OVERRIDE),
)
async def override(
    project_id: str,
    judge_id: int,
    body: OverrideIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    client: TemporalDep,
) -> ChangeOut:
    """A named replacement must be a judge of the competition without a conflict of interest (caps may be exceeded:
    the organiser decides); the reason goes to the audit trail and the project's log."""
    project = await authorize_project(session, principal, Action.ASSIGNMENT_OVERRIDE, project_id)
    slot = None
    if body.replacement is not None:
        judges = {j.id: j for j in await judge_profiles(session, project.competition_code)}
        chosen = judges.get(str(body.replacement))
        if chosen is None:
            raise ApiError(422, "not_a_judge", "该账号不是本赛事的评审专家", "not a judge of this competition")
        profile = (await project_profiles(session, project.competition_code, [project.id]))[0]
        why = conflict(chosen, profile)
        if why is not None:
            raise ApiError(
                409, "conflict_of_interest", f"该专家与项目存在利益冲突（{why}）", f"conflict of interest: {why}"
            )
        account = await session.get(models.Account, body.replacement)
        assert account is not None
        due = body.due_at or await _current_due(session, project.id, judge_id)
        if due is None or due.tzinfo is None:
            raise ApiError(422, "timezone_required", "请给出带时区的截止时间", "give a due date with a UTC offset")
        slot = ReviewerSlot(str(account.id), account.email, due.astimezone(UTC))
    await audit(
        session,
        request,
        "assignment.overridden",
        "project",
        project.id,
        judge=judge_id,
        replacement=body.replacement,
        reason=body.reason,
    )
    await session.commit()
    change = ReviewerChange(str(judge_id), "organiser_override", body.reason, principal.username, slot)
    async with temporal_call(CLOSED):
        result = await client.get_workflow_handle_for(ProjectWorkflow.run, project.id).execute_update(
            ProjectWorkflow.change_reviewer, change
        )
    return ChangeOut(replaced=result.replaced, replacement=result.replacement)


async def _current_due(session: SessionDep, project_id: str, judge_id: int) -> datetime | None:
    return aware(
        await session.scalar(
            select(models.Assignment.due_at).where(
                models.Assignment.project_id == project_id,
                models.Assignment.account_id == judge_id,
                models.Assignment.kind == JUDGE,
            )
        )
    )


class WaitingJudge(BaseModel):
    """A judge a project waits on."""

    judge: int
    name: str
    due_at: datetime | None
    overdue: bool


class WaitingProject(BaseModel):
    """A live project without the valid scores it needs to be ranked, and whom it waits on."""

    project_id: str
    track_code: str
    valid_scores: int
    needed: int
    waiting_on: list[WaitingJudge]


@router.get(
    "/competitions/{code}/reviews/waiting",
    response_model=list[WaitingProject],
    summary="Every project not yet rankable, and the judges it waits on",
    **guard(Action.REVIEW_MONITOR),
)
async def waiting(code: str, session: SessionDep, track: str | None = None) -> list[WaitingProject]:
    """Projects in the expert review with fewer valid scores than the competition needs, most overdue first."""
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    needed = parse_review(competition.catalog.get("review")).min_valid_scores
    live = await live_projects(session, code)
    reviewed = await screened_projects(session, code)
    rows = await session.execute(
        select(models.Assignment, models.Account.display_name)
        .join(models.Project, models.Project.id == models.Assignment.project_id)
        .join(models.Account, models.Account.id == models.Assignment.account_id)
        .where(
            models.Project.competition_code == code,
            models.Assignment.kind == JUDGE,
            models.Assignment.state != "replaced",
        )
    )
    now = datetime.now(UTC)
    submitted: dict[str, int] = {}
    pending: dict[str, list[WaitingJudge]] = {}
    for assignment, name in rows.all():
        if assignment.project_id not in reviewed:
            continue
        if assignment.state == "submitted":
            submitted[assignment.project_id] = submitted.get(assignment.project_id, 0) + 1
            continue
        due = aware(assignment.due_at)
        pending.setdefault(assignment.project_id, []).append(
            WaitingJudge(judge=assignment.account_id, name=name, due_at=due, overdue=due is not None and due <= now)
        )
    result = [
        WaitingProject(
            project_id=p,
            track_code=live[p],
            valid_scores=submitted.get(p, 0),
            needed=needed,
            waiting_on=sorted(pending.get(p, []), key=lambda j: (j.due_at or now, j.judge)),
        )
        for p in reviewed
        if submitted.get(p, 0) < needed and (track is None or live[p] == track)
    ]
    # Nobody to wait on (no reserve was free) sorts first: the organisers must act.
    return sorted(result, key=lambda w: (min((j.due_at or now for j in w.waiting_on), default=now), w.project_id))
