"""MailActivities: the outbox. Each (workflow, milestone, recipient) is recorded once and sent once."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import MailReceipt, MailRequest
from activities.rendering import MailRenderer
from activities.smtp import PermanentMailError, SmtpSender
from db.audit import AuditEntry, append_audit
from db.outbox import Mail
from db.upsert import insert_if_absent


def message_id_for(idempotency_key: str, sender: str) -> str:
    """A Message-ID derived from the business key, so a resend is recognisably the same mail."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "contestflow.localhost"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


class MailActivities:
    """Records each mail in the outbox, renders it from its template and sends it through the SMTP port."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: SmtpSender,
        renderer: MailRenderer,
        from_address: str,
    ) -> None:
        self._sessions = sessions
        self._sender = sender
        self._renderer = renderer
        self._from = from_address

    @activity.defn
    async def send_mail(self, request: MailRequest) -> MailReceipt:
        """Send once: a mail already marked sent is not sent again, whatever the retry."""
        return await self.deliver(request)

    @activity.defn
    async def resend_mail(self, mail_id: int) -> MailReceipt:
        """An organiser's resend of a mail that failed or is stuck: rendered again from the stored template and
        context through the same outbox step, so a mail that did go out in the meantime is not sent twice."""
        async with self._sessions.begin() as session:
            row = await session.get(Mail, mail_id)
            if row is None or row.template is None or row.context is None:
                raise ApplicationError(
                    f"mail {mail_id} cannot be resent", type="mail_not_resendable", non_retryable=True
                )
            if row.status == "sent":
                return MailReceipt(row.message_id, "sent", False)
            row.resent += 1
            request = MailRequest(row.workflow_id, row.milestone, row.recipient, row.template, dict(row.context))
        return await self.deliver(request)

    async def deliver(self, request: MailRequest) -> MailReceipt:
        """The outbox step itself, for activities that work out a recipient the workflow must not see."""
        key = request.idempotency_key
        rendered = self._renderer.render(request.template, request.context)
        message_id = message_id_for(key, self._from)
        async with self._sessions.begin() as session:
            await insert_if_absent(
                session,
                Mail,
                {
                    "idempotency_key": key,
                    "workflow_id": request.workflow_id,
                    "milestone": request.milestone,
                    "recipient": request.recipient,
                    "subject": rendered.subject,
                    "message_id": message_id,
                    "status": "queued",
                    "attempts": 0,
                    "created_at": datetime.now(UTC),
                    "template": request.template,
                    "context": request.context,
                },
                ["idempotency_key"],
            )
            row = (await session.execute(select(Mail).where(Mail.idempotency_key == key))).scalar_one()
            if row.status == "sent":
                return MailReceipt(row.message_id, "sent", False)
            row.status, row.attempts = "sending", row.attempts + 1
        message = self._message(request, rendered.subject, rendered.text, rendered.html, message_id)
        try:
            await self._sender.send(message)
        except PermanentMailError as exc:
            await self._mark(key, status="failed", last_error=str(exc))
            raise ApplicationError(f"mail permanently refused: {exc}", type="mail_refused", non_retryable=True) from exc
        except Exception as exc:
            await self._mark(key, status="queued", last_error=f"{type(exc).__name__}: {exc}")
            raise
        await self._mark(
            key,
            status="sent",
            last_error=None,
            sent_at=datetime.now(UTC),
            audit=AuditEntry(
                actor="system",
                role="system",
                action="mail.sent",
                object_type="mail",
                object_id=key,
                request_id=f"{request.workflow_id}/activity-{activity.info().activity_id}",
                details={"milestone": request.milestone, "message_id": message_id},
            ),
        )
        activity.logger.info("mail %s sent to %s", request.milestone, request.recipient)
        return MailReceipt(message_id, "sent", True)

    async def _mark(self, key: str, audit: AuditEntry | None = None, **values: object) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(Mail).where(Mail.idempotency_key == key).values(**values))
            if audit is not None:
                await append_audit(session, audit)

    def _message(self, request: MailRequest, subject: str, text: str, html: str, message_id: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._from
        name = request.context.get("contact_name", "")
        local, _, domain = request.recipient.partition("@")
        message["To"] = Address(display_name=name, username=local, domain=domain)
        message["Subject"] = subject
        message["Message-ID"] = message_id
        message["Date"] = format_datetime(datetime.now(UTC))
        message["X-ContestFlow-Key"] = request.idempotency_key
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message
