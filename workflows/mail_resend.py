"""MailResendWorkflow: an organiser's resend of one failed mail, retried with backoff while the relay is down."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import MailReceipt
    from activities.mail import MailActivities
    from workflows.core import ACTIVITY_RETRY


def resend_workflow_id(mail_id: int, resent: int) -> str:
    """One workflow per mail and resend: a double click finds the one already running."""
    return f"mail-resend-{mail_id}-{resent + 1}"


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
