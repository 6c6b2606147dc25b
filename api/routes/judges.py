"""Judges and their assignment: the registry of judges per competition, and a seeded, conflict-free plan
(dry run first) that gives every project K judges from its track."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RPCError

from api.audit_trail import audit
from api.auth import guard
from api.deps import CipherDep, SessionDep, TemporalDep
from api.errors import ApiError, competition_not_found
from api.schemas import CreditCode, Strict
from db import models
from domain.assignment import JudgeProfile, ProjectProfile, assign
from domain.identifiers import is_valid_credit_code, is_valid_id_number
from domain.roles import Action, Role
from workflows.project import ProjectWorkflow

router = APIRouter(prefix="/competitions/{code}", tags=["judges"])
Code = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class JudgeIn(Strict):
    """A judge account's profile for this competition."""

    account_id: int
    tracks: list[Code] = Field(min_length=1, max_length=10)
    unit_credit_code: CreditCode
    related_codes: list[CreditCode] = Field(default_factory=list, max_length=20)
    declared_conflicts: list[Code] = Field(
        default_factory=list, max_length=100, description="Project ids or unit credit codes the judge must not review"
    )
    max_load: int = Field(ge=1, le=10_000)
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=18)] | None = Field(
        None, description="Checked against every representative: a judge who represents a team judges nothing"
    )


class JudgeOut(BaseModel):
    """A judge as listed (no personal data)."""

    account_id: int
    tracks: list[str]
    unit_credit_code: str
    max_load: int
    declared_conflicts: list[str]


class PlanIn(Strict):
    """How to assign: judges per project, the seed that makes it reproducible, and whether to save it."""

    judges_per_project: int = Field(5, ge=1, le=20)
    seed: int = Field(0, ge=0)
    dry_run: bool = True


async def _competition(session: SessionDep, code: str) -> models.Competition:
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    return competition


@router.post(
    "/judges",
    status_code=status.HTTP_201_CREATED,
    response_model=JudgeOut,
    summary="Add a judge to the competition's registry",
    **guard(Action.JUDGE_MANAGE),
)
async def add_judge(code: str, body: JudgeIn, request: Request, session: SessionDep, cipher: CipherDep) -> JudgeOut:
    """The account must be a judge's; its tracks must be the competition's."""
    await _competition(session, code)
    account = await session.get(models.Account, body.account_id)
    if account is None or account.role != Role.JUDGE.value:
        raise ApiError(422, "not_a_judge", "该账号不是评审专家", "the account is not a judge's")
    tracks = set((await session.scalars(select(models.Track.code).where(models.Track.competition_code == code))).all())
    unknown = sorted(set(body.tracks) - tracks)
    if unknown:
        raise ApiError(422, "unknown_track", f"未知赛道：{'、'.join(unknown)}", f"unknown tracks: {', '.join(unknown)}")
    if not all(is_valid_credit_code(c) for c in [body.unit_credit_code, *body.related_codes]):
        raise ApiError(422, "invalid_credit_code", "统一社会信用代码无效", "a credit code is invalid")
    if body.id_number and not is_valid_id_number(body.id_number):
        raise ApiError(422, "invalid_id_number", "身份证号码无效", "the ID number is invalid")
    if await session.scalar(
        select(models.Judge.id).where(models.Judge.competition_code == code, models.Judge.account_id == account.id)
    ):
        raise ApiError(409, "judge_exists", "该评审专家已在本赛事中", "the judge is already in this competition")
    judge = models.Judge(
        competition_code=code,
        account_id=account.id,
        tracks=body.tracks,
        unit_credit_code=body.unit_credit_code,
        related_codes=body.related_codes,
        declared_conflicts=body.declared_conflicts,
        max_load=body.max_load,
        id_number_index=cipher.blind_index(body.id_number) if body.id_number else None,
    )
    session.add(judge)
    await session.flush()
    await audit(session, request, "judge.added", "competition", code, account_id=account.id, tracks=body.tracks)
    await session.commit()
    return JudgeOut(
        account_id=account.id,
        tracks=body.tracks,
        unit_credit_code=body.unit_credit_code,
        max_load=body.max_load,
        declared_conflicts=body.declared_conflicts,
    )


async def profiles(session: SessionDep, code: str) -> tuple[list[ProjectProfile], list[JudgeProfile]]:
    """Projects (with every unit of their team and those units' declared relations) and judges, for the planner."""
    units = (
        await session.execute(
            select(models.Project.id, models.Project.track_code, models.Unit.id, models.Unit.credit_code)
            .join(models.TeamUnit, models.TeamUnit.team_id == models.Project.team_id)
            .join(models.Unit, models.Unit.id == models.TeamUnit.unit_id)
            .where(models.Project.competition_code == code)
        )
    ).all()
    relations = (
        await session.execute(
            select(models.UnitRelation.unit_id, models.UnitRelation.related_credit_code).where(
                models.UnitRelation.unit_id.in_({u[2] for u in units})
            )
        )
    ).all()
    related: dict[int, set[str]] = {}
    for unit_id, credit in relations:
        related.setdefault(unit_id, set()).add(credit)
    codes: dict[str, set[str]] = {}
    tracks: dict[str, str] = {}
    for project_id, track, unit_id, credit in units:
        codes.setdefault(project_id, set()).update({credit, *related.get(unit_id, set())})
        tracks[project_id] = track
    representatives = set((await session.scalars(select(models.Representative.id_number_index))).all())
    judges = (await session.scalars(select(models.Judge).where(models.Judge.competition_code == code))).all()
    return (
        [ProjectProfile(p, tracks[p], frozenset(c)) for p, c in sorted(codes.items())],
        [
            JudgeProfile(
                str(j.account_id),
                frozenset(j.tracks),
                frozenset({j.unit_credit_code, *j.related_codes}),
                j.max_load,
                frozenset(j.declared_conflicts),
                j.id_number_index is not None and j.id_number_index in representatives,
            )
            for j in judges
        ],
    )


@router.post("/assignments", summary="Plan (dry run) or save the judge assignment", **guard(Action.ASSIGNMENT_PLAN))
async def plan_assignments(
    code: str, body: PlanIn, request: Request, session: SessionDep, client: TemporalDep
) -> dict[str, Any]:
    """Keeps existing assignments and fills what is missing; the report gives coverage, loads and shortfalls."""
    await _competition(session, code)
    projects, judges = await profiles(session, code)
    existing: dict[str, list[str]] = {}
    rows = (
        await session.execute(
            select(models.Assignment.project_id, models.Assignment.account_id)
            .join(models.Project, models.Project.id == models.Assignment.project_id)
            .where(models.Project.competition_code == code, models.Assignment.kind == Role.JUDGE.value)
        )
    ).all()
    for project_id, account_id in rows:
        existing.setdefault(project_id, []).append(str(account_id))
    plan = assign(projects, judges, body.judges_per_project, body.seed, existing)
    report = plan.report(body.judges_per_project) | {
        "dry_run": body.dry_run,
        "seed": body.seed,
        "shortfalls": plan.shortfalls,
    }
    if not body.dry_run:
        for project_id, judge_ids in plan.assignments.items():
            for judge_id in judge_ids[len(existing.get(project_id, [])) :]:
                session.add(models.Assignment(project_id=project_id, account_id=int(judge_id), kind=Role.JUDGE.value))
        await audit(
            session,
            request,
            "assignment.planned",
            "competition",
            code,
            seed=body.seed,
            judges_per_project=body.judges_per_project,
            coverage=report["coverage"],
        )
        await session.commit()
        await tell_judges(client, plan.assignments)
    return report


async def tell_judges(client: Client, assignments: dict[str, list[str]], fan_out: int = 32) -> None:
    """Signal each project's workflow who may score it (bounded concurrency; finished workflows are skipped)."""
    gate = asyncio.Semaphore(fan_out)

    async def one(project_id: str, judges: list[str]) -> None:
        async with gate:
            with suppress(RPCError):
                handle = client.get_workflow_handle_for(ProjectWorkflow.run, project_id)
                await handle.signal(ProjectWorkflow.judges_assigned, judges)

    await asyncio.gather(*(one(p, j) for p, j in assignments.items()))
