"""A project's mails when the relay misbehaves, on the dev server: with the relay down, the one fast attempt fails,
the regular activity retries with backoff while the mail stays queued, and the mail goes out once when the relay
returns; a relay that refuses for good fails the mail at once (no retries) and the project carries on."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from config import Settings
from db.outbox import Mail
from devtools.mail_sink import MailSink, read_store
from domain.stages import Stage
from tests.conftest import free_port
from tests.helpers import (
    eventually,
    in_stage,
    liaoning_calendar_from,
    project_start,
    seed_project,
    start_project,
    wait_for,
)
from tests.test_mail import RefusingHandler
from workers.main import build_worker


async def outbox(sessions: async_sessionmaker[AsyncSession], project_id: str, milestone: str) -> Mail | None:
    async with sessions() as session:
        query = select(Mail).where(Mail.workflow_id == project_id, Mail.milestone == milestone)
        return (await session.execute(query)).scalar_one_or_none()


async def regular_mail_activities(handle: WorkflowHandle) -> int:  # type: ignore[type-arg]
    """How many send_mail activities the history scheduled (the fast attempts are markers, not activities)."""
    count = 0
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            count += event.activity_task_scheduled_event_attributes.activity_type.name == "send_mail"
    return count


async def test_with_the_relay_down_the_mail_waits_queued_and_goes_out_once_when_it_returns(
    dev_env: WorkflowEnvironment,
    settings_factory: Callable[..., Settings],
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens here yet
    async with build_worker(dev_env.client, settings_factory(smtp_port=port, smtp_timeout_seconds=2)) as worker:
        start = project_start(
            f"ln-test-P{uuid.uuid4().hex[:8]}", liaoning_calendar_from(await dev_env.get_current_time())
        )
        await seed_project(sessions, start)
        handle = await start_project(dev_env.client, worker.task_queue, start)

        async def retried() -> bool:
            row = await outbox(sessions, start.project_id, "registration_received")
            return row is not None and row.status == "queued" and row.attempts >= 2 and bool(row.last_error)

        assert await eventually(retried, within=30)  # the fast attempt, then the regular activity's first tries
        assert await regular_mail_activities(handle) == 1
        with MailSink(tmp_path, port=port) as sink:

            async def sent() -> bool:
                row = await outbox(sessions, start.project_id, "registration_received")
                return row is not None and row.status == "sent"

            assert await eventually(sent, within=60)  # the backoff doubles from 1 s
            await wait_for(handle, in_stage(Stage.REGISTRATION, "team"), within=60)
            keys = [m["X-ContestFlow-Key"] for m in read_store(sink.store)]
        assert keys.count(f"{start.project_id}/registration_received/{start.contact_email}") == 1
        await handle.terminate("test over")


async def test_a_relay_that_refuses_for_good_fails_the_mail_at_once_and_the_project_carries_on(
    dev_env: WorkflowEnvironment,
    settings_factory: Callable[..., Settings],
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    with MailSink(tmp_path, port=free_port(), handler=RefusingHandler(tmp_path)) as refusing:
        async with build_worker(dev_env.client, settings_factory(smtp_port=refusing.port)) as worker:
            calendar = liaoning_calendar_from(await dev_env.get_current_time())
            start = project_start(f"ln-test-P{uuid.uuid4().hex[:8]}", calendar, email="nobody@example.com")
            await seed_project(sessions, start)
            handle = await start_project(dev_env.client, worker.task_queue, start)
            await wait_for(handle, in_stage(Stage.REGISTRATION, "team"), within=30)
            row = await outbox(sessions, start.project_id, "registration_received")
            assert row is not None and (row.status, row.attempts) == ("failed", 1) and "550" in (row.last_error or "")
            assert await regular_mail_activities(handle) == 0
            assert read_store(refusing.store) == []
            await handle.terminate("test over")
