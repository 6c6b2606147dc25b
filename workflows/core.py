"""What every part of ProjectWorkflow shares: its state, and the helpers that publish, log and mail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import FinalResult, FirstRoundResult, MailRequest, ProjectEventRecord
    from activities.mail import MailActivities
    from activities.records import RecordActivities
    from domain.calendar import StageWindow
    from domain.stages import Stage
    from workflows import presentation
    from workflows import search_attributes as sa
    from workflows.contracts import DecisionRecord, ProjectStart
    from workflows.stage_contracts import Promotion

ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=10)
)
# From this patch on, short idempotent database writes run as local activities: one marker in the workflow task
# instead of three server round trips (scheduled, started, completed), which the dev server's single writer felt.
LOCAL_RECORDS_PATCH = "local-records"
# From this patch on, a mail is first tried once as a local activity (most relays answer in milliseconds); only when
# that attempt fails for a passing reason does the regular activity take over, retrying with backoff in view of the UI.
MAIL_FAST_PATCH = "mail-fast-path"
ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)

ArgT = TypeVar("ArgT")


def refused(exc: FailureError) -> bool:
    """The relay refused the mail for good (5xx): it is failed in the outbox, and retrying cannot help. (A local
    activity's last failure arrives as the activity's own error, a regular one's inside an ActivityError.)"""
    cause = exc.cause if isinstance(exc, ActivityError) else exc
    return isinstance(cause, ApplicationError) and cause.non_retryable


ResultT = TypeVar("ResultT")


class ProjectCore:
    """State and helpers of a project's workflow; ProjectWorkflow sets the state in its init."""

    _start: ProjectStart
    _calendar: list[StageWindow]
    _stage: Stage
    _waiting_on: str | None
    _deadline: datetime | None
    _overdue: bool
    _log_seq: int
    _shown: tuple[object, ...]
    _result: FirstRoundResult | None
    _promotion: Promotion | None
    _final_result: FinalResult | None

    def _publish(self, phase: str, waiting_on: str, deadline: datetime, *, overdue: bool) -> None:
        """Keep search attributes and current details in step with what the project waits on (on change only)."""
        self._waiting_on, self._deadline, self._overdue = waiting_on, deadline, overdue
        finalist, score = self._standing()
        shown = (self._stage, phase, waiting_on, deadline, overdue, finalist, score)
        if shown == self._shown:
            return
        self._shown = shown
        workflow.upsert_search_attributes(
            [
                sa.COMPETITION.value_set(self._start.competition_code),
                sa.STAGE.value_set(self._stage.value),
                sa.TRACK.value_set(self._start.track_code),
                sa.PROBLEM.value_set(self._start.problem_code),
                sa.WAITING_ON.value_set(waiting_on),
                sa.DEADLINE.value_set(deadline),
                sa.OVERDUE.value_set(overdue),
                sa.FINALIST.value_set(finalist),
                sa.SCORE.value_set(score) if score is not None else sa.SCORE.value_unset(),
            ]
        )
        workflow.set_current_details(
            presentation.current_details(
                self._stage, phase, waiting_on, deadline, self._start.display_utc_offset_minutes
            )
        )

    def _standing(self) -> tuple[bool, float | None]:
        """(finalist, score) for the UI: in the final by the first round or a promotion; the latest round's score."""
        finalist = bool(self._result and self._result.advanced) or self._promotion is not None
        if self._final_result is not None:
            return finalist, self._final_result.score
        return finalist, self._result.score if self._result else None

    async def _log(
        self, kind: str, stage: Stage, record: DecisionRecord | None = None, reason: str | None = None
    ) -> None:
        """Append to the project's durable log in the database (idempotent by sequence number)."""
        self._log_seq += 1
        entry = ProjectEventRecord(
            project_id=self._start.project_id,
            seq=self._log_seq,
            kind=kind,
            stage=stage.value,
            occurred_at=record.decided_at if record else workflow.now(),
            decision=record.decision if record else None,
            actor=record.actor if record else None,
            reason=record.reason if record else reason,
        )
        await self._store(RecordActivities.record_project_event, entry, f"log {kind} {stage.value}")

    async def _store(self, write: Callable[[Any, ArgT], Awaitable[ResultT]], arg: ArgT, summary: str) -> ResultT:
        """One short idempotent database write: a local activity once patched, else the regular activity that
        histories recorded before the patch expect."""
        if workflow.patched(LOCAL_RECORDS_PATCH):
            return await workflow.execute_local_activity_method(
                write, arg, start_to_close_timeout=timedelta(seconds=30), retry_policy=ACTIVITY_RETRY, summary=summary
            )
        return await workflow.execute_activity_method(
            write, arg, start_to_close_timeout=timedelta(seconds=30), retry_policy=ACTIVITY_RETRY, summary=summary
        )

    async def _mail(
        self, milestone: str, template: str, *, to: str | None = None, key: str | None = None, **extra: str
    ) -> None:
        """Send one milestone mail, exactly once per (key, milestone, recipient): to the team contact unless `to`
        names someone else; `key` (default: the project) lets mails of many projects collapse into one."""
        s = self._start
        request = MailRequest(
            workflow_id=key or s.project_id,
            milestone=milestone,
            recipient=to or s.contact_email,
            template=template,
            context={
                "project_id": s.project_id,
                "project_name": s.project_name,
                "team_name": s.team_name,
                "contact_name": s.contact_name,
                "competition_name": s.competition_name,
                "track_name": s.track_name,
                "problem_code": s.problem_code,
                "problem_title": s.problem_title,
                **extra,
            },
        )
        if workflow.patched(MAIL_FAST_PATCH):
            try:
                await workflow.execute_local_activity_method(
                    MailActivities.send_mail,
                    request,
                    start_to_close_timeout=timedelta(seconds=30),  # past the SMTP timeout: the send fails first
                    retry_policy=ONE_ATTEMPT,
                    summary=f"mail {milestone}",
                )
                return
            except FailureError as exc:  # any failure of the one attempt: a timeout replays as a bare TimeoutError
                if refused(exc):
                    workflow.logger.warning("mail %s refused for good: %s", milestone, exc.cause)
                    return
        try:
            await workflow.execute_activity_method(
                MailActivities.send_mail,
                request,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=ACTIVITY_RETRY,
                summary=f"mail {milestone}",
            )
        except ActivityError as exc:
            # A permanent refusal is in the outbox as failed, for organisers to see and resend.
            workflow.logger.warning("mail %s failed for good: %s", milestone, exc.cause)
