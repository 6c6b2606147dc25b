"""Reads the review needs from the database: projects and judges as the assignment rules see them, loads."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db import models
from domain.assignment import JudgeProfile, ProjectProfile
from domain.ranking import Sheet

JUDGE = "judge"
FINAL_JUDGE = "final_judge"  # a judge on the final's roadshow panel


async def project_profiles(
    session: AsyncSession, code: str, project_ids: Collection[str] | None = None
) -> list[ProjectProfile]:
    """Projects with every unit of their team and those units' declared relations (parents, subsidiaries...)."""
    query = (
        select(models.Project.id, models.Project.track_code, models.Unit.id, models.Unit.credit_code)
        .join(models.TeamUnit, models.TeamUnit.team_id == models.Project.team_id)
        .join(models.Unit, models.Unit.id == models.TeamUnit.unit_id)
        .where(models.Project.competition_code == code)
    )
    if project_ids is not None:
        query = query.where(models.Project.id.in_(list(project_ids)))
    units = (await session.execute(query)).all()
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
    return [ProjectProfile(p, tracks[p], frozenset(c)) for p, c in sorted(codes.items())]


async def judge_profiles(session: AsyncSession, code: str) -> list[JudgeProfile]:
    """The competition's judges; one who is also a representative anywhere is marked and judges nothing."""
    representatives = set((await session.scalars(select(models.Representative.id_number_index))).all())
    judges = (await session.scalars(select(models.Judge).where(models.Judge.competition_code == code))).all()
    return [
        JudgeProfile(
            str(j.account_id),
            frozenset(j.tracks),
            frozenset({j.unit_credit_code, *j.related_codes}),
            j.max_load,
            frozenset(j.declared_conflicts),
            j.id_number_index is not None and j.id_number_index in representatives,
        )
        for j in judges
    ]


async def assignments_of(session: AsyncSession, code: str, *, active_only: bool) -> dict[str, list[str]]:
    """Project → judges on it (active ones, or everyone who ever was)."""
    query = (
        select(models.Assignment.project_id, models.Assignment.account_id)
        .join(models.Project, models.Project.id == models.Assignment.project_id)
        .where(models.Project.competition_code == code, models.Assignment.kind == JUDGE)
        .order_by(models.Assignment.id)
    )
    if active_only:
        query = query.where(models.Assignment.state != "replaced")
    found: dict[str, list[str]] = {}
    for project_id, account_id in (await session.execute(query)).all():
        found.setdefault(project_id, []).append(str(account_id))
    return found


async def active_loads(session: AsyncSession, code: str) -> dict[str, int]:
    """Judge → projects they still review in this competition."""
    rows = await session.execute(
        select(models.Assignment.account_id, func.count())
        .join(models.Project, models.Project.id == models.Assignment.project_id)
        .where(
            models.Project.competition_code == code,
            models.Assignment.kind == JUDGE,
            models.Assignment.state != "replaced",
        )
        .group_by(models.Assignment.account_id)
    )
    return {str(account): count for account, count in rows.all()}


def _no_outcome() -> Any:
    """The project's workflow has not logged an outcome yet (correlated on the outer query's project)."""
    ended = aliased(models.ProjectEvent)
    query = select(ended.id).where(ended.project_id == models.Project.id, ended.kind == "outcome")
    return ~query.correlate(models.Project).exists()


async def live_projects(session: AsyncSession, code: str) -> dict[str, str]:
    """Project → track for every project of the competition whose workflow has not ended."""
    rows = await session.execute(
        select(models.Project.id, models.Project.track_code).where(
            models.Project.competition_code == code, _no_outcome()
        )
    )
    return {p: t for p, t in rows.all()}


async def screened_projects(session: AsyncSession, code: str) -> set[str]:
    """Live projects that passed the third-party screening: the ones the expert review covers."""
    rows = await session.scalars(
        select(models.Project.id)
        .join(models.ProjectEvent, models.ProjectEvent.project_id == models.Project.id)
        .where(
            models.Project.competition_code == code,
            models.ProjectEvent.kind == "screening",
            models.ProjectEvent.decision == "pass",
            _no_outcome(),
        )
    )
    return set(rows.all())


async def valid_sheets(session: AsyncSession, code: str, round_: str = "first_round") -> list[Sheet]:
    """The latest version of every sheet of the round whose judge is still on the project (a replaced judge's score
    drops)."""
    latest = (
        select(models.Score.project_id, models.Score.judge_account_id, func.max(models.Score.version).label("version"))
        .join(models.Project, models.Project.id == models.Score.project_id)
        .where(models.Project.competition_code == code, models.Score.round == round_)
        .group_by(models.Score.project_id, models.Score.judge_account_id)
        .subquery()
    )
    rows = await session.execute(
        select(models.Score)
        .join(
            latest,
            (latest.c.project_id == models.Score.project_id)
            & (latest.c.judge_account_id == models.Score.judge_account_id)
            & (latest.c.version == models.Score.version),
        )
        .join(
            models.Assignment,
            (models.Assignment.project_id == models.Score.project_id)
            & (models.Assignment.account_id == models.Score.judge_account_id)
            & (models.Assignment.kind == (JUDGE if round_ == "first_round" else FINAL_JUDGE)),
        )
        .where(models.Assignment.state != "replaced")
    )
    return [
        Sheet(s.project_id, str(s.judge_account_id), s.version, s.total, dict(s.values)) for s in rows.scalars().all()
    ]


async def completion_times(session: AsyncSession, code: str) -> dict[str, datetime]:
    """When each project's submission was last completed (its latest application version, else registration)."""
    rows = await session.execute(
        select(models.Project.id, models.Project.registered_at, func.max(models.ApplicationVersion.submitted_at))
        .outerjoin(models.ApplicationVersion, models.ApplicationVersion.project_id == models.Project.id)
        .where(models.Project.competition_code == code)
        .group_by(models.Project.id, models.Project.registered_at)
    )
    return {p: _utc(last or registered) for p, registered, last in rows.all()}


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def confirmed_run(session: AsyncSession, code: str, round_: str) -> models.RankingRun | None:
    """The competition's confirmed ranking run of a round (`first_round` or `final`), if confirmed yet."""
    run: models.RankingRun | None = await session.scalar(
        select(models.RankingRun).where(
            models.RankingRun.competition_code == code,
            models.RankingRun.round == round_,
            models.RankingRun.confirmed_at.is_not(None),
        )
    )
    return run
