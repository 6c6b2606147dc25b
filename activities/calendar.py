"""CalendarActivities: store a competition's new calendar and signal it to every running project."""

from __future__ import annotations

import asyncio

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError

from activities.contracts import BroadcastResult, CalendarBroadcast
from db.models import Competition
from domain.calendar import windows_to_plain

FAN_OUT = 32


class CalendarActivities:
    """Fan-out of calendar changes with bounded concurrency, outside any workflow history."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: Client) -> None:
        self._sessions = sessions
        self._client = client

    @activity.defn
    async def broadcast_calendar(self, broadcast: CalendarBroadcast) -> BroadcastResult:
        """Save the calendar, then signal `apply_calendar` to each running project of the competition."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Competition)
                .where(Competition.code == broadcast.competition_code)
                .values(calendar=windows_to_plain(broadcast.windows))
            )
        query = (
            f'WorkflowType="ProjectWorkflow" AND ContestCompetition="{broadcast.competition_code}" '
            'AND ExecutionStatus="Running"'
        )
        gate = asyncio.Semaphore(FAN_OUT)
        signalled = failed = 0

        async def signal(workflow_id: str) -> None:
            nonlocal signalled, failed
            async with gate:
                try:
                    await self._client.get_workflow_handle(workflow_id).signal("apply_calendar", broadcast)
                    signalled += 1
                except RPCError as exc:
                    failed += 1
                    activity.logger.warning("calendar not delivered to %s: %s", workflow_id, exc)
                activity.heartbeat(signalled + failed)

        tasks = [asyncio.create_task(signal(w.id)) async for w in self._client.list_workflows(query)]
        await asyncio.gather(*tasks)
        return BroadcastResult(signalled, failed)
