"""A workflow that reads the wall clock, which the sandbox must refuse in either of its modes."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import workflow


@workflow.defn
class ReadsTheWallClock:
    """Calls `datetime.now()` where `workflow.now()` belongs."""

    @workflow.run
    async def run(self) -> str:
        return datetime.now(UTC).isoformat()
