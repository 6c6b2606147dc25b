"""The database goes away in the middle of a decision: the API answers 503 with a clear message and a Retry-After,
the workflow's database writes (its log, the outbox) retry while it waits, and once the database is back the
decision is logged once and the team's mail goes out once. The outage is real: PostgreSQL stops accepting
connections and drops the open ones; SQLite's single write lock is held by another connection."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
import httpx
from sqlalchemy import exc as sa
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.database_errors import database_unavailable
from config import Settings
from db.models import AuditRecord, ProjectEvent
from db.outbox import Mail
from devtools.mail_sink import MailSink, read_store
from domain.roles import Role
from tests.helpers import liaoning_calendar_from, project_start, seed_project, signed_in, start_project
from tests.test_mail_delivery import regular_mail_activities
from workers.main import build_worker


@asynccontextmanager
async def outage(database_url: str) -> AsyncIterator[None]:
    """The database unavailable for the length of the block."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # every other writer waits out its busy timeout and fails
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    admin = await asyncpg.connect(url.set(drivername="postgresql", database="postgres").render_as_string(False))
    name = url.database
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


async def test_a_database_outage_gives_503s_and_loses_nothing(
    dev_env: WorkflowEnvironment,
    settings_factory: Callable[..., Settings],
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    mail_sink: MailSink,
) -> None:
    settings = settings_factory(database_busy_timeout_seconds=1)
    _, organiser = await signed_in(sessions, Role.ORGANISER)
    start = project_start(
        f"ln-test-P{uuid.uuid4().hex[:8]}",
        liaoning_calendar_from(await dev_env.get_current_time()),
        email=f"{uuid.uuid4().hex[:8]}@example.com",
    )
    await seed_project(sessions, start)
    app = create_app(settings, temporal=dev_env.client)
    async with build_worker(dev_env.client, settings) as worker, app.router.lifespan_context(app):
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=organiser)
        decision = {"stage": "registration", "decision": "withdraw", "reason": "团队解散"}
        retry_safe = {"Idempotency-Key": uuid.uuid4().hex}
        async with api:
            async with outage(database_url):
                # The workflow starts (Temporal is up): its mail and its log wait for the database, retrying.
                handle = await start_project(dev_env.client, worker.task_queue, start)
                await asyncio.sleep(3)
                answer = await api.post(f"/projects/{start.project_id}/decisions", json=decision, headers=retry_safe)
                assert answer.status_code == 503, answer.text
                assert answer.json()["error"]["code"] == "database_unavailable"
                assert "数据库" in answer.json()["error"]["message_zh"] and answer.headers["Retry-After"] == "5"
                assert (await handle.describe()).close_time is None  # waiting, not failed
            # Back: the client repeats the decision with the same key; it is taken once, whatever reached the
            # workflow before the database failed under the first attempt.
            again = await api.post(f"/projects/{start.project_id}/decisions", json=decision, headers=retry_safe)
            assert again.status_code == 200, again.text
            assert again.json()["effect"] == "withdrawn"
            outcome = await handle.result()
            assert (outcome.outcome, outcome.final_stage) == ("withdrawn", "registration")
            assert [d.decision for d in outcome.decisions] == ["withdraw"]
    async with sessions() as session:
        kinds = list(
            (await session.scalars(select(ProjectEvent.kind).where(ProjectEvent.project_id == start.project_id))).all()
        )
        audited = await session.scalar(
            select(func.count()).where(
                AuditRecord.object_id == start.project_id, AuditRecord.action == "project.decided"
            )
        )
        received = await session.scalar(
            select(Mail).where(Mail.workflow_id == start.project_id, Mail.milestone == "registration_received")
        )
    assert sorted(kinds) == ["decision", "outcome", "stage_entered"]  # each once
    assert audited == 1
    assert received is not None and (received.status, received.attempts) == ("sent", 1)  # one SMTP attempt
    assert await regular_mail_activities(handle) >= 1  # the fast attempt failed, the regular activity retried
    keys = [str(m["X-ContestFlow-Key"]).strip() for m in read_store(mail_sink.store)]
    assert keys.count(received.idempotency_key) == 1


def test_only_an_unreachable_or_busy_database_counts_as_unavailable() -> None:
    def wrapped(error: Exception, kind: type[sa.DBAPIError] = sa.OperationalError) -> sa.DBAPIError:
        return kind("SELECT 1", {}, error)

    assert database_unavailable(wrapped(sqlite3.OperationalError("database is locked")))
    assert database_unavailable(ConnectionRefusedError(111, "Connect call failed"))
    assert database_unavailable(sa.TimeoutError("QueuePool limit reached"))
    assert not database_unavailable(wrapped(sqlite3.OperationalError("no such table: projects")))  # a bug: 500
    assert not database_unavailable(wrapped(sqlite3.IntegrityError("UNIQUE constraint failed"), sa.IntegrityError))
    assert not database_unavailable(ValueError("database is locked"))
