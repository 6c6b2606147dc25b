"""RecordActivities: write each project's durable log entry once, whatever the retries."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contracts import ProjectEventRecord
from db.models import ProjectEvent
from db.upsert import insert_if_absent


class RecordActivities:
    """Database writes a project workflow asks for."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def record_project_event(self, entry: ProjectEventRecord) -> bool:
        """Append one entry; True when this attempt wrote it, False when an earlier one did."""
        async with self._sessions.begin() as session:
            return await insert_if_absent(session, ProjectEvent, asdict(entry), ["project_id", "seq"])
