"""EligibilityActivities: re-check a registered project against every rule, and lock its representatives."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contracts import EligibilityReport
from checks.facts import codes_to_check, entry_facts, stored_entry
from checks.registry import CreditRegistry
from db import models
from db.audit import AuditEntry, append_audit
from domain.eligibility import evaluate


class EligibilityActivities:
    """Database and credit-registry work for the registration stage."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], registry: CreditRegistry) -> None:
        self._sessions = sessions
        self._registry = registry

    @activity.defn
    async def check_project(self, project_id: str) -> EligibilityReport:
        """Every rule over fresh facts; a registry that cannot answer fails the attempt (retried, never passed)."""
        async with self._sessions() as session:
            context, units, indexes = await stored_entry(session, project_id)
        # No connection held while the registry answers: the local one takes a connection of its own, and with every
        # check holding one while waiting for a second the pool ran dry (PostgreSQL, 32 registrations at once).
        answer = await self._registry.lookup(codes_to_check(units))
        async with self._sessions() as session:
            facts = await entry_facts(session, context, units, indexes, answer, registration_open=True)
        violations = [v for v in evaluate(facts)]
        return EligibilityReport(project_id, violations)

    @activity.defn
    async def lock_representatives(self, project_id: str) -> None:
        """From the registration deadline on, the team's representatives cannot change."""
        async with self._sessions.begin() as session:
            project = await session.get(models.Project, project_id)
            if project is None:
                raise LookupError(f"no project {project_id}")
            result = await session.execute(
                update(models.Team)
                .where(models.Team.id == project.team_id, models.Team.representatives_locked_at.is_(None))
                .values(representatives_locked_at=datetime.now(UTC))
            )
            if getattr(result, "rowcount", 0):
                await append_audit(
                    session, AuditEntry("system", "system", "representatives.locked", "project", project_id)
                )
