"""Helpers for workflow tests: the real Liaoning calendar moved to now, starting projects, waiting on state."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from catalogs import bundled_catalogs, load_catalog
from domain.calendar import StageWindow, build_calendar
from domain.stages import Stage
from workflows.contracts import ProjectResult, ProjectStart, ProjectStatus
from workflows.project import ProjectWorkflow

SHANGHAI = ZoneInfo("Asia/Shanghai")
HISTORIES = Path(__file__).parent / "histories"


def liaoning_calendar_from(now: datetime) -> list[StageWindow]:
    """The real 2025 Liaoning calendar moved by whole days so that registration opened yesterday.

    Whole-day shifts keep every window's length, every gap and every local-midnight boundary of the notice.
    """
    catalog = load_catalog(bundled_catalogs()["liaoning-2025"])
    days = (now.astimezone(SHANGHAI).date() - date(2025, 6, 3)).days - 1
    return [
        StageWindow(w.stage, w.opens_at + timedelta(days=days), w.closes_at + timedelta(days=days))
        for w in build_calendar(catalog.calendar, SHANGHAI)
    ]


def project_start(project_id: str, calendar: list[StageWindow], email: str = "team@example.com") -> ProjectStart:
    """A project in the city governance track."""
    return ProjectStart(
        project_id=project_id,
        competition_code="ln-test",
        competition_name='2025年"数据要素×"大赛辽宁分赛',
        project_name="城市生命线数字孪生平台",
        team_name="沈阳数智团队",
        track_code="city_governance",
        track_name="城市治理",
        problem_code="city_governance-07",
        problem_title="推动城市管理数智升级",
        contact_name="王伟",
        contact_email=email,
        calendar=calendar,
    )


async def start_project(
    client: Client,
    task_queue: str,
    start: ProjectStart,
) -> WorkflowHandle[ProjectWorkflow, ProjectResult]:
    """Start a project workflow on the given task queue."""
    return await client.start_workflow(ProjectWorkflow.run, start, id=start.project_id, task_queue=task_queue)


async def wait_for(
    handle: WorkflowHandle[ProjectWorkflow, ProjectResult],
    predicate: Callable[[ProjectStatus], bool],
    within: float = 15.0,
) -> ProjectStatus:
    """Poll the status query until the predicate holds (real seconds)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        status = await handle.query(ProjectWorkflow.status)
        if predicate(status):
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out; last status: {status}")
        await asyncio.sleep(0.05)


def in_stage(stage: Stage, waiting_on: str | None = None) -> Callable[[ProjectStatus], bool]:
    """A predicate: the project is in `stage` (and waits on `waiting_on`, when given)."""
    return lambda s: s.stage == stage.value and (waiting_on is None or s.waiting_on == waiting_on)


async def skip_to(env: WorkflowEnvironment, when: datetime) -> None:
    """Advance the time-skipping server's clock to `when` (no-op if already past)."""
    now = await env.get_current_time()
    if when > now:
        await env.sleep(when - now)


async def keep_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With CONTESTFLOW_RECORD_HISTORIES=1, save the run's history for the replay tests in tests/histories/."""
    if os.environ.get("CONTESTFLOW_RECORD_HISTORIES") == "1":
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text((await handle.fetch_history()).to_json())
