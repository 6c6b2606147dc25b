"""Public notices inside ProjectWorkflow (八、公示与举报): objections arrive during the 7 days; the committee rules
on each; a notice with an unruled objection does not pass — the workflow holds it open and reminds the committee —
and an upheld objection disqualifies the project (an award given is thereby revoked)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import RulingRecord
    from activities.notices import NoticeActivities
    from domain.calendar import window_of
    from domain.stages import Outcome, Stage, rule_for
    from workflows import presentation
    from workflows.contracts import DecisionRecord, ObjectionFiled, ObjectionRuling, ObjectionState
    from workflows.core import ACTIVITY_RETRY, ProjectCore
    from workflows.errors import rejection

# From this patch on, notice stages take objections and wait for rulings; histories from before it run the plain
# stage (pass at close unless an organiser decides).
NOTICE_PATCH = "notice-objections"
# From this patch on, a notice acts on a ruling that arrives while it is announcing an earlier one (it used to sleep
# until the notice closed: the chaos run caught it), and announces only its own objections' rulings (the final
# notice used to announce the first notice's again).
NOTICE_RULINGS_PATCH = "notice-rulings-once"
NOTICE_STAGES = (Stage.FIRST_PUBLIC_NOTICE, Stage.FINAL_PUBLIC_NOTICE)
RULINGS = ("upheld", "dismissed")


class NoticeObjections(ProjectCore):
    """Mixed into ProjectWorkflow; the attributes below are the workflow's own."""

    _outcome: Outcome | None
    _pending: DecisionRecord | None
    _decisions: list[DecisionRecord]
    _calendar_revision: int
    _objections: dict[int, ObjectionState]
    _objections_version: int

    @workflow.update
    async def file_objection(self, filed: ObjectionFiled) -> ObjectionState:
        """Take a checked objection: the notice cannot pass until the committee rules on it."""
        state = ObjectionState(filed.objection_id, filed.stage, filed.filed_at, filed.relation)
        self._objections[filed.objection_id] = state
        self._objections_version += 1
        await self._log("objection_filed", self._stage, reason=f"objection {filed.objection_id} ({filed.relation})")
        return state

    @file_objection.validator
    def validate_file_objection(self, filed: ObjectionFiled) -> None:
        """Only during this project's notice, only once per objection."""
        if self._outcome is not None:
            raise rejection("project_closed", "项目已结束，不受理举报", "the project has ended; no objections taken")
        if self._stage not in NOTICE_STAGES or filed.stage != self._stage.value:
            raise rejection(
                "not_in_notice",
                f"项目当前不在「{presentation.stage_label(Stage(filed.stage))}」公示期"
                if filed.stage in {s.value for s in NOTICE_STAGES}
                else "项目当前不在公示期",
                f"the project is not in the {filed.stage} notice now",
            )
        window = window_of(self._calendar, self._stage)
        if not window.opens_at <= filed.filed_at < window.closes_at:
            raise rejection(
                "outside_notice_window", "不在公示期内，不受理举报", "objections are taken only while the notice runs"
            )
        if filed.objection_id in self._objections:
            raise rejection("duplicate_request", "该举报已受理", f"objection {filed.objection_id} was taken already")

    @workflow.update
    def rule_objection(self, ruling: ObjectionRuling) -> ObjectionState:
        """Record the committee's ruling; the notice loop mails both sides and acts on it."""
        ruled = replace(
            self._objections[ruling.objection_id],
            state=ruling.ruling,
            reasons=ruling.reasons.strip(),
            actor=ruling.actor.strip(),
            ruled_at=workflow.now(),
        )
        self._objections[ruling.objection_id] = ruled
        self._objections_version += 1
        return ruled

    @rule_objection.validator
    def validate_rule_objection(self, ruling: ObjectionRuling) -> None:
        """A known, unruled objection; upheld or dismissed; with reasons and a named committee member."""
        current = self._objections.get(ruling.objection_id)
        if current is None:
            raise rejection("unknown_objection", "没有这项举报", f"no objection {ruling.objection_id} on this project")
        if current.state != "open":
            raise rejection("already_ruled", f"该举报已裁定（{current.state}）", f"already ruled: {current.state}")
        if self._outcome is not None:
            raise rejection("project_closed", "项目已结束", "the project has ended")
        if ruling.ruling not in RULINGS:
            raise rejection("unknown_ruling", "裁定须为 upheld 或 dismissed", "the ruling must be upheld or dismissed")
        if not ruling.reasons.strip():
            raise rejection("reason_required", "须写明裁定理由", "a ruling needs its reasons")
        if not ruling.actor.strip():
            raise rejection("actor_required", "须注明裁定人", "a ruling needs the committee member's name")

    @workflow.query
    def objections(self) -> list[ObjectionState]:
        """Every objection against the project and its state (no objector's identity: the workflow has none)."""
        return list(self._objections.values())

    async def _run_notice(self, stage: Stage) -> DecisionRecord | None:
        """Wait out the notice; None when it passes, else the decision that ends it (an upheld objection's, or an
        organiser's)."""
        told: set[int] = set()
        reminders = 0
        fixed = workflow.patched(NOTICE_RULINGS_PATCH)
        while True:
            seen = (self._objections_version, self._calendar_revision)  # what this pass has looked at
            if self._pending is not None:
                record, self._pending = self._pending, None
                return record
            ruled = [
                o for o in self._objections.values() if o.state in RULINGS and (o.stage == stage.value or not fixed)
            ]
            for objection in ruled:
                if objection.objection_id in told:
                    continue
                told.add(objection.objection_id)
                await self._announce_ruling(stage, objection)
                if objection.state == "upheld":
                    assert objection.ruled_at is not None
                    reason = f"objection {objection.objection_id} upheld: {objection.reasons}"
                    record = DecisionRecord(stage.value, "disqualify", objection.actor, reason, objection.ruled_at)
                    self._decisions.append(record)
                    return record
            window = window_of(self._calendar, stage)
            now = workflow.now()
            unruled = [o for o in self._objections.values() if o.stage == stage.value and o.state == "open"]
            if now >= window.closes_at and not unruled:
                return None
            if now < window.opens_at:
                self._publish("waiting_to_open", "calendar", window.opens_at, overdue=False)
                until = window.opens_at
            elif now < window.closes_at:
                self._publish("open", "committee" if unruled else "public", window.closes_at, overdue=False)
                until = window.closes_at
            else:
                until = window.closes_at + timedelta(seconds=self._start.committee_reminder_seconds * (reminders + 1))
                if until <= now:
                    reminders += 1
                    await self._remind_committee(stage, len(unruled), reminders)
                    continue
                self._publish("held_by_objection", "committee", window.closes_at, overdue=True)
            await self._wait_for_notice_change(until, stage, seen if fixed else None)

    async def _wait_for_notice_change(self, until: datetime, stage: Stage, seen: tuple[int, int] | None) -> None:
        """Sleep until `until`, or until an objection, a ruling, a decision or a calendar change arrives that the
        last pass did not see (`seen`; None: only one arriving from now on, as before the patch)."""
        seen = seen or (self._objections_version, self._calendar_revision)

        def woken() -> bool:
            return self._pending is not None or (self._objections_version, self._calendar_revision) != seen

        label = f"{presentation.stage_label(stage)}: next check " + presentation.display_time(
            until, self._start.display_utc_offset_minutes
        )
        with suppress(TimeoutError):
            await workflow.wait_condition(woken, timeout=until - workflow.now(), timeout_summary=label)

    async def _announce_ruling(self, stage: Stage, objection: ObjectionState) -> None:
        """Log the ruling, mail the team, and have the objector told (their address stays out of this history)."""
        assert objection.ruled_at is not None
        record = DecisionRecord(stage.value, objection.state, objection.actor, objection.reasons, objection.ruled_at)
        await self._log("objection_ruled", stage, record)
        rule = rule_for(stage)
        names = {"notice_name": rule.name_zh, "notice_name_en": rule.name_en, "reasons": objection.reasons}
        await self._mail(
            f"objection_{objection.state}/{objection.objection_id}", f"objection_{objection.state}_team", **names
        )
        s = self._start
        context = {
            "project_id": s.project_id,
            "project_name": s.project_name,
            "competition_name": s.competition_name,
            **names,
        }
        try:
            await workflow.execute_activity_method(
                NoticeActivities.record_ruling,
                RulingRecord(
                    objection.objection_id,
                    s.project_id,
                    objection.state,
                    objection.reasons,
                    objection.actor,
                    objection.ruled_at,
                    context,
                ),
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=ACTIVITY_RETRY,
                summary=f"objection {objection.objection_id} {objection.state}: store, tell the objector",
            )
        except ActivityError as exc:  # a permanent mail refusal is in the outbox as failed, for organisers to resend
            workflow.logger.warning("objector of %s not told: %s", objection.objection_id, exc.cause)

    async def _remind_committee(self, stage: Stage, unruled: int, number: int) -> None:
        """The notice has closed with objections unruled: tell the committee (when it has an address)."""
        if not self._start.committee_email:
            return
        rule = rule_for(stage)
        closes = window_of(self._calendar, stage).closes_at
        await self._mail(
            f"objection_waiting/{stage.value}/{number}",
            "objection_waiting_committee",
            to=self._start.committee_email,
            notice_name=rule.name_zh,
            notice_name_en=rule.name_en,
            closed_at=presentation.display_time(closes, self._start.display_utc_offset_minutes),
            open_count=str(unruled),
        )
