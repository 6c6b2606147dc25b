"""Every patch is decided in a new run's first workflow task, before any local activity: a patch checked later, just
after a local activity, could not be replayed when a timed-out task split the activity's marker from the code after
it (TMPRL1100 in the chaos run). The list of patches decided up front must name every patch in the code."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from config import Settings
from domain.stages import Stage
from tests.helpers import in_stage, liaoning_calendar_from, project_start, seed_project, start_project, wait_for
from workers.main import build_worker
from workflows.project import EVERY_PATCH, PATCHES_UP_FRONT

WORKFLOWS = Path(__file__).parent.parent / "workflows"


def test_every_patch_in_the_code_is_decided_up_front() -> None:
    defined = {
        value
        for path in WORKFLOWS.glob("*.py")
        for value in re.findall(r'^[A-Z_]+_PATCH = "([a-z-]+)"', path.read_text(), flags=re.MULTILINE)
    }
    assert defined and defined == set(EVERY_PATCH)


async def test_a_new_run_records_every_patch_marker_before_its_first_local_activity(
    dev_env: WorkflowEnvironment,
    settings_factory: Callable[..., Settings],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with build_worker(dev_env.client, settings_factory()) as worker:
        start = project_start(
            f"ln-test-P{uuid.uuid4().hex[:8]}", liaoning_calendar_from(await dev_env.get_current_time())
        )
        await seed_project(sessions, start)
        handle = await start_project(dev_env.client, worker.task_queue, start)
        await wait_for(handle, in_stage(Stage.REGISTRATION, "team"), within=30)
        markers = [
            e.marker_recorded_event_attributes
            async for e in handle.fetch_history_events()
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        ]
        await handle.terminate("test over")
    kinds = [m.marker_name for m in markers]
    first_activity = kinds.index("core_local_activity")
    patches = [json.loads(m.details["patch-data"].payloads[0].data)["id"] for m in markers[:first_activity]]
    assert patches == [PATCHES_UP_FRONT, *EVERY_PATCH]
    assert "core_patch" not in kinds[first_activity:]
    assert len({m.workflow_task_completed_event_id for m in markers[: len(patches)]}) == 1  # one task
