"""NoticeActivities: store the committee's ruling on an objection and tell the objector, exactly once."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import MailRequest, RulingRecord
from activities.mail import MailActivities
from db.audit import AuditEntry, append_audit
from db.notice_models import Objection


class NoticeActivities:
    """Database and mail work of the public notices."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], mail: MailActivities) -> None:
        self._sessions = sessions
        self._mail = mail

    @activity.defn
    async def record_ruling(self, record: RulingRecord) -> None:
        """Mark the objection upheld or dismissed (idempotent), audit it, and mail the objector the outcome."""
        async with self._sessions.begin() as session:
            objection = await session.get(Objection, record.objection_id)
            if objection is None or objection.project_id != record.project_id:
                raise ApplicationError(f"no objection {record.objection_id} on {record.project_id}", non_retryable=True)
            result = await session.execute(
                update(Objection)
                .where(Objection.id == record.objection_id, Objection.status.in_(("received", "open")))
                .values(status=record.ruling, reasons=record.reasons, ruled_by=record.actor, ruled_at=record.ruled_at)
            )
            if getattr(result, "rowcount", 0):
                await append_audit(
                    session,
                    AuditEntry(
                        record.actor,
                        "committee",
                        f"objection.{record.ruling}",
                        "objection",
                        str(record.objection_id),
                        details={"project_id": record.project_id},
                    ),
                )
            recipient, name = objection.email, objection.name
        await self._mail.deliver(
            MailRequest(
                workflow_id=f"objection-{record.objection_id}",
                milestone=f"objection_{record.ruling}",
                recipient=recipient,
                template="objection_ruled_objector",
                context={**record.context, "objector_name": name, "ruling": record.ruling, "reasons": record.reasons},
            )
        )
