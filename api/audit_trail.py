"""Append to the audit trail on behalf of the current request (its caller and request id)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_principal
from db.audit import AuditEntry, append_audit
from db.models import AuditRecord


async def audit(
    session: AsyncSession, request: Request, action: str, object_type: str, object_id: str, **details: Any
) -> None:
    """Record one state-changing act in the caller's transaction."""
    principal = current_principal(request)
    await append_audit(
        session,
        AuditEntry(
            actor=principal.username,
            role=principal.role.value,
            action=action,
            object_type=object_type,
            object_id=object_id,
            request_id=getattr(request.state, "request_id", "-"),
            details=details,
        ),
    )


def earlier_acts(action: str, object_id: str) -> Select[tuple[dict[str, Any]]]:
    """The details of an object's earlier acts of one kind (searched by the (object, action) index)."""
    return select(AuditRecord.details).where(AuditRecord.object_id == object_id, AuditRecord.action == action)


async def audit_once(
    session: AsyncSession,
    request: Request,
    idempotency_key: str | None,
    action: str,
    object_type: str,
    object_id: str,
    **details: Any,
) -> None:
    """Record the act, unless it is a repeat (same `Idempotency-Key`) of one already recorded: a repeated request is
    one act, in the trail as in the workflow."""
    if idempotency_key is not None:
        earlier = await session.scalars(earlier_acts(action, object_id))
        if any(d.get("idempotency_key") == idempotency_key for d in earlier):
            return
    await audit(session, request, action, object_type, object_id, idempotency_key=idempotency_key, **details)
