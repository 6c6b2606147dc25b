"""What an organiser finds in the Temporal UI (dev server): `temporal workflow list --query` over the Contest* search
attributes finds every project waiting on a judge past its due date, every finalist of one track and every
disqualified project; each project carries a summary, static details and current details that say what it waits
on and until when."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import date, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.testing import WorkflowEnvironment

from activities.contracts import ReviewerSlot
from config import Settings
from tests.helpers import announce, cli_list, eventually, pass_checks, project_start, seed_project, start_project
from tests.stage_world import calendar_on
from workflows.contracts import DecisionRequest, ReviewAssignment, ReviewTerms
from workflows.project import ProjectWorkflow

DAY = 86400.0


async def test_organisers_find_late_reviews_finalists_and_disqualified_projects(
    transport: httpx.ASGITransport,
    dev_env: WorkflowEnvironment,
    api_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """`transport` brings the worker that polls the dev server."""
    now = await dev_env.get_current_time()
    calendar = calendar_on(now, date(2025, 7, 20))  # the first round is open
    code = f"ln-ui-{uuid.uuid4().hex[:6]}"
    late, finalist, other_track, disqualified = (
        replace(project_start(f"{code}-P{n:05d}", calendar, f"ui{n}-{code}@example.com"), competition_code=code)
        for n in range(1, 5)
    )
    other_track = replace(other_track, track_code="industrial_manufacturing", track_name="工业制造")
    handles = []
    for start in (late, finalist, other_track, disqualified):
        await seed_project(sessions, start)
        handles.append(await start_project(dev_env.client, api_settings.temporal_task_queue, start))
    for handle in handles:
        await pass_checks(handle)

    # One judge's due date passed a minute ago (no reassignment within the test: a long grace).
    terms = ReviewTerms(DAY, 30 * DAY, 2 * DAY, 3, "organisers@example.com")
    slot = ReviewerSlot("901", "judge901@example.com", now - timedelta(minutes=1))
    await handles[0].signal(ProjectWorkflow.reviewers_assigned, ReviewAssignment([slot], terms))
    await announce(handles[1], advanced=True, rank=1)
    await announce(handles[2], advanced=True, rank=1)
    await handles[3].execute_update(
        ProjectWorkflow.decide, DecisionRequest("first_round_review", "disqualify", "组委会", "查实抄袭他人成果")
    )

    async def found(query: str, expected: list[str]) -> list[str]:
        async def check() -> list[str] | None:
            ids = sorted(await asyncio.to_thread(cli_list, dev_env, f'ContestCompetition="{code}" AND {query}'))
            return ids if ids == expected else None

        found_ids: list[str] = await eventually(check, within=30)
        return found_ids

    await found('ContestWaitingOn="judges" AND ContestOverdue=true', [late.project_id])
    await found(f'ContestWaitingOn="judges" AND ContestDeadline < "{now.isoformat()}"', [late.project_id])
    await found('ContestFinalist=true AND ContestTrack="city_governance"', [finalist.project_id])
    await found("ContestFinalist=true AND ContestScore > 80", sorted([finalist.project_id, other_track.project_id]))
    await found('ContestOutcome="disqualified"', [disqualified.project_id])

    # The project's page says what it waits on until when (the summary and card: test_end_to_end).
    metadata = await handles[0].query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    current = metadata.current_details
    assert "初赛评审 first-round review" in current and "**等待 Waiting on:** judges" in current
    assert "**截止 Until:**" in current and "(UTC+08:00)" in current
    assert {q.name for q in metadata.definition.query_definitions} >= {"status"}
    assert {u.name for u in metadata.definition.update_definitions} >= {"submit_score", "decide"}
