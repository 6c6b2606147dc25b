"""Alembic environment: runs migrations on the async engine named by the settings (or -x url=...)."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import db.final_models
import db.notice_models
import db.outbox  # noqa: F401  (registers the mail outbox)
from config import get_settings
from db.models import Base
from db.session import make_engine

target_metadata = Base.metadata


def _url() -> str:
    return context.config.attributes.get("url") or get_settings().effective_database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
