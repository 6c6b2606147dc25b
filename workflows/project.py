"""ProjectWorkflow: one project's whole season, stage by stage, waiting on the calendar and on decisions."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import CalendarBroadcast, FinalResult, FirstRoundResult
    from domain.calendar import CalendarError, StageWindow, validate_calendar, window_of
    from domain.eligibility import Violation
    from domain.stages import DECISION_OUTCOMES, STAGE_ORDER, Decision, Outcome, Stage, rule_for
    from workflows import presentation
    from workflows import search_attributes as sa
    from workflows.ceremony import CEREMONY_PATCH, CeremonyStage
    from workflows.contracts import (
        DecisionRecord,
        DecisionRequest,
        DecisionResult,
        MaterialsState,
        ObjectionState,
        ProjectResult,
        ProjectStart,
        ProjectStatus,
        ReviewerState,
        ReviewTerms,
        ScoreRecord,
        SupplementStatus,
        TaskRecord,
    )
    from workflows.core import LOCAL_RECORDS_PATCH, MAIL_FAST_PATCH
    from workflows.errors import rejection
    from workflows.final_review import FINAL_PATCH, FinalReview
    from workflows.first_round import FIRST_ROUND_PATCH
    from workflows.notices import NOTICE_PATCH, NOTICE_RULINGS_PATCH, NOTICE_STAGES, NoticeObjections
    from workflows.registration import RegistrationStage
    from workflows.scoring import FirstRoundScoring
    from workflows.stage_contracts import CeremonyInvitation, Promotion, RoadshowSlot, VerificationView
    from workflows.supplements import SupplementTracking
    from workflows.verification import VERIFICATION_PATCH, TechnicalVerification

NEGATIVE_DECISIONS = frozenset(DECISION_OUTCOMES)
# From this patch on, a new run decides every patch in its first workflow task, before any local activity. Decided
# where first needed, a patch checked just after a local activity could not be replayed when the activity's marker
# and the code after it fell into different workflow tasks (the first task timed out under a killed worker): on
# replay the code runs on before the SDK has read the next task's patch marker (TMPRL1100, found by the chaos run).
PATCHES_UP_FRONT = "patches-up-front"
EVERY_PATCH = (
    LOCAL_RECORDS_PATCH,
    MAIL_FAST_PATCH,
    FIRST_ROUND_PATCH,
    VERIFICATION_PATCH,
    FINAL_PATCH,
    CEREMONY_PATCH,
    NOTICE_PATCH,
    NOTICE_RULINGS_PATCH,
)


@workflow.defn
class ProjectWorkflow(
    RegistrationStage,
    SupplementTracking,
    FirstRoundScoring,
    FinalReview,
    TechnicalVerification,
    NoticeObjections,
    CeremonyStage,
):
    """Drives one project through every stage in the notice's order and ends in a terminal outcome."""

    @workflow.init
    def __init__(self, start: ProjectStart) -> None:
        self._start = start
        self._calendar: list[StageWindow] = list(start.calendar)
        self._calendar_revision = start.calendar_revision
        self._stage = Stage.REGISTRATION
        self._outcome: Outcome | None = None
        self._decisions: list[DecisionRecord] = []
        self._pending: DecisionRecord | None = None
        self._decided_in: Stage | None = None
        self._waiting_on: str | None = None
        self._deadline: datetime | None = None
        self._overdue = False
        self._log_seq = 0
        self._shown: tuple[object, ...] = ()
        self._materials = start.materials
        self._reminded_for: datetime | None = None
        self._violations: list[Violation] = []
        self._supplements: dict[int, SupplementStatus] = {}
        self._judges: set[str] = set()
        self._scores: dict[str, list[ScoreRecord]] = {}
        self._review_phase: str | None = None
        self._tasks: list[TaskRecord] = []
        self._reviewers: dict[str, ReviewerState] = {}
        self._terms: ReviewTerms | None = None
        self._result: FirstRoundResult | None = None
        self._review_version = 0
        self._objections: dict[int, ObjectionState] = {}
        self._objections_version = 0
        self._verification = VerificationView("not_started")
        self._verification_version = 0
        self._promotion: Promotion | None = None
        self._round = "first_round"
        self._final_scores: dict[str, list[ScoreRecord]] = {}
        self._final_result: FinalResult | None = None
        self._slot: RoadshowSlot | None = None
        self._first_round_reviewers: dict[str, ReviewerState] = {}
        self._invitation: CeremonyInvitation | None = None

    @workflow.run
    async def run(self, start: ProjectStart) -> ProjectResult:
        """Registration mail, then each stage until a decision ends the run or the ceremony is over."""
        if workflow.patched(PATCHES_UP_FRONT):
            for patch in EVERY_PATCH:
                workflow.patched(patch)  # remembered: every later check of it answers the same without a marker
        await self._mail("registration_received", "registration_received")
        outcome = Outcome.COMPLETED
        for stage in STAGE_ORDER:
            self._refresh(stage)
            await self._log("stage_entered", stage)
            ended = await self._open_registration() if stage is Stage.REGISTRATION else None
            if ended is None and stage is Stage.FIRST_ROUND_REVIEW and workflow.patched(FIRST_ROUND_PATCH):
                record: DecisionRecord | None = await self._review_first_round()
            elif stage is Stage.TECHNICAL_VERIFICATION and workflow.patched(VERIFICATION_PATCH):
                record = await self._verify()
            elif stage is Stage.FINAL_REVIEW and workflow.patched(FINAL_PATCH):
                record = await self._review_final()
            elif stage is Stage.CEREMONY and workflow.patched(CEREMONY_PATCH):
                record = await self._run_ceremony()
            elif stage in NOTICE_STAGES and workflow.patched(NOTICE_PATCH):
                record = await self._run_notice(stage)
            else:
                record = await self._run_stage(stage) if ended is None else None
            if record is not None:
                await self._log("decision", stage, record)
                if Decision(record.decision) in NEGATIVE_DECISIONS:
                    outcome = DECISION_OUTCOMES[Decision(record.decision)]
                    if self._final_result is not None and self._final_result.award:
                        award = self._final_result.award
                        await self._log("award_revoked", stage, reason=f"{award}: revoked, rewards to be recovered")
                    break
            elif ended is None and stage is Stage.REGISTRATION:
                ended = await self._close_registration()
            if ended is not None:
                outcome = ended
                break
        await self._finish(outcome)
        return ProjectResult(start.project_id, outcome.value, self._stage.value, list(self._decisions))

    def _phase(self, stage: Stage) -> tuple[str, datetime | None, str] | None:
        """(phase, deadline, waiting on) of a stage now; None once its window closed and it passes by itself."""
        rule = rule_for(stage)
        window = window_of(self._calendar, stage)
        now = workflow.now()
        if now < window.opens_at:
            return "waiting_to_open", window.opens_at, "calendar"
        if now < window.closes_at:
            return "open", window.closes_at, rule.waiting_on
        return None if rule.passes_at_close else ("overdue", None, rule.waiting_on)

    def _refresh(self, stage: Stage) -> tuple[str, datetime | None, str] | None:
        """Enter or re-read a stage: its phase becomes what queries, search attributes and details show."""
        self._stage = stage
        phase = self._phase(stage)
        if phase is not None:
            name, deadline, waiting_on = phase
            self._publish(
                name,
                waiting_on,
                deadline or window_of(self._calendar, stage).closes_at,
                overdue=deadline is None,
            )
        return phase

    async def _run_stage(self, stage: Stage) -> DecisionRecord | None:
        """Wait for the stage to open, then for a decision or its close; None when it passed by itself."""
        while True:
            if self._pending is not None:
                record, self._pending = self._pending, None
                return record
            phase = self._refresh(stage)
            if phase is None:
                return None
            name, deadline, _ = phase
            revision, materials = self._calendar_revision, self._materials.version
            reminder = self._reminder_due() if stage is Stage.REGISTRATION and name == "open" else None
            if reminder is not None and reminder <= workflow.now():
                await self._send_reminder()
                continue
            if reminder is not None and deadline is not None and reminder < deadline:
                deadline, name = reminder, "reminder"

            def woken(rev: int = revision, mat: int = materials) -> bool:
                return self._pending is not None or self._calendar_revision != rev or self._materials.version != mat

            if deadline is None:
                await workflow.wait_condition(woken)
                continue
            verb = {"waiting_to_open": "opens", "reminder": "closes soon: reminder"}.get(name, "closes")
            summary = (
                f"{presentation.stage_label(stage)} {verb} "
                f"{presentation.display_time(deadline, self._start.display_utc_offset_minutes)}"
            )
            with suppress(TimeoutError):
                await workflow.wait_condition(woken, timeout=deadline - workflow.now(), timeout_summary=summary)

    async def _finish(self, outcome: Outcome) -> None:
        """Record the outcome, show it in the UI, and let in-flight updates complete."""
        self._outcome = outcome
        self._waiting_on, self._deadline, self._overdue = None, None, False
        workflow.upsert_search_attributes(
            [
                sa.OUTCOME.value_set(outcome.value),
                sa.WAITING_ON.value_unset(),
                sa.DEADLINE.value_unset(),
                sa.OVERDUE.value_set(False),
            ]
        )
        workflow.set_current_details(
            presentation.current_details(
                self._stage, "closed", None, None, self._start.display_utc_offset_minutes, outcome.value
            )
        )
        await self._log("outcome", self._stage, reason=outcome.value)
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    def decide(self, request: DecisionRequest) -> DecisionResult:
        """Take an organiser's decision on the current stage; the run loop acts on it."""
        record = DecisionRecord(request.stage, request.decision, request.actor, request.reason.strip(), workflow.now())
        self._decisions.append(record)
        self._pending, self._decided_in = record, self._stage
        decision = Decision(request.decision)
        effect = DECISION_OUTCOMES[decision].value if decision in NEGATIVE_DECISIONS else "advances"
        return DecisionResult(record.stage, record.decision, effect, record.decided_at)

    @decide.validator
    def validate_decide(self, request: DecisionRequest) -> None:
        """Reject decisions for a closed project, another stage, an unknown or disallowed decision."""
        if self._outcome is not None:
            raise rejection(
                "project_closed",
                f"项目已结束（{self._outcome.value}），不能再作决定",
                f"the project has ended ({self._outcome.value}); no more decisions",
            )
        if request.stage != self._stage.value:
            raise rejection(
                "wrong_stage",
                f"项目当前处于「{presentation.stage_label(self._stage)}」阶段，不是「{request.stage}」",
                f"the project is in stage {self._stage.value}, not {request.stage}",
            )
        rule = rule_for(self._stage)
        allowed = ", ".join(sorted(d.value for d in rule.decisions))
        try:
            decision = Decision(request.decision)
        except ValueError:
            raise rejection(
                "unknown_decision",
                f"未知的决定「{request.decision}」，可选：{allowed}",
                f"unknown decision '{request.decision}'; allowed here: {allowed}",
            ) from None
        if decision not in rule.decisions:
            raise rejection(
                "decision_not_allowed",
                f"「{rule.name_zh}」阶段不能作出「{decision.value}」决定，可选：{allowed}",
                f"'{decision.value}' is not allowed in stage {self._stage.value}; allowed here: {allowed}",
            )
        if (
            self._review_phase is not None
            and self._stage is Stage.FIRST_ROUND_REVIEW
            and decision
            in (
                Decision.ADVANCE,
                Decision.REJECT,
            )
        ):
            raise rejection(
                "decided_by_review",
                "初赛结果由资格审查、初筛、专家评审和组委会确认的排名决定",
                "the first-round result comes from the qualification check, screening, expert review and the "
                "confirmed ranking",
            )
        in_final = self._round == "final_review" and self._stage is Stage.FINAL_REVIEW
        if in_final and decision in (Decision.ADVANCE, Decision.REJECT):
            raise rejection(
                "decided_by_review",
                "决赛结果由路演评分和组委会确认的最终排名决定",
                "the final result comes from the roadshow scores and the confirmed final ranking",
            )
        if self._decided_in == self._stage:
            raise rejection(
                "already_decided",
                "本阶段已作出决定，正在执行",
                f"a decision on stage {self._stage.value} was already taken",
            )
        if decision is not Decision.WITHDRAW and workflow.now() < window_of(self._calendar, self._stage).opens_at:
            raise rejection(
                "stage_not_open",
                f"「{rule.name_zh}」阶段尚未开始",
                f"stage {self._stage.value} has not opened yet",
            )
        if decision in NEGATIVE_DECISIONS and not request.reason.strip():
            raise rejection("reason_required", "该决定需要填写理由", "this decision needs a reason")
        if not request.actor.strip():
            raise rejection("actor_required", "需要注明决定人", "the decision needs an actor")

    @workflow.signal
    def apply_calendar(self, revision: CalendarBroadcast) -> None:
        """Take a newer calendar from the competition; timers re-arm on the next loop turn."""
        if revision.revision <= self._calendar_revision:
            return
        try:
            validate_calendar(revision.windows)
        except CalendarError as exc:
            workflow.logger.warning("ignoring invalid calendar revision %s: %s", revision.revision, exc)
            return
        self._calendar = list(revision.windows)
        self._calendar_revision = revision.revision

    @workflow.signal
    def materials_updated(self, state: MaterialsState) -> None:
        """The API's word that materials changed; older versions are ignored."""
        if state.version > self._materials.version:
            self._materials = state

    @workflow.query
    def status(self) -> ProjectStatus:
        """Stage, outcome, what it waits on until when, the calendar and every decision."""
        return ProjectStatus(
            project_id=self._start.project_id,
            stage=self._stage.value,
            outcome=self._outcome.value if self._outcome else None,
            waiting_on=self._waiting_on,
            deadline=self._deadline,
            overdue=self._overdue,
            calendar_revision=self._calendar_revision,
            calendar=list(self._calendar),
            decisions=list(self._decisions),
            materials=self._materials,
            violations=list(self._violations),
            supplements=list(self._supplements.values()),
            review_phase=self._review_phase,
        )
