"""Append to the audit trail on behalf of the current request (its caller and request id)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import current_principal
from db.audit import AuditEntry, append_audit


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
