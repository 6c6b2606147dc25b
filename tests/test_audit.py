"""The audit trail: every act appends a chained record; tampering is caught and named; rows cannot change."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.audit_trail import earlier_acts
from db.audit import AuditEntry, append_audit, verify_chain
from db.models import AuditRecord
from tests.helpers import registration_body, rehearsal


async def test_acts_leave_records_with_who_what_and_request(api: httpx.AsyncClient, public: httpx.AsyncClient) -> None:
    code = await rehearsal(api)
    body = registration_body("audit-team@example.com")
    registered = await public.post(f"/competitions/{code}/projects", json=body, headers={"X-Request-ID": "req-42"})
    assert registered.status_code == 201 and registered.headers["x-request-id"] == "req-42"
    project_id = registered.json()["id"]
    records = (await api.get("/audit", params={"object_id": project_id})).json()
    assert [(r["action"], r["actor"], r["role"], r["request_id"]) for r in records] == [
        ("project.registered", "anonymous", "public", "req-42")
    ]
    created = (await api.get("/audit", params={"object_id": code})).json()
    assert created[0]["action"] == "competition.created" and created[0]["role"] == "organiser"
    assert all(r["prev_hash"] != r["hash"] for r in records + created)
    report = (await api.get("/audit/verify")).json()
    assert report["intact"] and report["records"] >= 2 and report["first_broken_seq"] is None, report


async def test_mail_sent_is_recorded(api: httpx.AsyncClient, public: httpx.AsyncClient) -> None:
    from tests.helpers import eventually

    code = await rehearsal(api)
    registered = await public.post(f"/competitions/{code}/projects", json=registration_body("mail-audit@example.com"))
    project_id = registered.json()["id"]
    key = f"{project_id}/registration_received/mail-audit@example.com"

    async def recorded() -> list[dict[str, object]]:
        return [r for r in (await api.get("/audit", params={"object_id": key})).json() if r["action"] == "mail.sent"]

    assert len(await eventually(recorded)) == 1


async def _set_append_only(engine: AsyncEngine, enabled: bool) -> None:
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text(f"ALTER TABLE audit_log {'ENABLE' if enabled else 'DISABLE'} TRIGGER audit_log_no_change")
            )
        elif enabled:
            for verb in ("UPDATE", "DELETE"):
                await conn.execute(
                    text(
                        f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
                    )
                )
        else:
            await conn.execute(text("DROP TRIGGER audit_log_no_update"))
            await conn.execute(text("DROP TRIGGER audit_log_no_delete"))


@pytest.fixture
async def chain(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[list[int]]:
    """Three fresh records at the end of the chain."""
    seqs = []
    async with sessions() as session:
        for i in range(3):
            record = await append_audit(
                session,
                AuditEntry("tester", "organiser", "test.act", "test", f"t{i}", details={"n": i, "text": "实名举报"}),
            )
            seqs.append(record.seq)
        await session.commit()
    yield seqs


async def test_rows_cannot_be_updated_or_deleted(sessions: async_sessionmaker[AsyncSession], chain: list[int]) -> None:
    for statement in (
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = :seq",
        "DELETE FROM audit_log WHERE seq = :seq",
    ):
        async with sessions() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement), {"seq": chain[1]})


async def test_a_tampered_row_is_named(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], chain: list[int], settings_factory: object
) -> None:
    await _set_append_only(engine, False)
    try:
        async with sessions.begin() as session:
            original = await session.get(AuditRecord, chain[1])
            assert original is not None
            before = original.actor
            await session.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = :seq"), {"seq": chain[1]})
        async with sessions() as session:
            report = await verify_chain(session)
        assert (report.intact, report.first_broken_seq) == (False, chain[1])
        assert report.problem == "its content does not match its hash"
        cli = _cli_verify(settings_factory)
        assert cli.returncode == 1 and f"BROKEN at record {chain[1]}" in cli.stderr
    finally:
        async with sessions.begin() as session:
            await session.execute(
                text("UPDATE audit_log SET actor = :actor WHERE seq = :seq"), {"actor": before, "seq": chain[1]}
            )
        await _set_append_only(engine, True)
    async with sessions() as session:
        assert (await verify_chain(session)).intact
    assert _cli_verify(settings_factory).returncode == 0


async def test_a_removed_row_is_named(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], chain: list[int]
) -> None:
    await _set_append_only(engine, False)
    try:
        async with sessions.begin() as session:
            row = await session.get(AuditRecord, chain[2])
            assert row is not None
            saved = {c.name: getattr(row, c.name) for c in AuditRecord.__table__.columns}
            await session.execute(text("DELETE FROM audit_log WHERE seq = :seq"), {"seq": chain[2]})
        async with sessions() as session:
            report = await verify_chain(session)
        assert (report.intact, report.first_broken_seq) == (False, chain[2])
    finally:
        async with sessions.begin() as session:
            session.add(AuditRecord(**saved))
        await _set_append_only(engine, True)
    async with sessions() as session:
        assert (await verify_chain(session)).intact
        assert (await session.scalar(select(AuditRecord.actor).where(AuditRecord.seq == chain[2]))) == "tester"


def _cli_verify(settings_factory: object) -> subprocess.CompletedProcess[str]:
    settings = settings_factory()  # type: ignore[operator]
    env = dict(os.environ, CONTESTFLOW_DATABASE_URL=settings.database_url)
    return subprocess.run(
        [sys.executable, "-m", "cli.contestctl", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_idempotency_check_searches_by_object_and_action(engine: AsyncEngine) -> None:
    """Each repeatable request (a score sheet, say) looks up its object's earlier acts: by the (object, action) index,
    not by the action alone, which on SQLite read every sheet of the season for each new one."""
    statement = earlier_acts("score.submitted", "P-1").compile(
        engine.sync_engine, compile_kwargs={"literal_binds": True}
    )
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SET LOCAL enable_seqscan = off"))  # a small test table is otherwise scanned
            plan = " ".join(r[0] for r in await conn.execute(text(f"EXPLAIN {statement}")))
        else:
            plan = " ".join(r[-1] for r in await conn.execute(text(f"EXPLAIN QUERY PLAN {statement}")))
    assert "ix_audit_log_object_action" in plan, plan
