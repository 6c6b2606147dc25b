"""The eligibility check holds no database connection while the credit registry answers: the local registry takes
a connection of its own, and checks that each held one while waiting for a second drained the pool (PostgreSQL,
32 registrations at once in the national simulator). Here a pool of one connection must serve several checks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from temporalio.testing import ActivityEnvironment

from activities.eligibility import EligibilityActivities
from checks.registry import LocalRegistry
from db.session import make_sessionmaker
from tests.helpers import liaoning_calendar_from, project_start, seed_project


async def test_checks_share_a_pool_of_one_connection(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    starts = [
        project_start(f"ln-test-P{uuid.uuid4().hex[:8]}", liaoning_calendar_from(datetime.now(UTC))) for _ in range(3)
    ]
    for start in starts:
        await seed_project(sessions, start)
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=3)
    try:
        one_connection = make_sessionmaker(engine)
        checks = EligibilityActivities(one_connection, LocalRegistry(one_connection))
        reports = await asyncio.gather(
            *(ActivityEnvironment().run(checks.check_project, start.project_id) for start in starts)
        )
    finally:
        await engine.dispose()
    assert [r.project_id for r in reports] == [s.project_id for s in starts]
    assert all(r.violations == [] for r in reports), [r.violations for r in reports]
