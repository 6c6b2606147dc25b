"""The reserve inside ProjectWorkflow: a ranked project that missed the finalists waits until the first public notice
closes, in case the competition promotes it in place of a finalist that failed verification, withdrew or was
disqualified on an objection (promoted after verification closed, it is verified late, shown overdue)."""

from __future__ import annotations

from contextlib import suppress

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import FirstRoundResult
    from domain.calendar import window_of
    from domain.stages import Decision, Stage
    from workflows import presentation
    from workflows.contracts import DecisionRecord
    from workflows.core import ProjectCore
    from workflows.stage_contracts import Promotion


class ReservePromotion(ProjectCore):
    """Mixed into ProjectWorkflow; the attributes below are the workflow's own."""

    _pending: DecisionRecord | None
    _review_phase: str | None
    _promotion: Promotion | None
    _calendar_revision: int

    async def _wait_in_reserve(self, result: FirstRoundResult) -> DecisionRecord | None:
        """Wait for a promotion, an organiser's decision or the close of the first notice (None: not promoted)."""
        self._review_phase = "reserve"
        await self._log("reserve", Stage.FIRST_ROUND_REVIEW, reason=f"rank {result.rank} in track")
        while self._promotion is None and self._pending is None:
            closes = window_of(self._calendar, Stage.FIRST_PUBLIC_NOTICE).closes_at
            if workflow.now() >= closes:
                return None
            self._publish("reserve", "organiser", closes, overdue=False)
            revision = self._calendar_revision
            label = "reserve until " + presentation.display_time(closes, self._start.display_utc_offset_minutes)
            with suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda rev=revision: (
                        self._promotion is not None  # type: ignore[misc]
                        or self._pending is not None
                        or self._calendar_revision != rev
                    ),
                    timeout=closes - workflow.now(),
                    timeout_summary=label,
                )
        if self._pending is not None:
            record, self._pending = self._pending, None
            return record
        promotion = self._promotion
        assert promotion is not None
        self._review_phase = "promoted"
        await self._mail("first_round_promoted", "first_round_promoted", replaces=promotion.replaces)
        reason = f"promoted from the reserve in place of {promotion.replaces}: {promotion.reason}"
        return DecisionRecord(
            Stage.FIRST_ROUND_REVIEW.value, Decision.ADVANCE.value, promotion.actor, reason, workflow.now()
        )

    @workflow.signal
    def promote(self, promotion: Promotion) -> None:
        """The competition's promotion of this reserve project (its update checked it; only the first counts)."""
        if self._review_phase == "reserve" and self._promotion is None:
            self._promotion = promotion
        else:
            workflow.logger.warning("promotion of %s ignored in phase %s", promotion.candidate, self._review_phase)
