"""Workflows for the announcement bench: a stand-in project that waits for its first-round result, and a driver
that runs the real announcement activity exactly as CompetitionWorkflow does."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import AnnouncementReport, AnnouncementRequest, FirstRoundResult
    from activities.review import CohortActivities
    from workflows.core import ACTIVITY_RETRY


@workflow.defn
class ResultWaiter:
    """Waits for the signal a project workflow gets, then ends with whether it advanced."""

    def __init__(self) -> None:
        self._result: FirstRoundResult | None = None

    @workflow.run
    async def run(self) -> bool:
        """Wait for the result."""
        await workflow.wait_condition(lambda: self._result is not None)
        assert self._result is not None
        return self._result.advanced

    @workflow.signal(name="first_round_result")
    def first_round_result(self, result: FirstRoundResult) -> None:
        """The same signal name and payload ProjectWorkflow takes."""
        self._result = result


@workflow.defn
class AnnouncementDriver:
    """Runs CohortActivities.announce_first_round with CompetitionWorkflow's options."""

    @workflow.run
    async def run(self, request: AnnouncementRequest) -> AnnouncementReport:
        """One activity for the whole cohort."""
        report: AnnouncementReport = await workflow.execute_activity_method(
            CohortActivities.announce_first_round,
            request,
            start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=ACTIVITY_RETRY,
        )
        return report
