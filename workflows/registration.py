"""The registration stage's own work inside ProjectWorkflow: eligibility checks, materials, reminder, close."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.eligibility import EligibilityActivities
    from domain.calendar import window_of
    from domain.eligibility import Violation
    from domain.materials import describe
    from domain.stages import DECISION_OUTCOMES, Decision, Outcome, Stage
    from workflows.contracts import DecisionRecord, MaterialsState
    from workflows.core import ProjectCore

CHECK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=3,
)
CHECK_PENDING_RETRY = timedelta(hours=1)


class RegistrationStage(ProjectCore):
    """Mixed into ProjectWorkflow; the attributes below are the workflow's own."""

    _pending: DecisionRecord | None
    _materials: MaterialsState
    _reminded_for: datetime | None
    _violations: list[Violation]

    async def _open_registration(self) -> Outcome | None:
        """Right after registering: every rule over fresh facts, then tell an incomplete team what is missing."""
        outcome = await self._eligibility("registration")
        if outcome is None and not self._materials.complete:
            zh, en = describe(self._materials.missing)
            await self._mail("registration_incomplete", "registration_incomplete", missing_zh=zh, missing_en=en)
        return outcome

    async def _close_registration(self) -> Outcome | None:
        """At the deadline: the rules once more, then incomplete ends as not submitted; representatives lock."""
        outcome = await self._eligibility("close")
        if outcome is not None:
            return outcome
        if not self._materials.complete:
            zh, en = describe(self._materials.missing)
            await self._mail("registration_not_submitted", "registration_not_submitted", missing_zh=zh, missing_en=en)
            await self._log("not_submitted", Stage.REGISTRATION, reason=en)
            return Outcome.NOT_SUBMITTED
        await self._store(EligibilityActivities.lock_representatives, self._start.project_id, "lock representatives")
        return None

    def _reminder_due(self) -> datetime | None:
        """When the 'closes soon' reminder is due for the current deadline (None: sent, or nothing missing)."""
        closes = window_of(self._calendar, Stage.REGISTRATION).closes_at
        if self._materials.complete or self._reminded_for == closes or self._start.reminder_before_seconds <= 0:
            return None
        return closes - timedelta(seconds=self._start.reminder_before_seconds)

    async def _send_reminder(self) -> None:
        """The reminder for this deadline, once (a moved deadline earns a new one)."""
        closes = window_of(self._calendar, Stage.REGISTRATION).closes_at
        self._reminded_for = closes
        zh, en = describe(self._materials.missing)
        await self._mail(
            f"registration_closing/{closes:%Y%m%dT%H%M}", "registration_closing", missing_zh=zh, missing_en=en
        )

    async def _eligibility(self, moment: str) -> Outcome | None:
        """Run the rules; a registry that cannot answer leaves the project pending (visible), retried hourly."""
        while True:
            try:
                report = await workflow.execute_activity_method(
                    EligibilityActivities.check_project,
                    self._start.project_id,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=CHECK_RETRY,
                    summary=f"eligibility check at {moment}",
                )
                break
            except ActivityError as exc:
                retry_at = workflow.now() + CHECK_PENDING_RETRY
                self._publish("eligibility_pending", "credit_check", retry_at, overdue=False)
                workflow.logger.warning("eligibility check pending: %s", exc.cause)
                await self._log("eligibility_pending", Stage.REGISTRATION, reason=str(exc.cause)[:500])
                try:
                    await workflow.wait_condition(
                        lambda: self._pending is not None,
                        timeout=CHECK_PENDING_RETRY,
                        timeout_summary="retry the eligibility check",
                    )
                except TimeoutError:
                    continue
                record, self._pending = self._pending, None
                assert record is not None
                await self._log("decision", Stage.REGISTRATION, record)
                return DECISION_OUTCOMES[Decision(record.decision)]
        self._violations = list(report.violations)
        if not report.violations:
            return None
        reasons_zh = "；".join(v.zh for v in report.violations)
        reasons_en = "; ".join(v.en for v in report.violations)
        await self._log("ineligible", Stage.REGISTRATION, reason=",".join(v.code for v in report.violations))
        await self._mail("ineligible", "ineligible", reasons_zh=reasons_zh, reasons_en=reasons_en)
        return Outcome.DISQUALIFIED
