"""Gathering the facts the eligibility rules need, from the database and the credit registry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from checks.registry import RegistryAnswer
from db import models
from domain.eligibility import EntryFacts, Relation, UnitFacts, UnitKind


@dataclass(frozen=True)
class EntryContext:
    """Where an entry stands: its competition (and edition), track, and the team if it exists already."""

    competition_code: str
    edition: str
    track_code: str
    max_representatives: int
    public_sector_tracks: tuple[str, ...]
    team_name: str
    team_id: int | None = None


def codes_to_check(units: Sequence[UnitFacts]) -> list[str]:
    """Every credit code the registry must look up: the units and their declared relations."""
    return sorted({u.credit_code for u in units} | {code for u in units for code, _ in u.related})


async def representatives_elsewhere(
    session: AsyncSession, edition: str, indexes: Sequence[str], team_id: int | None
) -> tuple[str, ...]:
    """Masked IDs of these people who already represent another team in any competition of the edition."""
    if not indexes:
        return ()
    query = (
        select(models.Representative.id_number_masked)
        .join(models.Team, models.Team.id == models.Representative.team_id)
        .join(models.Competition, models.Competition.code == models.Team.competition_code)
        .where(models.Representative.id_number_index.in_(list(indexes)), models.Competition.edition == edition)
    )
    if team_id is not None:
        query = query.where(models.Team.id != team_id)
    return tuple(sorted(set((await session.scalars(query)).all())))


async def team_elsewhere(session: AsyncSession, context: EntryContext, lead_credit_code: str) -> str | None:
    """The other competition of the same edition where a team of this name and lead unit entered, if any."""
    if not context.edition:
        return None
    found = await session.scalar(
        select(models.Team.competition_code)
        .join(models.Competition, models.Competition.code == models.Team.competition_code)
        .join(models.Unit, models.Unit.id == models.Team.lead_unit_id)
        .where(
            models.Competition.edition == context.edition,
            models.Team.name == context.team_name,
            models.Unit.credit_code == lead_credit_code,
            models.Team.competition_code != context.competition_code,
        )
        .limit(1)
    )
    return str(found) if found else None


async def team_has_project(session: AsyncSession, context: EntryContext) -> bool:
    """Whether a team of this name already entered a project in this competition."""
    query = select(models.Team.id).where(
        models.Team.competition_code == context.competition_code, models.Team.name == context.team_name
    )
    if context.team_id is not None:
        query = query.where(models.Team.id != context.team_id)
    return (await session.scalar(query.limit(1))) is not None


async def entry_facts(
    session: AsyncSession,
    context: EntryContext,
    units: tuple[UnitFacts, ...],
    representative_indexes: Sequence[str],
    registry_answer: RegistryAnswer | None,
    registration_open: bool,
) -> EntryFacts:
    """All facts for one entry; without a registry answer the list rules see nothing (the workflow rechecks)."""
    answer = registry_answer or RegistryAnswer((), frozenset())
    return EntryFacts(
        track_code=context.track_code,
        units=units,
        representatives=len(representative_indexes),
        max_representatives=context.max_representatives,
        public_sector_tracks=context.public_sector_tracks,
        listings=answer.listings,
        organiser_affiliates=answer.organiser_affiliates,
        representatives_elsewhere=await representatives_elsewhere(
            session, context.edition, representative_indexes, context.team_id
        ),
        team_has_project=await team_has_project(session, context),
        team_in_other_competition=await team_elsewhere(session, context, units[0].credit_code if units else ""),
        registration_open=registration_open,
    )


async def stored_entry(session: AsyncSession, project_id: str) -> tuple[EntryContext, tuple[UnitFacts, ...], list[str]]:
    """Context, units (lead first) and representatives' blind indexes of a registered project."""
    project = await session.get(models.Project, project_id)
    if project is None:
        raise LookupError(f"no project {project_id}")
    team = await session.get(models.Team, project.team_id)
    competition = await session.get(models.Competition, project.competition_code)
    assert team is not None and competition is not None
    eligibility = competition.catalog.get("eligibility", {})
    context = EntryContext(
        competition.code,
        competition.edition,
        project.track_code,
        int(eligibility.get("max_representatives", 5)),
        tuple(eligibility.get("public_sector_tracks", ())),
        team.name,
        team.id,
    )
    rows = (
        await session.execute(
            select(models.Unit, models.TeamUnit.role)
            .join(models.TeamUnit, models.TeamUnit.unit_id == models.Unit.id)
            .where(models.TeamUnit.team_id == team.id)
            .order_by(models.TeamUnit.role != "lead", models.TeamUnit.id)
        )
    ).all()
    relations = (
        (
            await session.execute(
                select(models.UnitRelation).where(models.UnitRelation.unit_id.in_([u.id for u, _ in rows]))
            )
        )
        .scalars()
        .all()
    )
    units = tuple(
        UnitFacts(
            u.credit_code,
            u.name,
            UnitKind(u.kind),
            u.independent_legal_person,
            tuple((r.related_credit_code, Relation(r.relation)) for r in relations if r.unit_id == u.id),
        )
        for u, _ in rows
    )
    indexes = list(
        (
            await session.scalars(
                select(models.Representative.id_number_index).where(models.Representative.team_id == team.id)
            )
        ).all()
    )
    return context, units, indexes
