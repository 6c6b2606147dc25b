"""Registration: the basic entry rules, storing unit, team, representatives and project, starting the workflow."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

from api.accounts import check_password_strength, create_account
from api.errors import ApiError, competition_not_found
from api.materials import add_application_version
from api.schemas import ProjectRegister, RepresentativeIn, UnitIn
from api.temporal_errors import temporal_call
from api.views import utc_offset_minutes
from checks.facts import EntryContext, codes_to_check, entry_facts
from checks.registry import CreditRegistry, RegistryUnavailable
from config import Settings
from db import models
from db.upsert import insert_if_absent
from domain.calendar import StageWindow, window_of
from domain.eligibility import UnitFacts, Violation, evaluate
from domain.identifiers import mask_id_number, mask_phone
from domain.review import parse_review
from domain.roles import Role
from domain.stages import Stage, rule_for
from security.passwords import hashed
from security.personal_data import PersonalDataCipher
from workflows import presentation
from workflows import search_attributes as sa
from workflows.competition import CompetitionWorkflow, competition_workflow_id
from workflows.contracts import CalendarView, MaterialsState, ProjectStart, ProjectStatus
from workflows.project import ProjectWorkflow

logger = logging.getLogger("contestflow.api")
REGISTRY_WAIT = 3.0  # seconds the API waits on the credit registry before leaving the check to the workflow
CONFLICTS = frozenset({"registration_closed", "team_second_project", "team_second_competition"})


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


async def check_entry(
    session: AsyncSession,
    client: Client,
    registry: CreditRegistry,
    cipher: PersonalDataCipher,
    code: str,
    body: ProjectRegister,
) -> Entry:
    """Every eligibility rule a registration can be judged on now; any violation answers 4xx with all of them."""
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
    async with temporal_call(competition_not_found(code)):
        handle = client.get_workflow_handle_for(CompetitionWorkflow.run, competition_workflow_id(code))
        calendar = await handle.query(CompetitionWorkflow.calendar)
    now = datetime.now(UTC)
    registration = window_of(calendar.windows, Stage.REGISTRATION)
    eligibility = competition.catalog.get("eligibility", {})
    context = EntryContext(
        code,
        competition.edition,
        problem.track_code,
        int(eligibility.get("max_representatives", 5)),
        tuple(eligibility.get("public_sector_tracks", ())),
        body.team.name,
    )
    units = tuple(unit_facts(u) for u in (body.team.lead_unit, *body.team.partner_units))
    # Hand the request's connection back while the registry answers (nothing is written yet): the local registry
    # takes a connection of its own, and a request holding one while waiting for another can drain the pool.
    await session.commit()
    try:
        answer = await asyncio.wait_for(registry.lookup(codes_to_check(units)), REGISTRY_WAIT)
    except (RegistryUnavailable, TimeoutError):
        answer = None  # the workflow checks again and stays pending until the registry answers
    facts = await entry_facts(
        session,
        context,
        units,
        [cipher.blind_index(r.id_number) for r in body.team.representatives],
        answer,
        registration_open=registration.opens_at <= now < registration.closes_at,
    )
    violations = evaluate(facts)
    if violations:
        raise ineligible(violations, registration)
    track = await session.scalar(
        select(models.Track).where(models.Track.competition_code == code, models.Track.code == problem.track_code)
    )
    if track is None:
        raise ApiError(409, "catalog_inconsistent", "赛题所属赛道不存在", f"problem {problem.code} has no track")
    return Entry(competition, problem, track, calendar, now)


def unit_facts(unit: UnitIn) -> UnitFacts:
    """What the rules need of a unit in a registration."""
    return UnitFacts(
        unit.credit_code,
        unit.name,
        unit.kind,
        unit.independent_legal_person,
        tuple((r.credit_code, r.relation) for r in unit.related_units),
    )


def ineligible(violations: list[Violation], registration: StageWindow) -> ApiError:
    """One error naming every broken rule; its code is the first rule's."""
    first = violations[0]
    status = 409 if first.code in CONFLICTS else 422
    return ApiError(
        status,
        first.code,
        "；".join(v.zh for v in violations),
        "; ".join(v.en for v in violations),
        violations=[
            {"code": v.code, "clause": v.clause, "message_zh": v.zh, "message_en": v.en, "subject": v.subject}
            for v in violations
        ],
        opens_at=registration.opens_at.isoformat(),
        closes_at=registration.closes_at.isoformat(),
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
    session: AsyncSession,
    entry: Entry,
    body: ProjectRegister,
    cipher: PersonalDataCipher,
) -> tuple[models.Project, models.Team]:
    """Units (shared by credit code, with declared relations), team and its contact's account, representatives
    (personal data encrypted), the project and its first application version; flushed, not committed."""
    check_password_strength(body.team.password)
    password_hash = await hashed(body.team.password)  # before any write: no lock held while argon2 runs
    code = entry.competition.code
    number = await allocate_number(session, code)
    lead_id = await store_unit(session, body.team.lead_unit)
    team = models.Team(
        competition_code=code,
        name=body.team.name,
        lead_unit_id=lead_id,
        contact_name=body.team.contact_name,
        contact_email=str(body.team.contact_email),
    )
    session.add(team)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ApiError(
            409,
            "team_second_project",
            "每个参赛团队只能提交1个参赛项目（通知五(一)2）",
            "a team submits exactly one project (notice 五(一)2)",
        ) from exc
    session.add(models.TeamUnit(team_id=team.id, unit_id=lead_id, role="lead"))
    for partner in body.team.partner_units:
        session.add(models.TeamUnit(team_id=team.id, unit_id=await store_unit(session, partner), role="partner"))
    await create_account(
        session,
        username=str(body.team.contact_email),
        display_name=body.team.contact_name,
        email=str(body.team.contact_email),
        role=Role.TEAM,
        password=body.team.password,
        team_id=team.id,
        password_hash=password_hash,
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
    if body.application is not None:
        await add_application_version(session, project.id, body.application.model_dump(), body.team.contact_email)
    return project, team


async def store_unit(session: AsyncSession, unit: UnitIn) -> int:
    """The unit's id, adding it (and its declared relations) the first time its credit code is seen."""
    await insert_if_absent(
        session,
        models.Unit,
        {
            "credit_code": unit.credit_code,
            "name": unit.name,
            "kind": unit.kind.value,
            "is_sme": unit.is_sme,
            "independent_legal_person": unit.independent_legal_person,
        },
        ["credit_code"],
    )
    unit_id = await session.scalar(select(models.Unit.id).where(models.Unit.credit_code == unit.credit_code))
    assert unit_id is not None
    for related in unit.related_units:
        await insert_if_absent(
            session,
            models.UnitRelation,
            {
                "unit_id": unit_id,
                "related_credit_code": related.credit_code,
                "related_name": related.name,
                "relation": related.relation.value,
            },
            ["unit_id", "related_credit_code", "relation"],
        )
    return int(unit_id)


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
    client: Client,
    settings: Settings,
    entry: Entry,
    project: models.Project,
    team: models.Team,
    materials: MaterialsState,
    sme: bool,
) -> None:
    """Start the project's workflow, findable at once by competition, stage, track, problem and SME lead unit."""
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
        materials=materials,
        reminder_before_seconds=float(competition.catalog.get("reminder_days", 3)) * 86400 * competition.time_scale,
        committee_email=parse_review(competition.catalog.get("review")).alert_email,
        committee_reminder_seconds=86400 * competition.time_scale,
    )
    attributes = TypedSearchAttributes(
        [
            SearchAttributePair(sa.COMPETITION, competition.code),
            SearchAttributePair(sa.STAGE, Stage.REGISTRATION.value),
            SearchAttributePair(sa.TRACK, track.code),
            SearchAttributePair(sa.PROBLEM, problem.code),
            SearchAttributePair(sa.SME, sme),
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


def as_started(entry: Entry, project_id: str, materials: MaterialsState) -> ProjectStatus:
    """The project's state as its workflow starts it, for the reply when the new workflow cannot be read at once."""
    return ProjectStatus(
        project_id=project_id,
        stage=Stage.REGISTRATION.value,
        outcome=None,
        waiting_on=rule_for(Stage.REGISTRATION).waiting_on,
        deadline=window_of(entry.calendar.windows, Stage.REGISTRATION).closes_at,
        overdue=False,
        calendar_revision=entry.calendar.revision,
        calendar=list(entry.calendar.windows),
        materials=materials,
    )


async def discard_workflow(client: Client, project_id: str) -> None:
    """End, as far as Temporal can be reached, a project's run whose registration was not stored (a failed commit,
    a start whose answer was lost): its number is never given again, and no one would ever act on it."""
    try:
        await client.get_workflow_handle(project_id).terminate(reason="registration not stored; the team may retry")
    except (RPCError, asyncio.CancelledError):
        logger.warning("could not discard the run of unstored project %s", project_id)
