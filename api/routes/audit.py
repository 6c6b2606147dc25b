"""The audit trail: read it page by page, and verify its hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from api.auth import guard
from api.deps import SessionDep
from db.audit import verify_chain
from db.models import AuditRecord
from domain.roles import Action

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditRecordOut(BaseModel):
    """One record as stored."""

    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    request_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class ChainReportOut(BaseModel):
    """Whether the chain is intact, and if not, the first broken record."""

    intact: bool
    records: int
    first_broken_seq: int | None
    problem: str | None


@router.get("", response_model=list[AuditRecordOut], summary="Audit records in order", **guard(Action.AUDIT_READ))
async def read(
    session: SessionDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    object_id: Annotated[str | None, Query(max_length=200)] = None,
) -> list[AuditRecordOut]:
    """Records with seq > after, oldest first; optionally about one object."""
    query = select(AuditRecord).where(AuditRecord.seq > after).order_by(AuditRecord.seq).limit(limit)
    if object_id is not None:
        query = query.where(AuditRecord.object_id == object_id)
    return [AuditRecordOut.model_validate(r, from_attributes=True) for r in (await session.scalars(query)).all()]


@router.get("/verify", response_model=ChainReportOut, summary="Verify the hash chain", **guard(Action.AUDIT_VERIFY))
async def verify(session: SessionDep) -> ChainReportOut:
    """Recompute every hash; name the first record that does not match."""
    report = await verify_chain(session)
    return ChainReportOut(
        intact=report.intact, records=report.records, first_broken_seq=report.first_broken_seq, problem=report.problem
    )
