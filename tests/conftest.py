"""Shared fixtures: a migrated database (SQLite or PostgreSQL), a real SMTP sink, real Temporal servers."""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from config import Settings
from db.migrate import upgrade_to_head_async
from db.session import make_engine, make_sessionmaker
from devtools.binaries import dev_server_sqlite_flags, temporal_cli, temporal_test_server
from devtools.mail_sink import MailSink
from domain.roles import Role
from tests.helpers import signed_in
from workers.main import build_worker
from workflows.search_attributes import ALL_KEYS

TEST_DATABASE = os.environ.get("CONTESTFLOW_TEST_DATABASE", "sqlite")
TEST_PERSONAL_DATA_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Cohort-sized tests go last: the hundreds of workflows and rows they leave would slow every later test."""
    items.sort(key=lambda item: item.get_closest_marker("cohort") is not None)


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A fresh, migrated database for this run: a SQLite file, or a new database on the given PostgreSQL."""
    if TEST_DATABASE == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'contestflow.db'}"
        await upgrade_to_head_async(url)
        yield url
        return
    server = make_url(TEST_DATABASE)
    name = f"contestflow_test_{uuid.uuid4().hex[:12]}"
    dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade_to_head_async(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The test database's engine."""
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test database."""
    return make_sessionmaker(engine)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test stack's data folder (uploads, the mail sink's store)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def mail_sink(data_dir: Path) -> Iterator[MailSink]:
    """A real SMTP server on loopback storing every message as a file where `make run` keeps them."""
    with MailSink(data_dir / "mail", port=free_port()) as sink:
        yield sink


@pytest.fixture(scope="session")
def settings_factory(database_url: str, mail_sink: MailSink, data_dir: Path):  # type: ignore[no-untyped-def]
    """Settings for the test stack, with overrides per test."""

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": data_dir,
            "database_url": database_url,
            "smtp_port": mail_sink.port,
            "mail_delivery_lookup": "sink",  # as `make run`: a mail in doubt is looked up in the sink's store
            "temporal_task_queue": f"test-{uuid.uuid4().hex[:8]}",
            "personal_data_key": TEST_PERSONAL_DATA_KEY,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]

    return make


@pytest.fixture(scope="session")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server, with the project's search attributes registered."""
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(temporal_test_server()))
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                k.name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{k.indexed_value_type.name}") for k in ALL_KEYS
            },
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WorkflowEnvironment]:
    """The real dev server (`temporal server start-dev`) with the search attributes, state in a temp file."""
    db_file: Path = tmp_path_factory.mktemp("temporal") / "temporal.db"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        search_attributes=ALL_KEYS,
        ui=False,
        dev_server_database_filename=str(db_file),
        dev_server_extra_args=dev_server_sqlite_flags(),
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def api_settings(settings_factory: Callable[..., Settings]) -> Settings:
    """The settings the API and its worker share in tests."""
    return settings_factory()


@pytest.fixture(scope="session")
async def transport(dev_env: WorkflowEnvironment, api_settings: Settings) -> AsyncIterator[httpx.ASGITransport]:
    """The real app (lifespan included) over ASGI, with a real worker polling the dev server."""
    settings = api_settings
    async with build_worker(dev_env.client, settings):
        app = create_app(settings, temporal=dev_env.client)
        async with app.router.lifespan_context(app):
            yield httpx.ASGITransport(app=app)


@pytest.fixture(scope="session")
async def api(
    transport: httpx.ASGITransport, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as an organiser."""
    _, headers = await signed_in(sessions, Role.ORGANISER)
    async with httpx.AsyncClient(transport=transport, base_url="http://contestflow.test", headers=headers) as client:
        yield client


@pytest.fixture(scope="session")
async def public(transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client, as a registering team or the public."""
    async with httpx.AsyncClient(transport=transport, base_url="http://contestflow.test") as client:
        yield client


@pytest.fixture(scope="session")
async def worker(time_env: WorkflowEnvironment, settings_factory: Callable[..., Settings]) -> AsyncIterator[Worker]:
    """A real worker (real activities, database and SMTP sink) on the time-skipping server."""
    async with build_worker(time_env.client, settings_factory()) as running:
        yield running


@pytest.fixture(scope="session")
def live_api(transport: httpx.ASGITransport, dev_env: WorkflowEnvironment, api_settings: Settings) -> Iterator[str]:
    """The API served over real HTTP by uvicorn (in a thread with its own Temporal client), for the CLI and the
    browser; `transport` brings the worker that polls the same task queue."""
    settings = api_settings.model_copy(update={"temporal_address": dev_env.client.service_client.config.target_host})
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="live-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live API did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
