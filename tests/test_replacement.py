"""Replacing judges straight through the activity: two replacements at the same moment take turns, so the
reserve one below their cap is given one project, never two."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.contracts import ReplacementRequest
from activities.review import ReviewActivities
from db.models import Assignment
from tests.helpers import liaoning_calendar_from, project_start, seed_judge, seed_project


async def test_two_replacements_at_once_never_push_a_reserve_past_the_cap(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    code = f"ln-race-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    due = now + timedelta(days=3)
    calendar = liaoning_calendar_from(now)
    starts = [replace(project_start(f"{code}-P{n:05d}", calendar), competition_code=code) for n in (1, 2, 3)]
    for start in starts:
        await seed_project(sessions, start)
    contested = (starts[0].project_id, starts[1].project_id)
    leaving, _ = await seed_judge(sessions, code, projects=contested, due_at=due)
    tight, _ = await seed_judge(sessions, code, max_load=1)  # the least loaded: room for one more project
    roomy, _ = await seed_judge(sessions, code, projects=(starts[2].project_id,), due_at=due)

    activities = ReviewActivities(sessions)

    async def replace_on(project_id: str) -> str | None:
        request = ReplacementRequest(project_id, code, leaving, "organiser_override", "评审专家出差", due)
        slot = await ActivityEnvironment().run(activities.replace_reviewer, request)
        return slot.judge if slot else None

    chosen = await asyncio.gather(*(replace_on(p) for p in contested))
    assert sorted(str(c) for c in chosen) == sorted([tight, roomy])
    async with sessions() as session:
        load = await session.scalar(
            select(func.count()).where(Assignment.account_id == int(tight), Assignment.state == "assigned")
        )
    assert load == 1
