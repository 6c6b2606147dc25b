"""A mail whose delivery is in doubt (the connection broke after the server was handed the message) is never sent
blindly again: the sink's store settles it when it can be asked, otherwise it is held as uncertain for organisers;
an attempt that finds a mail claimed by a live attempt waits for the lease instead of sending a second copy."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.mail import MailActivities
from activities.rendering import MailRenderer
from activities.smtp import DeliveryInDoubt, SmtpConfig, SmtpSender
from db.models import AuditRecord
from db.outbox import Mail
from devtools.mail_sink import MailSink, SinkStoreLookup, StoringHandler, read_store
from tests.conftest import free_port
from tests.test_mail import SENDER, outbox_row, request


class SilentAfterData(StoringHandler):
    """Takes the message (or, with `store=False`, only reads it) and never answers: the client times out with the
    message in the server's hands, or not."""

    def __init__(self, folder: Path, store: bool) -> None:
        super().__init__(folder)
        self._store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._store:
            await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(60)
        return "451 too late"


def activities(
    sessions: async_sessionmaker[AsyncSession], sink: MailSink, lookup: SinkStoreLookup | None
) -> MailActivities:
    sender = SmtpSender(SmtpConfig("127.0.0.1", sink.port, timeout=1))
    return MailActivities(sessions, sender, MailRenderer(), SENDER, lookup)


def copies(sink: MailSink, key: str) -> int:
    return sum(m["X-ContestFlow-Key"] == key for m in read_store(sink.store))


async def test_the_sender_reports_a_broken_connection_after_the_hand_over_as_in_doubt(tmp_path: Path) -> None:
    with MailSink(tmp_path, port=free_port(), handler=SilentAfterData(tmp_path, store=True)) as sink:
        sender = SmtpSender(SmtpConfig("127.0.0.1", sink.port, timeout=1))
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = SENDER, "a@example.com", "x"
        mail.set_content("x")
        with pytest.raises(DeliveryInDoubt):
            await sender.send(mail)
        assert len(read_store(sink.store)) == 1


async def test_a_mail_in_doubt_found_in_the_sink_store_is_marked_sent_and_not_sent_again(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    with MailSink(tmp_path, port=free_port(), handler=SilentAfterData(tmp_path, store=True)) as sink:
        mail = activities(sessions, sink, SinkStoreLookup(sink.store))
        req = request(f"{uuid.uuid4().hex[:8]}@example.com")
        receipt = await ActivityEnvironment().run(mail.send_mail, req)
        assert (receipt.status, receipt.newly_sent) == ("sent", False)
        again = await ActivityEnvironment().run(mail.send_mail, req)
        assert again.status == "sent"
        assert copies(sink, req.idempotency_key) == 1
    row = await outbox_row(sessions, req.idempotency_key)
    assert (row.status, row.attempts, row.sending_since) == ("sent", 1, None)
    async with sessions() as session:
        audit = (await session.scalars(select(AuditRecord).where(AuditRecord.object_id == req.idempotency_key))).all()
    assert [a.action for a in audit] == ["mail.sent"] and "found_in_server_store_after" in audit[0].details


async def test_a_mail_in_doubt_the_sink_never_took_goes_back_to_the_queue_and_out_once(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    port = free_port()
    req = request(f"{uuid.uuid4().hex[:8]}@example.com")
    lost = tmp_path / "lost"
    with MailSink(lost, port=port, handler=SilentAfterData(lost, store=False)) as sink:
        mail = activities(sessions, sink, SinkStoreLookup(lost))
        with pytest.raises(ApplicationError) as info:
            await ActivityEnvironment().run(mail.send_mail, req)
        assert info.value.type == "mail_not_delivered" and not info.value.non_retryable
    row = await outbox_row(sessions, req.idempotency_key)
    assert row.status == "queued" and "after hand-over" in (row.last_error or "")
    good = tmp_path / "good"
    with MailSink(good, port=port) as sink:
        receipt = await ActivityEnvironment().run(activities(sessions, sink, SinkStoreLookup(good)).send_mail, req)
        assert receipt.newly_sent and copies(sink, req.idempotency_key) == 1
    assert (await outbox_row(sessions, req.idempotency_key)).attempts == 2


async def test_without_a_way_to_ask_the_server_a_mail_in_doubt_is_held_uncertain_until_an_organiser_resends(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    port = free_port()
    req = request(f"{uuid.uuid4().hex[:8]}@example.com")
    with MailSink(tmp_path / "a", port=port, handler=SilentAfterData(tmp_path / "a", store=True)) as sink:
        receipt = await ActivityEnvironment().run(activities(sessions, sink, None).send_mail, req)
        assert receipt.status == "uncertain"
    with MailSink(tmp_path / "b", port=port) as sink:
        mail = activities(sessions, sink, None)
        assert (await ActivityEnvironment().run(mail.send_mail, req)).status == "uncertain"  # a retry holds it too
        assert copies(sink, req.idempotency_key) == 0
        row = await outbox_row(sessions, req.idempotency_key)
        assert row.status == "uncertain" and "cannot be asked" in (row.last_error or "")
        resent = await ActivityEnvironment().run(mail.resend_mail, row.id)  # the organiser's choice
        assert resent.newly_sent and copies(sink, req.idempotency_key) == 1
    row = await outbox_row(sessions, req.idempotency_key)
    assert (row.status, row.resent) == ("sent", 1)


async def test_a_mail_claimed_by_a_live_attempt_is_not_sent_again_until_its_lease_runs_out(
    sessions: async_sessionmaker[AsyncSession], mail_sink: MailSink
) -> None:
    mail = activities(sessions, mail_sink, SinkStoreLookup(mail_sink.store))
    req = request(f"{uuid.uuid4().hex[:8]}@example.com")
    with pytest.raises(OSError):  # records the row (queued) against a closed port
        await ActivityEnvironment().run(
            MailActivities(
                sessions, SmtpSender(SmtpConfig("127.0.0.1", free_port(), timeout=1)), MailRenderer(), SENDER
            ).send_mail,
            req,
        )
    claimed = update(Mail).where(Mail.idempotency_key == req.idempotency_key)
    async with sessions.begin() as session:  # another attempt claimed it a moment ago and may be sending now
        await session.execute(claimed.values(status="sending", sending_since=datetime.now(UTC)))
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(mail.send_mail, req)
    assert info.value.type == "mail_in_flight" and not info.value.non_retryable
    assert copies(mail_sink, req.idempotency_key) == 0
    async with sessions.begin() as session:  # that attempt died long ago without handing the mail over
        await session.execute(claimed.values(sending_since=datetime.now(UTC) - timedelta(hours=1)))
    receipt = await ActivityEnvironment().run(mail.send_mail, req)
    assert receipt.newly_sent and copies(mail_sink, req.idempotency_key) == 1
    row = await outbox_row(sessions, req.idempotency_key)
    assert (row.status, row.attempts) == ("sent", 2) and "earlier attempt" not in (row.last_error or "")


async def test_a_send_called_off_before_the_hand_over_gives_its_claim_back(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    class SlowToGreet(StoringHandler):
        async def handle_EHLO(
            self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
        ) -> list[str]:
            await asyncio.sleep(5)
            return responses

    with MailSink(tmp_path, port=free_port(), handler=SlowToGreet(tmp_path)) as sink:
        mail = MailActivities(
            sessions, SmtpSender(SmtpConfig("127.0.0.1", sink.port, timeout=10)), MailRenderer(), SENDER
        )
        req = request(f"{uuid.uuid4().hex[:8]}@example.com")
        attempt = asyncio.create_task(ActivityEnvironment().run(mail.send_mail, req))
        await asyncio.sleep(1)  # claimed, and waiting for the server's greeting
        assert (await outbox_row(sessions, req.idempotency_key)).status == "sending"
        attempt.cancel()  # as a local activity's timeout or a workflow's eviction does
        with pytest.raises(asyncio.CancelledError):
            await attempt
    row = await outbox_row(sessions, req.idempotency_key)
    assert (row.status, row.sending_since) == ("queued", None) and "called off" in (row.last_error or "")
