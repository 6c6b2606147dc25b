"""Technical verification inside ProjectWorkflow (3.技术验证): the organiser picks a written pledge or an on-site
visit; a report judges compliance, authenticity, legality and IP; a conditional verdict waits for remediation and a
re-check; a fail disqualifies (and the competition may promote the next of the track from the reserve)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.calendar import StageWindow, window_of
    from domain.stages import Decision, Outcome, Stage
    from domain.verification import Method, Verdict, check_report, overall
    from workflows import presentation
    from workflows.contracts import DecisionRecord
    from workflows.core import ProjectCore
    from workflows.errors import rejection
    from workflows.stage_contracts import (
        FiledReport,
        PledgeReceived,
        RemediationDone,
        VerificationPlan,
        VerificationReport,
        VerificationView,
    )

# From this patch on, verification runs its tasks and ranked non-finalists wait in the reserve for a promotion;
# histories from before it run the plain stage (an organiser's decision) and end non-finalists at once.
VERIFICATION_PATCH = "verification-tasks"
STAGE = Stage.TECHNICAL_VERIFICATION


class TechnicalVerification(ProjectCore):
    """Mixed into ProjectWorkflow; the attributes below are the workflow's own."""

    _outcome: Outcome | None
    _pending: DecisionRecord | None
    _decisions: list[DecisionRecord]
    _calendar_revision: int
    _verification: VerificationView
    _verification_version: int

    async def _verify(self) -> DecisionRecord:
        """Run verification until a pass, a fail or an organiser's decision; mails each step to whom it concerns."""
        acted = 0
        told: tuple[str | None, datetime | None] = (None, None)
        while True:
            if self._pending is not None:
                record, self._pending = self._pending, None
                return record
            v = self._verification
            if (v.method, v.visit_at) != told and v.method is not None:
                told = (v.method, v.visit_at)
                await self._announce_method(v)
                continue
            if acted < len(v.reports):
                report = v.reports[acted]
                acted += 1
                ended = await self._act_on(report)
                if ended is not None:
                    self._decisions.append(ended)
                    return ended
                continue
            window = window_of(self._calendar, STAGE)
            phase, waiting_on, until = self._verification_status(window)
            now = workflow.now()
            self._verification = replace(v, phase=phase)
            self._publish(phase, waiting_on, until, overdue=now >= until and now >= window.opens_at)
            wakes = [t for t in (window.opens_at, until, window.closes_at) if t > now]
            await self._wait_for_verification_change(min(wakes) if wakes else None, phase)

    def _verification_status(self, window: StageWindow) -> tuple[str, str, datetime]:
        """(phase, waiting on, until when): what the verification waits for now."""
        v, now = self._verification, workflow.now()
        if now < window.opens_at:
            return "waiting_to_open", "calendar", window.opens_at
        last = v.reports[-1] if v.reports else None
        if last is not None and last.overall == Verdict.CONDITIONAL:
            assert last.remediation_due is not None
            if v.remediation is None and now < last.remediation_due:
                return "remediation", "team", last.remediation_due
            return "recheck", "verifier" if v.method == Method.ON_SITE else "organiser", window.closes_at
        if v.method is None:
            return "choose_method", "organiser", window.closes_at
        if v.method == Method.PLEDGE and v.pledge is None:
            return "pledge", "team", window.closes_at
        if v.method == Method.PLEDGE:
            return "pledge_review", "organiser", window.closes_at
        return "on_site", "verifier", window.closes_at

    async def _wait_for_verification_change(self, until: datetime | None, phase: str) -> None:
        seen = (self._verification_version, self._calendar_revision)

        def woken() -> bool:
            return self._pending is not None or (self._verification_version, self._calendar_revision) != seen

        if until is None:
            await workflow.wait_condition(woken)
            return
        label = f"{presentation.stage_label(STAGE)} {phase}: next check " + presentation.display_time(
            until, self._start.display_utc_offset_minutes
        )
        with suppress(TimeoutError):
            await workflow.wait_condition(woken, timeout=until - workflow.now(), timeout_summary=label)

    async def _announce_method(self, v: VerificationView) -> None:
        """Tell the team how it is verified; for a visit, tell the verifier too (keyed by visit time: a moved
        visit is mailed again)."""
        offset = self._start.display_utc_offset_minutes
        closes = presentation.display_time(window_of(self._calendar, STAGE).closes_at, offset)
        visit = presentation.display_time(v.visit_at, offset) if v.visit_at else ""
        key = f"{v.method}/{v.visit_at.isoformat() if v.visit_at else ''}"
        await self._log("verification_method", STAGE, reason=f"{v.method} {v.verifier} {visit}".strip())
        await self._mail(f"verification_method/{key}", f"verification_{v.method}", closes=closes, visit_at=visit)
        if v.method == Method.ON_SITE and v.verifier_email:
            await self._mail(
                f"verification_visit/{key}",
                "verification_visit_assigned",
                to=v.verifier_email,
                visit_at=visit,
                closes=closes,
            )

    async def _act_on(self, report: FiledReport) -> DecisionRecord | None:
        """Log and mail one report; a pass advances, a fail disqualifies, a conditional waits for remediation."""
        record = DecisionRecord(STAGE.value, report.overall, report.actor, report.findings, report.filed_at)
        await self._log("verification_report", STAGE, record)
        number = len([r for r in self._verification.reports if r.filed_at <= report.filed_at])
        findings = report.findings or "—"
        if report.overall == Verdict.CONDITIONAL:
            assert report.remediation_due is not None
            due = presentation.display_time(report.remediation_due, self._start.display_utc_offset_minutes)
            await self._mail(
                f"verification_conditional/{number}", "verification_conditional", findings=findings, due=due
            )
            return None
        passed = report.overall == Verdict.PASS
        await self._mail(f"verification_{report.overall}", f"verification_{report.overall}", findings=findings)
        decision = Decision.ADVANCE if passed else Decision.DISQUALIFY
        reason = "technical verification passed" if passed else f"technical verification failed: {report.findings}"
        return DecisionRecord(STAGE.value, decision.value, report.actor, reason, report.filed_at)

    def _check_in_verification(self) -> StageWindow:
        if self._outcome is not None:
            raise rejection("project_closed", "项目已结束", "the project has ended")
        if self._stage is not STAGE or self._verification.phase == "not_started":
            raise rejection(
                "not_in_verification", "项目不在技术验证阶段", "the project is not in technical verification"
            )
        window = window_of(self._calendar, STAGE)
        if workflow.now() < window.opens_at:
            raise rejection("stage_not_open", "技术验证尚未开始", "technical verification has not opened yet")
        return window

    @workflow.update
    def plan_verification(self, plan: VerificationPlan) -> VerificationView:
        """The organiser's choice of method (and, for a visit, verifier and time); may be changed before a report."""
        self._verification = replace(
            self._verification,
            method=plan.method,
            verifier=plan.verifier.strip(),
            verifier_email=plan.verifier_email.strip(),
            visit_at=plan.visit_at,
        )
        self._verification_version += 1
        return self._verification

    @plan_verification.validator
    def validate_plan_verification(self, plan: VerificationPlan) -> None:
        """A known method; a visit needs a verifier and a time inside the stage; no change once a report is in."""
        window = self._check_in_verification()
        if plan.method not in {m.value for m in Method}:
            raise rejection(
                "unknown_method",
                f"未知的验证方式「{plan.method}」",
                f"unknown method '{plan.method}' (pledge, on_site)",
            )
        if self._verification.reports:
            raise rejection("already_reported", "已提交验证报告，不能更改方式", "a report is in; the method is fixed")
        if plan.method == Method.ON_SITE:
            if not plan.verifier.strip():
                raise rejection("verifier_required", "实地调研须指定验证人员", "an on-site visit needs a verifier")
            if plan.visit_at is None or not workflow.now() <= plan.visit_at < window.closes_at:
                raise rejection(
                    "visit_out_of_range",
                    "实地调研时间须在现在之后、技术验证结束之前",
                    "the visit must be scheduled after now and before verification closes",
                )
        if not plan.actor.strip():
            raise rejection("actor_required", "需要注明决定人", "the plan needs an actor")

    @workflow.update
    def receive_pledge(self, pledge: PledgeReceived) -> VerificationView:
        """The team's signed pledge is in (a newer upload replaces it until the review)."""
        self._verification = replace(self._verification, pledge=pledge)
        self._verification_version += 1
        return self._verification

    @receive_pledge.validator
    def validate_receive_pledge(self, pledge: PledgeReceived) -> None:
        """Only when a pledge was asked for and before its review."""
        self._check_in_verification()
        if self._verification.method != Method.PLEDGE:
            raise rejection("pledge_not_requested", "本项目未要求提交承诺书", "no pledge was asked of this project")
        if self._verification.reports:
            raise rejection("already_reported", "承诺书已审核", "the pledge was reviewed already")

    @workflow.update
    def file_verification_report(self, report: VerificationReport) -> FiledReport:
        """Record a verdict; the stage loop mails the team and advances, disqualifies or waits for remediation."""
        filed = FiledReport(
            dict(report.verdicts),
            overall(report.verdicts).value,
            report.findings.strip(),
            report.actor.strip(),
            workflow.now(),
            report.remediation_due,
        )
        self._verification = replace(self._verification, reports=[*self._verification.reports, filed], remediation=None)
        self._verification_version += 1
        return filed

    @file_verification_report.validator
    def validate_file_verification_report(self, report: VerificationReport) -> None:
        """A method chosen and (for a pledge) the pledge in; no new verdict while remediation is still due; every
        aspect judged; findings for anything short of a pass; a conditional's due date inside the stage."""
        window = self._check_in_verification()
        v = self._verification
        if v.method is None:
            raise rejection("method_not_chosen", "尚未确定验证方式", "the verification method is not chosen yet")
        if v.method == Method.PLEDGE and v.pledge is None:
            raise rejection("pledge_missing", "团队尚未提交承诺书", "the team has not uploaded its pledge yet")
        last = v.reports[-1] if v.reports else None
        due = last.remediation_due if last is not None and v.remediation is None else None
        if due is not None and workflow.now() < due:
            raise rejection(
                "remediation_pending", "整改期限未到，团队尚未提交整改", "remediation is still due from the team"
            )
        if not report.actor.strip():
            raise rejection("actor_required", "需要注明验证人员", "the report needs its author")
        problems = check_report(
            report.verdicts, report.findings, report.remediation_due, window.closes_at, workflow.now()
        )
        if problems:
            first = problems[0]
            raise rejection(first.code, "；".join(p.zh for p in problems), "; ".join(p.en for p in problems))

    @workflow.update
    def submit_remediation(self, done: RemediationDone) -> VerificationView:
        """The team reports the remediation done; the verifier re-checks."""
        self._verification = replace(self._verification, remediation=replace(done, note=done.note.strip()))
        self._verification_version += 1
        return self._verification

    @submit_remediation.validator
    def validate_submit_remediation(self, done: RemediationDone) -> None:
        """Only after a conditional verdict, once, with a description of what was done."""
        self._check_in_verification()
        last = self._verification.reports[-1] if self._verification.reports else None
        if last is None or last.overall != Verdict.CONDITIONAL:
            raise rejection("no_remediation_due", "没有待整改的事项", "no remediation is due")
        if self._verification.remediation is not None:
            raise rejection("duplicate_request", "整改情况已提交", "the remediation was reported already")
        if not done.note.strip():
            raise rejection("note_required", "请说明整改情况", "describe the remediation")

    @workflow.query
    def verification(self) -> VerificationView:
        """Method, verifier, pledge, reports and remediation of the technical verification."""
        return self._verification
