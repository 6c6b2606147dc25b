"""The final review inside ProjectWorkflow (4.决赛评审): the roadshow slot is mailed to the team, the final panel
scores with the first round's validators and reminders, and the competition's confirmed final ranking decides."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import FinalResult
    from domain.calendar import StageWindow, window_of
    from domain.stages import Decision, Outcome, Stage
    from workflows import presentation
    from workflows.contracts import DecisionRecord, ReviewerState, ReviewTerms
    from workflows.first_round import FirstRoundReview
    from workflows.stage_contracts import RoadshowSlot

# From this patch on, the final review runs the roadshow and the final panel's scores; histories from before it run
# the plain stage (an organiser's decision).
FINAL_PATCH = "final-review"
STAGE = Stage.FINAL_REVIEW
FINAL_ROUND = "final_review"


class FinalReview(FirstRoundReview):
    """Mixed into ProjectWorkflow; the attributes below are the workflow's own."""

    _outcome: Outcome | None
    _pending: DecisionRecord | None
    _decisions: list[DecisionRecord]
    _calendar_revision: int
    _round: str
    _review_phase: str | None
    _review_version: int
    _reviewers: dict[str, ReviewerState]
    _first_round_reviewers: dict[str, ReviewerState]
    _judges: set[str]
    _terms: ReviewTerms | None
    _slot: RoadshowSlot | None
    _final_result: FinalResult | None

    async def _review_final(self) -> DecisionRecord:
        """Mail the roadshow slot, run the panel's reminders, and end with the confirmed final result."""
        self._round = FINAL_ROUND
        self._first_round_reviewers, self._reviewers = self._reviewers, {}
        self._judges, self._terms = set(), None
        self._review_phase = "roadshow"
        told = 0
        while True:
            if self._pending is not None:
                record, self._pending = self._pending, None
                return record
            if self._slot is not None and self._slot.version != told:
                told = self._slot.version
                await self._mail_slot(self._slot)
                continue
            if self._final_result is not None:
                record = self._final_decision(self._final_result)
                self._decisions.append(record)
                return record
            window = window_of(self._calendar, STAGE)
            now = workflow.now()
            timer = self._next_escalation() if now >= window.opens_at else None
            if timer is not None and timer[0] <= now:
                await self._escalate(timer[1], timer[2])
                continue
            phase, waiting_on, until, overdue = self._final_status(window, now)
            self._review_phase = phase
            self._publish(phase, waiting_on, until, overdue=overdue)
            wakes = [t for t in (timer[0] if timer else None, window.opens_at, window.closes_at) if t and t > now]
            await self._wait_for_final_change(min(wakes) if wakes else None, phase)

    def _final_status(self, window: StageWindow, now: datetime) -> tuple[str, str, datetime, bool]:
        """(phase, waiting on, until when, overdue) of the final review now."""
        if self._slot is None:
            return "roadshow", "organiser", window.opens_at if now < window.opens_at else window.closes_at, False
        if now < window.opens_at:
            return "waiting_to_open", "calendar", window.opens_at, False
        pending = [r for r in self._reviewers.values() if r.state == "assigned"]
        if pending:
            due = min(r.due_at for r in pending)
            return "final_scoring", "judges", due, now >= due
        if not self._reviewers:
            return "awaiting_panel", "organiser", window.closes_at, now >= window.closes_at
        return "final_ranking", "organiser", window.closes_at, now >= window.closes_at

    async def _wait_for_final_change(self, until: datetime | None, phase: str) -> None:
        seen = (self._review_version, self._calendar_revision, self._slot)

        def woken() -> bool:
            changed = (self._review_version, self._calendar_revision, self._slot) != seen
            return self._pending is not None or self._final_result is not None or changed

        if until is None:
            await workflow.wait_condition(woken)
            return
        label = f"final {phase}: next check {presentation.display_time(until, self._start.display_utc_offset_minutes)}"
        with suppress(TimeoutError):
            await workflow.wait_condition(woken, timeout=until - workflow.now(), timeout_summary=label)

    async def _mail_slot(self, slot: RoadshowSlot) -> None:
        """The team's roadshow slot (a re-planned schedule is mailed again under its new version)."""
        offset = self._start.display_utc_offset_minutes
        await self._log("roadshow_scheduled", STAGE, reason=f"v{slot.version} #{slot.order} {slot.room}")
        await self._mail(
            f"roadshow_schedule/{slot.version}",
            "roadshow_schedule",
            order=str(slot.order),
            starts_at=presentation.display_time(slot.starts_at, offset),
            qa_at=presentation.display_time(slot.qa_at, offset),
            ends_at=presentation.display_time(slot.ends_at, offset),
            room=slot.room,
            presentation_minutes=str(slot.presentation_minutes),
            qa_minutes=str(slot.qa_minutes),
        )

    def _final_decision(self, result: FinalResult) -> DecisionRecord:
        """The confirmed final ranking: an award (or none) and on to the final public notice."""
        award = result.award or "none"
        reason = f"final ranking run {result.run_id}: rank {result.rank}, score {result.score:g}, award {award}"
        return DecisionRecord(STAGE.value, Decision.ADVANCE.value, "organisers", reason, workflow.now())

    @workflow.signal
    def roadshow_scheduled(self, slot: RoadshowSlot) -> None:
        """The team's slot in its track's roadshow; a newer version replaces it."""
        if self._slot is None or slot.version > self._slot.version:
            self._slot = slot

    @workflow.signal
    def final_result(self, result: FinalResult) -> None:
        """The competition's confirmed final result (the first one counts)."""
        if self._final_result is None:
            self._final_result = result

    @workflow.query
    def roadshow(self) -> RoadshowSlot | None:
        """The team's roadshow slot, if scheduled."""
        return self._slot
