"""MailResendWorkflow: an organiser's resend of one failed mail, retried with backoff while the relay is down."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import MailReceipt
    from activities.mail import MailActivities
    from workflows.core import ACTIVITY_RETRY


def resend_workflow_id(mail_id: int) -> str:
    """One workflow id per mail: a second click while a resend runs finds it (the start is refused), and a closed
    run lets a later resend start a new run under the same id. (Numbering ids by the mail's resend count raced with
    the running resend, which raises that count: a click in between started a second resend.)"""
    return f"mail-resend-{mail_id}"


@workflow.defn
class MailResendWorkflow:
    """Runs the outbox's resend step; a permanent refusal ends it with the mail marked failed again."""

    @workflow.run
    async def run(self, mail_id: int) -> str:
        """The mail's state after the resend: `sent` or `failed`."""
        try:
            receipt: MailReceipt = await workflow.execute_activity_method(
                MailActivities.resend_mail,
                mail_id,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=ACTIVITY_RETRY,
                summary=f"resend mail {mail_id}",
            )
        except ActivityError as exc:
            workflow.logger.warning("resend of mail %s failed for good: %s", mail_id, exc.cause)
            return "failed"
        return receipt.status
