"""The audit trail: append a hash-chained record in the caller's transaction; verify the whole chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditHead, AuditRecord

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """What happened: who (and in which role), what, to which object, from which request."""

    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    request_id: str = "-"
    details: dict[str, Any] = field(default_factory=dict)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def record_hash(seq: int, at: datetime, entry: AuditEntry, prev_hash: str) -> str:
    """SHA-256 over the record's canonical JSON, the previous hash included."""
    body = {
        "seq": seq,
        "at": _utc(at).isoformat(),
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "request_id": entry.request_id,
        "details": entry.details,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def append_audit(session: AsyncSession, entry: AuditEntry) -> AuditRecord:
    """Append one record to the chain inside the caller's transaction (commit is the caller's)."""
    row = (
        await session.execute(
            update(AuditHead)
            .where(AuditHead.id == 1)
            .values(seq=AuditHead.seq + 1)
            .returning(AuditHead.seq, AuditHead.hash)
        )
    ).one()
    seq, prev_hash = int(row.seq), str(row.hash)
    at = datetime.now(UTC)
    details = json.loads(json.dumps(entry.details, ensure_ascii=False, default=str))
    clean = AuditEntry(
        entry.actor, entry.role, entry.action, entry.object_type, entry.object_id, entry.request_id, details
    )
    digest = record_hash(seq, at, clean, prev_hash)
    record = AuditRecord(
        seq=seq,
        at=at,
        actor=clean.actor,
        role=clean.role,
        action=clean.action,
        object_type=clean.object_type,
        object_id=clean.object_id,
        request_id=clean.request_id,
        details=details,
        prev_hash=prev_hash,
        hash=digest,
    )
    session.add(record)
    await session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
    await session.flush()
    return record


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a verification: how many records, and the first broken one (None when intact)."""

    records: int
    first_broken_seq: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """True when every record's hash and link check out."""
        return self.first_broken_seq is None


async def verify_chain(session: AsyncSession, batch: int = 5000) -> ChainReport:
    """Recompute every hash up to the head read first (later appends are for the next run); name the first record
    whose content, link or numbering is off, or the point after which records were removed."""
    head = (await session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1))).one_or_none()
    head_seq, head_hash = (int(head.seq), str(head.hash)) if head is not None else (0, GENESIS)
    expected_prev, expected_seq, count, last_seq = GENESIS, 1, 0, 0
    while last_seq < head_seq:
        query = (
            select(AuditRecord)
            .where(AuditRecord.seq > last_seq, AuditRecord.seq <= head_seq)
            .order_by(AuditRecord.seq)
            .limit(batch)
        )
        rows = (await session.scalars(query)).all()
        if not rows:
            break
        for r in rows:
            count += 1
            if r.seq != expected_seq:
                return ChainReport(count, expected_seq, f"record {expected_seq} is missing")
            if r.prev_hash != expected_prev:
                return ChainReport(count, r.seq, "its link to the previous record does not match")
            entry = AuditEntry(r.actor, r.role, r.action, r.object_type, r.object_id, r.request_id, r.details)
            if record_hash(r.seq, r.at, entry, r.prev_hash) != r.hash:
                return ChainReport(count, r.seq, "its content does not match its hash")
            expected_prev, expected_seq, last_seq = r.hash, r.seq + 1, r.seq
    if last_seq != head_seq or expected_prev != head_hash:
        return ChainReport(count, last_seq + 1, "records after this point were removed")
    return ChainReport(count)
