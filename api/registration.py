"""Registration: the basic entry rules, storing unit, team, representatives and project, starting the workflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.accounts import check_password_strength, create_account
from api.errors import ApiError, competition_not_found
from api.schemas import ProjectRegister, RepresentativeIn
from api.temporal_errors import temporal_call
from api.views import utc_offset_minutes
from config import Settings
from db import models
from db.upsert import insert_if_absent
from domain.calendar import window_of
from domain.identifiers import mask_id_number, mask_phone
from domain.roles import Role
from domain.stages import Stage
from security.personal_data import PersonalDataCipher
from workflows import presentation
from workflows import search_attributes as sa
from workflows.competition import CompetitionWorkflow, competition_workflow_id
from workflows.contracts import CalendarView, ProjectStart
from workflows.project import ProjectWorkflow


def project_id_for(competition_code: str, number: int) -> str:
    """The readable project and workflow id, e.g. `ln-2025-P00042`."""
    return f"{competition_code}-P{number:05d}"


@dataclass(frozen=True)
class Entry:
    """What a registration is checked against: the competition, its problem and track, the calendar now."""

    competition: models.Competition
    problem: models.Problem
    track: models.Track
    calendar: CalendarView
    now: datetime


async def check_entry(session: AsyncSession, client: Client, code: str, body: ProjectRegister) -> Entry:
    """The rules a registration must pass before anything is stored."""
    competition = await session.get(models.Competition, code)
    if competition is None:
        raise competition_not_found(code)
    problem = await session.scalar(
        select(models.Problem).where(models.Problem.competition_code == code, models.Problem.code == body.problem_code)
    )
    if problem is None:
        raise ApiError(
            422,
            "unknown_problem",
            f"赛题 {body.problem_code} 不属于本赛事",
            f"problem '{body.problem_code}' is not in this competition",
        )
    limit = int(competition.catalog["eligibility"]["max_representatives"])
    if len(body.team.representatives) > limit:
        raise ApiError(
            422,
            "too_many_representatives",
            f"每个团队的参赛代表不超过 {limit} 人",
            f"a team has at most {limit} representatives",
        )
    async with temporal_call(competition_not_found(code)):
        handle = client.get_workflow_handle_for(CompetitionWorkflow.run, competition_workflow_id(code))
        calendar = await handle.query(CompetitionWorkflow.calendar)
    now = datetime.now(UTC)
    registration = window_of(calendar.windows, Stage.REGISTRATION)
    if not registration.opens_at <= now < registration.closes_at:
        raise ApiError(
            409,
            "registration_closed",
            "当前不在报名时间内",
            "registration is not open now",
            opens_at=registration.opens_at.isoformat(),
            closes_at=registration.closes_at.isoformat(),
        )
    await _check_team_name(session, code, body.team.name)
    track = await session.scalar(
        select(models.Track).where(models.Track.competition_code == code, models.Track.code == problem.track_code)
    )
    if track is None:
        raise ApiError(409, "catalog_inconsistent", "赛题所属赛道不存在", f"problem {problem.code} has no track")
    return Entry(competition, problem, track, calendar, now)


async def _check_team_name(session: AsyncSession, code: str, name: str) -> None:
    taken = await session.scalar(
        select(models.Team.id).where(models.Team.competition_code == code, models.Team.name == name)
    )
    if taken:
        raise ApiError(
            409, "team_exists", f"团队名称「{name}」已被使用", f"team name '{name}' is taken in this competition"
        )


async def allocate_number(session: AsyncSession, code: str) -> int:
    """The next project number, taken in its own short transaction (a failed registration leaves a gap)."""
    number = await session.scalar(
        update(models.Competition)
        .where(models.Competition.code == code)
        .values(project_counter=models.Competition.project_counter + 1)
        .returning(models.Competition.project_counter)
    )
    await session.commit()
    if number is None:
        raise competition_not_found(code)
    return int(number)


async def store_entry(
    session: AsyncSession, entry: Entry, body: ProjectRegister, cipher: PersonalDataCipher
) -> tuple[models.Project, models.Team]:
    """Unit (shared by credit code), team and its contact's account, representatives (personal data encrypted)
    and project; flushed, not committed."""
    check_password_strength(body.team.password)
    code = entry.competition.code
    number = await allocate_number(session, code)
    lead = body.team.lead_unit
    await insert_if_absent(
        session,
        models.Unit,
        {"credit_code": lead.credit_code, "name": lead.name, "kind": lead.kind.value, "is_sme": lead.is_sme},
        ["credit_code"],
    )
    unit_id = await session.scalar(select(models.Unit.id).where(models.Unit.credit_code == lead.credit_code))
    team = models.Team(
        competition_code=code,
        name=body.team.name,
        lead_unit_id=unit_id,
        contact_name=body.team.contact_name,
        contact_email=str(body.team.contact_email),
    )
    session.add(team)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        await _check_team_name(session, code, body.team.name)
        raise
    await create_account(
        session,
        username=str(body.team.contact_email),
        display_name=body.team.contact_name,
        email=str(body.team.contact_email),
        role=Role.TEAM,
        password=body.team.password,
        team_id=team.id,
    )
    session.add_all([representative(team.id, r, cipher) for r in body.team.representatives])
    project = models.Project(
        id=project_id_for(code, number),
        competition_code=code,
        number=number,
        name=body.project_name,
        team_id=team.id,
        track_code=entry.track.code,
        problem_code=entry.problem.code,
        registered_at=entry.now,
    )
    session.add(project)
    await session.flush()
    return project, team


def representative(team_id: int, given: RepresentativeIn, cipher: PersonalDataCipher) -> models.Representative:
    """A representative row: ID and phone encrypted, a blind index of the ID, masked forms for listings."""
    return models.Representative(
        team_id=team_id,
        name=given.name,
        email=str(given.email),
        id_number_encrypted=cipher.encrypt(given.id_number),
        id_number_index=cipher.blind_index(given.id_number),
        id_number_masked=mask_id_number(given.id_number),
        phone_encrypted=cipher.encrypt(given.phone),
        phone_masked=mask_phone(given.phone),
    )


async def start_project_workflow(
    client: Client, settings: Settings, entry: Entry, project: models.Project, team: models.Team
) -> None:
    """Start the project's workflow, findable at once by competition, stage, track and problem."""
    competition, track, problem = entry.competition, entry.track, entry.problem
    start = ProjectStart(
        project_id=project.id,
        competition_code=competition.code,
        competition_name=competition.name,
        project_name=project.name,
        team_name=team.name,
        track_code=track.code,
        track_name=track.name,
        problem_code=problem.code,
        problem_title=problem.title,
        contact_name=team.contact_name,
        contact_email=team.contact_email,
        calendar=entry.calendar.windows,
        calendar_revision=entry.calendar.revision,
        display_utc_offset_minutes=utc_offset_minutes(competition.timezone, entry.now),
    )
    attributes = TypedSearchAttributes(
        [
            SearchAttributePair(sa.COMPETITION, competition.code),
            SearchAttributePair(sa.STAGE, Stage.REGISTRATION.value),
            SearchAttributePair(sa.TRACK, track.code),
            SearchAttributePair(sa.PROBLEM, problem.code),
        ]
    )
    async with temporal_call(competition_not_found(competition.code)):
        await client.start_workflow(
            ProjectWorkflow.run,
            start,
            id=project.id,
            task_queue=settings.temporal_task_queue,
            search_attributes=attributes,
            static_summary=presentation.project_summary(project.name, track.name, problem.code),
            static_details=presentation.project_details(
                project.id, project.name, team.name, track.name, problem.code, problem.title, competition.name
            ),
        )
