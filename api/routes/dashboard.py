"""The organisers' dashboard: how many projects stand in each stage and track, how they ended, and every overdue
review task by the person who owes it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from api.auth import guard
from api.deps import SessionDep, TemporalDep
from api.errors import competition_not_found
from api.temporal_errors import temporal_call
from api.views import aware
from db import models
from domain.roles import Action
from workflows import search_attributes as sa

router = APIRouter(prefix="/competitions/{code}", tags=["organisers"])
ROUND_OF_KIND = {"judge": "first_round", "final_judge": "final"}


class OverdueTask(BaseModel):
    """One project a person owes a score sheet on, past its due date."""

    project_id: str
    round: str
    due_at: datetime


class OverduePerson(BaseModel):
    """A judge with overdue tasks, the oldest first."""

    account_id: int
    name: str
    email: str
    tasks: list[OverdueTask]


class LateProject(BaseModel):
    """A running project past the deadline of what it waits on, as the Temporal UI's search attributes show it."""

    project_id: str
    stage: str | None
    waiting_on: str | None
    deadline: datetime | None


class DashboardOut(BaseModel):
    """Counts of live projects by stage and track, of ended projects by outcome and track, and the overdue list."""

    projects: int
    live: dict[str, dict[str, int]]
    ended: dict[str, dict[str, int]]
    overdue: list[OverduePerson]


@router.get(
    "/dashboard",
    response_model=DashboardOut,
    summary="Counts per stage and track, overdue tasks by person",
    **guard(Action.DASHBOARD_READ),
)
async def dashboard(code: str, session: SessionDep) -> DashboardOut:
    """Stages come from each project's durable log (the last stage it entered), so this needs no Temporal call."""
    if await session.get(models.Competition, code) is None:
        raise competition_not_found(code)
    entered = aliased(models.ProjectEvent)
    last_entered = (
        select(entered.project_id, func.max(entered.seq).label("seq"))
        .where(entered.kind == "stage_entered")
        .group_by(entered.project_id)
        .subquery()
    )
    outcome = aliased(models.ProjectEvent)
    stage_event = aliased(models.ProjectEvent)
    rows = await session.execute(
        select(models.Project.track_code, stage_event.stage, outcome.reason)
        .outerjoin(last_entered, last_entered.c.project_id == models.Project.id)
        .outerjoin(
            stage_event, and_(stage_event.project_id == models.Project.id, stage_event.seq == last_entered.c.seq)
        )
        .outerjoin(outcome, and_(outcome.project_id == models.Project.id, outcome.kind == "outcome"))
        .where(models.Project.competition_code == code)
    )
    live: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    ended: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total = 0
    for track, stage, ended_as in rows.all():
        total += 1
        if ended_as is not None:
            ended[ended_as][track] += 1
        else:
            live[stage or "registration"][track] += 1
    return DashboardOut(
        projects=total,
        live={s: dict(t) for s, t in live.items()},
        ended={o: dict(t) for o, t in ended.items()},
        overdue=await _overdue(session, code),
    )


@router.get(
    "/late",
    response_model=list[LateProject],
    summary="Every running project past the deadline of what it waits on (ContestOverdue in the Temporal UI)",
    **guard(Action.DASHBOARD_READ),
)
async def late(code: str, session: SessionDep, client: TemporalDep) -> list[LateProject]:
    """The same list as `ContestCompetition="…" AND ContestOverdue=true` in the UI, oldest deadline first."""
    if await session.get(models.Competition, code) is None:
        raise competition_not_found(code)
    query = (
        f'WorkflowType="ProjectWorkflow" AND ContestCompetition="{code}" AND ContestOverdue=true '
        'AND ExecutionStatus="Running"'
    )
    found = []
    async with temporal_call(competition_not_found(code)):
        async for execution in client.list_workflows(query):
            attributes = execution.typed_search_attributes
            found.append(
                LateProject(
                    project_id=execution.id,
                    stage=attributes.get(sa.STAGE),
                    waiting_on=attributes.get(sa.WAITING_ON),
                    deadline=attributes.get(sa.DEADLINE),
                )
            )
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda p: (p.deadline or far, p.project_id))


async def _overdue(session: SessionDep, code: str) -> list[OverduePerson]:
    """Active review assignments past their due date without a score sheet in their round, by judge."""
    scored = set(
        (
            await session.execute(
                select(models.Score.project_id, models.Score.judge_account_id, models.Score.round)
                .join(models.Project, models.Project.id == models.Score.project_id)
                .where(models.Project.competition_code == code)
            )
        ).all()
    )
    rows = await session.execute(
        select(models.Assignment, models.Account.display_name, models.Account.email)
        .join(models.Project, models.Project.id == models.Assignment.project_id)
        .join(models.Account, models.Account.id == models.Assignment.account_id)
        .where(
            models.Project.competition_code == code,
            models.Assignment.kind.in_(ROUND_OF_KIND),
            models.Assignment.state == "assigned",
            models.Assignment.due_at.is_not(None),
        )
        .order_by(models.Assignment.due_at, models.Assignment.project_id)
    )
    now = datetime.now(UTC)
    people: dict[int, OverduePerson] = {}
    for assignment, name, email in rows.all():
        round_, due = ROUND_OF_KIND[assignment.kind], aware(assignment.due_at)
        if due is None or due > now or (assignment.project_id, assignment.account_id, round_) in scored:
            continue
        person = people.setdefault(
            assignment.account_id, OverduePerson(account_id=assignment.account_id, name=name, email=email, tasks=[])
        )
        person.tasks.append(OverdueTask(project_id=assignment.project_id, round=round_, due_at=due))
    return sorted(people.values(), key=lambda p: (-len(p.tasks), p.account_id))
