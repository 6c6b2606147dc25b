"""Judges and their assignment: the registry of judges per competition, and a seeded, conflict-free plan
(dry run first) that gives every project K judges from its track."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request, UploadFile, status
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RPCError

from activities.contracts import ReviewerSlot
from api.accounts import create_account
from api.audit_trail import audit
from api.auth import guard
from api.deps import CipherDep, SessionDep, TemporalDep
from api.errors import ApiError, competition_not_found
from api.routes.registry import read_upload
from api.schemas import CreditCode, Strict
from db import models
from db.review_queries import assignments_of, judge_profiles, project_profiles, screened_projects
from domain.assignment import assign
from domain.calendar import window_of, windows_from_plain
from domain.identifiers import is_valid_credit_code, is_valid_id_number
from domain.review import parse_review
from domain.roles import Action, Role
from domain.stages import Stage
from workflows.contracts import ReviewAssignment, ReviewTerms
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

    judges_per_project: int | None = Field(None, ge=1, le=20, description="Default: the competition's review policy")
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


@router.post("/assignments", summary="Plan (dry run) or save the judge assignment", **guard(Action.ASSIGNMENT_PLAN))
async def plan_assignments(
    code: str, body: PlanIn, request: Request, session: SessionDep, client: TemporalDep
) -> dict[str, Any]:
    """Covers the live projects that passed screening; keeps existing assignments and fills what is missing; the
    report gives coverage, loads and shortfalls. Saving gives each new judge a due date and tells the projects."""
    competition = await _competition(session, code)
    policy = parse_review(competition.catalog.get("review"))
    per_project = body.judges_per_project or policy.judges_per_project
    projects = await project_profiles(session, code, await screened_projects(session, code))
    judges = await judge_profiles(session, code)
    existing = await assignments_of(session, code, active_only=False)
    plan = assign(projects, judges, per_project, body.seed, existing)
    report = plan.report(per_project) | {"dry_run": body.dry_run, "seed": body.seed, "shortfalls": plan.shortfalls}
    if body.dry_run:
        return report
    scale = competition.time_scale
    closes = window_of(windows_from_plain(competition.calendar), Stage.FIRST_ROUND_REVIEW).closes_at
    due = min(datetime.now(UTC) + timedelta(days=policy.review_days * scale), closes)
    emails = dict((await session.execute(select(models.Account.id, models.Account.email))).all())
    added: dict[str, list[ReviewerSlot]] = {}
    for project_id, judge_ids in plan.assignments.items():
        for judge_id in judge_ids[len(existing.get(project_id, [])) :]:
            session.add(
                models.Assignment(project_id=project_id, account_id=int(judge_id), kind=Role.JUDGE.value, due_at=due)
            )
            added.setdefault(project_id, []).append(ReviewerSlot(judge_id, emails[int(judge_id)], due))
    await audit(
        session,
        request,
        "assignment.planned",
        "competition",
        code,
        seed=body.seed,
        judges_per_project=per_project,
        coverage=report["coverage"],
        due_at=due.isoformat(),
    )
    await session.commit()
    terms = ReviewTerms(
        policy.reminder_days * 86400 * scale,
        policy.overdue_grace_days * 86400 * scale,
        policy.reassigned_due_days * 86400 * scale,
        policy.min_valid_scores,
        policy.alert_email,
    )
    await tell_judges(client, {p: ReviewAssignment(slots, terms) for p, slots in added.items()})
    return report | {"due_at": due.isoformat(), "assigned": sum(len(v) for v in added.values())}


async def tell_judges(client: Client, assignments: dict[str, ReviewAssignment], fan_out: int = 32) -> None:
    """Signal each project's workflow its new judges (bounded concurrency; finished workflows are skipped)."""
    gate = asyncio.Semaphore(fan_out)

    async def one(project_id: str, assignment: ReviewAssignment) -> None:
        async with gate:
            with suppress(RPCError):
                handle = client.get_workflow_handle_for(ProjectWorkflow.run, project_id)
                await handle.signal(ProjectWorkflow.reviewers_assigned, assignment)

    await asyncio.gather(*(one(p, a) for p, a in assignments.items()))


JUDGE_COLUMNS = ("username", "name", "tracks", "unit_credit_code", "max_load")


def _split(cell: str) -> list[str]:
    return [
        part.strip().upper() if len(part.strip()) == 18 else part.strip()
        for part in cell.replace("；", ";").split(";")
        if part.strip()
    ]


@router.post(
    "/judges/import",
    summary="Import judges from CSV/XLSX: username, name, tracks (a;b), unit_credit_code, max_load, and optional "
    "related_codes, declared_conflicts, id_number",
    **guard(Action.JUDGE_MANAGE),
)
async def import_judges(
    code: str, file: UploadFile, request: Request, session: SessionDep, cipher: CipherDep, dry_run: bool = False
) -> dict[str, Any]:
    """All or nothing: every row is checked first and each problem is reported with its row number. Missing judge
    accounts are created without a password (an organiser sets one); existing profiles are updated."""
    await _competition(session, code)
    rows = await read_upload(file)
    tracks = set((await session.scalars(select(models.Track.code).where(models.Track.competition_code == code))).all())
    problems: list[dict[str, Any]] = []
    parsed = []
    for number, row in enumerate(rows, start=2):
        missing = [c for c in JUDGE_COLUMNS if not row.get(c)]
        found: list[str] = [f"missing:{c}" for c in missing]
        judge_tracks = _split(row.get("tracks", ""))
        unit = row.get("unit_credit_code", "").upper()
        related = _split(row.get("related_codes", ""))
        id_number = row.get("id_number", "").upper() or None
        found += [f"unknown_track:{t}" for t in judge_tracks if t not in tracks]
        found += [f"invalid_credit_code:{c}" for c in [unit, *related] if c and not is_valid_credit_code(c)]
        if id_number and not is_valid_id_number(id_number):
            found.append("invalid_id_number")
        load = row.get("max_load", "")
        if load and (not load.isdigit() or not 1 <= int(load) <= 10_000):
            found.append("invalid_max_load")
        account = await session.scalar(
            select(models.Account).where(models.Account.username == row.get("username", "").strip().lower())
        )
        if account is not None and account.role != Role.JUDGE.value:
            found.append("not_a_judge")
        if found:
            problems.append({"row": number, "problems": found})
            continue
        parsed.append((row, account, judge_tracks, unit, related, id_number))
    report: dict[str, Any] = {"rows": len(rows), "dry_run": dry_run, "created_accounts": 0, "updated": 0, "added": 0}
    if problems:
        raise ApiError(
            422,
            "import_rejected",
            f"{len(problems)} 行有误，未导入任何记录",
            f"{len(problems)} rows have problems; nothing was imported",
            report=report | {"problems": problems},
        )
    if dry_run:
        return report | {"added": len(parsed)}
    for row, account, judge_tracks, unit, related, id_number in parsed:
        if account is None:
            account = await create_account(
                session,
                username=row["username"],
                display_name=row["name"],
                email=row["username"] if "@" in row["username"] else row.get("email", ""),
                role=Role.JUDGE,
                password=None,
            )
            report["created_accounts"] += 1
        judge = await session.scalar(
            select(models.Judge).where(models.Judge.competition_code == code, models.Judge.account_id == account.id)
        )
        if judge is None:
            judge = models.Judge(competition_code=code, account_id=account.id)
            session.add(judge)
            report["added"] += 1
        else:
            report["updated"] += 1
        judge.tracks, judge.unit_credit_code, judge.related_codes = judge_tracks, unit, related
        judge.declared_conflicts = _split(row.get("declared_conflicts", ""))
        judge.max_load = int(row["max_load"])
        judge.id_number_index = cipher.blind_index(id_number) if id_number else None
    await audit(
        session, request, "judges.imported", "competition", code, **{k: v for k, v in report.items() if k != "dry_run"}
    )
    await session.commit()
    return report
