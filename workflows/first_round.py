"""The first-round review inside ProjectWorkflow: qualification check, third-party screening, expert review with
reminders, overdue mails and reassignment to reserve judges, then the competition's confirmed result."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import FirstRoundResult, ReplacementRequest, ReviewerSlot
    from activities.review import ReviewActivities
    from domain.calendar import StageWindow, window_of
    from domain.review import SCREENING_DECISIONS
    from domain.stages import Decision, Outcome, Stage
    from workflows import presentation
    from workflows.contracts import (
        DecisionRecord,
        ReviewAssignment,
        ReviewerChange,
        ReviewerChangeResult,
        ReviewerState,
        ReviewTerms,
        ReviewView,
        SupplementStatus,
        TaskDecision,
        TaskRecord,
    )
    from workflows.core import ACTIVITY_RETRY
    from workflows.errors import rejection
    from workflows.reserve import ReservePromotion
    from workflows.verification import VERIFICATION_PATCH

# Histories recorded before the first round had tasks replay without this marker (the old decide-only stage).
FIRST_ROUND_PATCH = "first-round-tasks"
CHANGE_KINDS = ("conflict_declared", "organiser_override")
ACTIVE = ("assigned", "submitted")


class FirstRoundReview(ReservePromotion):
    """Mixed into ProjectWorkflow; the attributes below are the workflow's own."""

    _outcome: Outcome | None
    _pending: DecisionRecord | None
    _decisions: list[DecisionRecord]
    _calendar_revision: int
    _supplements: dict[int, SupplementStatus]
    _judges: set[str]
    _review_phase: str | None
    _tasks: list[TaskRecord]
    _reviewers: dict[str, ReviewerState]
    _terms: ReviewTerms | None
    _result: FirstRoundResult | None
    _review_version: int
    _round: str

    async def _review_first_round(self) -> DecisionRecord:
        """Run the stage's tasks in the notice's order until a verdict, a result or an organiser's decision."""
        stage = Stage.FIRST_ROUND_REVIEW
        self._review_phase = "qualification"
        logged = 0
        while True:
            if self._pending is not None:
                record, self._pending = self._pending, None
                return record
            while logged < len(self._tasks):  # verdicts may arrive while an earlier one is being logged
                task = self._tasks[logged]
                logged += 1
                reason = task.reason if task.score is None else f"{task.score:g} · {task.organisation} · {task.reason}"
                record = DecisionRecord(stage.value, task.decision, task.actor, reason, task.decided_at)
                await self._log(task.kind, stage, record)
            if self._review_phase.endswith("_failed"):
                return self._decided(await self._fail_task(self._tasks[-1]))
            if self._result is not None:
                return self._decided(await self._conclude(self._result))
            window = window_of(self._calendar, stage)
            now = workflow.now()
            timer = self._next_escalation() if now >= window.opens_at else None
            if timer is not None and timer[0] <= now:
                await self._escalate(timer[1], timer[2])
                continue
            phase, waiting_on, deadline, overdue = self._review_status(window, now)
            self._publish(phase, waiting_on, deadline, overdue=overdue)
            wakes = [t for t in (timer[0] if timer else None, window.opens_at, window.closes_at) if t and t > now]
            await self._wait_for_review_change(min(wakes) if wakes else None, phase)

    def _decided(self, record: DecisionRecord) -> DecisionRecord:
        """The review's verdict joins the project's decisions, as an organiser's would (once)."""
        if record not in self._decisions:
            self._decisions.append(record)
        return record

    async def _wait_for_review_change(self, until: datetime | None, phase: str) -> None:
        """Sleep until `until`, or until a decision, verdict, score, assignment, result or calendar change."""
        seen = (self._review_version, self._calendar_revision, tuple(s.state for s in self._supplements.values()))

        def woken() -> bool:
            now = (self._review_version, self._calendar_revision, tuple(s.state for s in self._supplements.values()))
            return self._pending is not None or self._result is not None or now != seen

        if until is None:
            await workflow.wait_condition(woken)
            return
        label = f"{phase}: next check {presentation.display_time(until, self._start.display_utc_offset_minutes)}"
        with suppress(TimeoutError):
            await workflow.wait_condition(woken, timeout=until - workflow.now(), timeout_summary=label)

    def _review_status(self, window: StageWindow, now: datetime) -> tuple[str, str, datetime, bool]:
        """(phase, waiting on, until when, overdue) as the UI and the queries show it."""
        late = now >= window.closes_at
        if now < window.opens_at:
            return "waiting_to_open", "calendar", window.opens_at, False
        if self._review_phase == "qualification":
            waiting = [s.due_at for s in self._supplements.values() if s.state == "waiting"]
            if waiting:
                return "supplement", "team", min(waiting), False
            return "qualification", "organiser", window.closes_at, late
        if self._review_phase == "screening":
            return "screening", "screener", window.closes_at, late
        pending = [r for r in self._reviewers.values() if r.state in ("assigned", "replacing")]
        if pending:
            due = min(r.due_at for r in pending)
            return "expert_review", "judges", due, now >= due
        if not self._reviewers:
            return "awaiting_judges", "organiser", window.closes_at, late
        return "ranking", "organiser", window.closes_at, late

    def _next_escalation(self) -> tuple[datetime, str, str] | None:
        """The earliest pending (when, judge, action): remind before the due date, overdue at it, reassign after."""
        terms = self._terms
        if terms is None:
            return None
        steps = []
        for r in self._reviewers.values():
            if r.state != "assigned":
                continue
            if not r.reminded:
                steps.append((r.due_at - timedelta(seconds=terms.remind_before_seconds), r.judge, "remind"))
            elif not r.overdue_mailed:
                steps.append((r.due_at, r.judge, "overdue"))
            elif self._round == "first_round":  # the final's panel sits at the roadshow: nobody to reassign to
                steps.append((r.due_at + timedelta(seconds=terms.grace_seconds), r.judge, "reassign"))
        return min(steps, default=None)

    async def _escalate(self, judge: str, action: str) -> None:
        """One step of the escalation ladder for one judge."""
        reviewer = self._reviewers[judge]
        due = presentation.display_time(reviewer.due_at, self._start.display_utc_offset_minutes)
        # Mails about a due date are keyed by judge and due date, so a judge with many projects gets one.
        key = f"{self._start.competition_code}-judge-{judge}"
        if action == "remind":
            if workflow.now() < reviewer.due_at:
                await self._mail(
                    f"review_reminder/{reviewer.due_at.isoformat()}",
                    "review_reminder",
                    to=reviewer.email,
                    key=key,
                    due=due,
                )
            self._reviewers[judge] = replace(self._reviewers[judge], reminded=True)
        elif action == "overdue":
            await self._mail(
                f"review_overdue/{reviewer.due_at.isoformat()}", "review_overdue", to=reviewer.email, key=key, due=due
            )
            self._reviewers[judge] = replace(self._reviewers[judge], overdue_mailed=True)
        else:
            await self._replace(judge, "overdue", f"no score by {due}", "system", None)

    async def _replace(
        self, judge: str, kind: str, reason: str, actor: str, preferred: ReviewerSlot | None
    ) -> ReviewerSlot | None:
        """Take the judge off, let the database pick (or take the organiser's) reserve, tell the reserve and alert
        the organisers; None when no judge is free, which the alert says."""
        terms = self._terms
        assert terms is not None  # a reviewer exists only after an assignment brought terms
        self._reviewers[judge] = replace(self._reviewers[judge], state="replacing", note=kind)
        due = workflow.now() + timedelta(seconds=terms.reassigned_due_seconds)
        slot: ReviewerSlot | None = await workflow.execute_activity_method(
            ReviewActivities.replace_reviewer,
            ReplacementRequest(
                self._start.project_id,
                self._start.competition_code,
                judge,
                kind,
                reason,
                preferred.due_at if preferred else due,
                preferred.judge if preferred else None,
            ),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=ACTIVITY_RETRY,
            summary=f"replace judge {judge} ({kind})",
        )
        self._reviewers[judge] = replace(self._reviewers[judge], state="replaced")
        self._judges.discard(judge)
        if slot is not None:
            self._reviewers[slot.judge] = ReviewerState(slot.judge, slot.email, slot.due_at)
            self._judges.add(slot.judge)
        self._review_version += 1
        named = slot.judge if slot else "—"
        await self._log("reviewer_replaced", Stage.FIRST_ROUND_REVIEW, reason=f"{judge} → {named} ({kind}): {reason}")
        offset = self._start.display_utc_offset_minutes
        await self._mail(
            f"reviewer_replaced/{judge}",
            "reviewer_replaced",
            to=terms.alert_email,
            judge=judge,
            replacement=named,
            kind=kind,
            reason=reason,
        )
        if slot is not None:
            await self._mail(
                f"review_assigned/{slot.judge}",
                "review_assigned",
                to=slot.email,
                due=presentation.display_time(slot.due_at, offset),
            )
        return slot

    async def _fail_task(self, task: TaskRecord) -> DecisionRecord:
        """A failed qualification check or screening: the team is told why; the project does not advance."""
        await self._mail(f"{task.kind}_failed", f"{task.kind}_failed", reason=task.reason)
        return DecisionRecord(
            Stage.FIRST_ROUND_REVIEW.value, Decision.REJECT.value, task.actor, task.reason, task.decided_at
        )

    async def _conclude(self, result: FirstRoundResult) -> DecisionRecord:
        """The confirmed result: mail the team (advanced, or not), then advance or end."""
        rank = str(result.rank) if result.rank is not None else "—"
        if result.advanced:
            await self._mail("first_round_advanced", "first_round_advanced", rank=rank)
        else:
            await self._mail("first_round_not_advanced", "first_round_not_advanced", reason=result.reason)
            in_line = result.reserve if result.reserve is not None else result.rank is not None  # older runs: all
            if in_line and workflow.patched(VERIFICATION_PATCH):
                from_reserve = await self._wait_in_reserve(result)
                if from_reserve is not None:
                    return from_reserve
        decision = Decision.ADVANCE if result.advanced else Decision.REJECT
        return DecisionRecord(
            Stage.FIRST_ROUND_REVIEW.value,
            decision.value,
            "organisers",
            f"ranking run {result.run_id}: {result.reason}",
            workflow.now(),
        )

    def _valid_scores(self) -> int:
        return sum(1 for r in self._reviewers.values() if r.state == "submitted")

    def _check_open_task(self, phase: str) -> None:
        if self._outcome is not None:
            raise rejection("project_closed", "项目已结束", "the project has ended")
        if self._review_phase is None or self._stage is not Stage.FIRST_ROUND_REVIEW:
            raise rejection("not_in_review", "项目不在初赛评审阶段", "the project is not in the first-round review")
        window = window_of(self._calendar, Stage.FIRST_ROUND_REVIEW)
        if workflow.now() < window.opens_at:
            raise rejection("stage_not_open", "初赛评审尚未开始", "the first-round review has not opened yet")
        if self._review_phase != phase:
            raise rejection(
                "wrong_task",
                f"项目当前的初赛环节是「{self._review_phase}」，不是「{phase}」",
                f"the project's first-round task is {self._review_phase}, not {phase}",
            )

    @workflow.update
    def qualify(self, verdict: TaskDecision) -> TaskRecord:
        """The online qualification check: pass moves on to screening, fail ends the project (with a mail)."""
        record = TaskRecord("qualification", verdict.decision, verdict.actor, verdict.reason.strip(), workflow.now())
        self._tasks.append(record)
        self._review_phase = "screening" if verdict.decision == "pass" else "qualification_failed"
        self._review_version += 1
        return record

    @qualify.validator
    def validate_qualify(self, verdict: TaskDecision) -> None:
        """Only in the qualification task, only pass or fail, a fail with its reason."""
        self._check_open_task("qualification")
        self._check_verdict(verdict, ("pass", "fail"))

    @workflow.update
    def screen(self, verdict: TaskDecision) -> TaskRecord:
        """The third-party screening: pass goes to the expert review, fail ends the project (with a mail)."""
        record = TaskRecord(
            "screening",
            verdict.decision,
            verdict.actor,
            verdict.reason.strip(),
            workflow.now(),
            verdict.score,
            verdict.organisation.strip(),
        )
        self._tasks.append(record)
        self._review_phase = "expert_review" if verdict.decision == "pass" else "screening_failed"
        self._review_version += 1
        return record

    @screen.validator
    def validate_screen(self, verdict: TaskDecision) -> None:
        """Only in the screening task, pass or fail with a score from 0 to 100 and the organisation's name."""
        self._check_open_task("screening")
        self._check_verdict(verdict, SCREENING_DECISIONS)
        if verdict.score is None or not 0 <= verdict.score <= 100:
            raise rejection("invalid_score", "初筛分数须在 0 到 100 之间", "the screening score must be 0 to 100")
        if not verdict.organisation.strip():
            raise rejection("organisation_required", "请填写初筛机构", "name the screening organisation")

    @staticmethod
    def _check_verdict(verdict: TaskDecision, allowed: tuple[str, ...]) -> None:
        if verdict.decision not in allowed:
            raise rejection(
                "unknown_decision",
                f"未知的结论「{verdict.decision}」，可选：{'、'.join(allowed)}",
                f"unknown verdict '{verdict.decision}'; allowed: {', '.join(allowed)}",
            )
        if verdict.decision == "fail" and not verdict.reason.strip():
            raise rejection("reason_required", "不通过须填写理由", "a fail needs a reason")
        if not verdict.actor.strip():
            raise rejection("actor_required", "需要注明决定人", "the verdict needs an actor")

    @workflow.signal
    def reviewers_assigned(self, assignment: ReviewAssignment) -> None:
        """Judges from the organisers' saved plan (added to those already here) and the terms they review under."""
        self._terms = assignment.terms
        for slot in assignment.reviewers:
            if slot.judge not in self._reviewers:
                self._reviewers[slot.judge] = ReviewerState(slot.judge, slot.email, slot.due_at)
                self._judges.add(slot.judge)
        self._review_version += 1

    @workflow.update
    async def change_reviewer(self, change: ReviewerChange) -> ReviewerChangeResult:
        """A judge declared a conflict, or an organiser overrode the plan: replace the judge now."""
        slot = await self._replace(change.judge, change.kind, change.reason.strip(), change.actor, change.replacement)
        return ReviewerChangeResult(change.judge, slot.judge if slot else None)

    @change_reviewer.validator
    def validate_change_reviewer(self, change: ReviewerChange) -> None:
        """Only a judge on the project, while the round runs, for a known kind of change, with a reason."""
        if self._outcome is not None:
            raise rejection("project_closed", "项目已结束", "the project has ended")
        if self._review_phase is None or self._result is not None:
            raise rejection("not_in_review", "项目不在专家评审中", "the project is not in the expert review")
        reviewer = self._reviewers.get(change.judge)
        if reviewer is None or reviewer.state not in ACTIVE:
            raise rejection("not_assigned", "该评审专家未分配到此项目", "the judge is not assigned to this project")
        if change.kind not in CHANGE_KINDS:
            raise rejection("unknown_change", f"未知的变更「{change.kind}」", f"unknown change '{change.kind}'")
        if change.replacement is not None and change.replacement.judge in self._reviewers:
            raise rejection(
                "already_reviewer",
                "替换的专家已在此项目中",
                "the replacement already reviews (or reviewed) this project",
            )
        if not change.reason.strip():
            raise rejection("reason_required", "请说明理由", "give a reason")

    @workflow.signal
    def first_round_result(self, result: FirstRoundResult) -> None:
        """The competition's confirmed result (the first one counts; repeats are ignored)."""
        if self._result is None:
            self._result = result

    @workflow.query
    def review(self) -> ReviewView:
        """The first round's tasks, judges (with due dates and states), valid scores and result."""
        return ReviewView(
            self._review_phase, list(self._tasks), list(self._reviewers.values()), self._valid_scores(), self._result
        )
