"""The outbox: one mail per (workflow, milestone, recipient), however often the activity runs or fails."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import MailRequest
from activities.mail import MailActivities
from activities.rendering import MailRenderer
from activities.smtp import SmtpConfig, SmtpSender
from db.outbox import Mail
from devtools.mail_sink import MailSink, StoringHandler, read_store
from tests.conftest import free_port

SENDER = "ContestFlow <noreply@contestflow.localhost>"


def request(recipient: str) -> MailRequest:
    return MailRequest(
        workflow_id=f"ln-test-P{uuid.uuid4().hex[:6]}",
        milestone="registration_received",
        recipient=recipient,
        template="registration_received",
        context={
            "project_id": "ln-test-P00001",
            "project_name": "数据要素项目",
            "team_name": "团队",
            "contact_name": "李娜",
            "competition_name": "辽宁分赛",
            "track_name": "城市治理",
            "problem_code": "city_governance-01",
            "problem_title": "发展智能安居的数字住房",
        },
    )


def activities(sessions: async_sessionmaker[AsyncSession], port: int) -> MailActivities:
    return MailActivities(sessions, SmtpSender(SmtpConfig("127.0.0.1", port, timeout=3)), MailRenderer(), SENDER)


async def outbox_row(sessions: async_sessionmaker[AsyncSession], key: str) -> Mail:
    async with sessions() as session:
        return (await session.execute(select(Mail).where(Mail.idempotency_key == key))).scalar_one()


async def test_a_retried_activity_sends_once(sessions: async_sessionmaker[AsyncSession], mail_sink: MailSink) -> None:
    mail = activities(sessions, mail_sink.port)
    req = request(f"{uuid.uuid4().hex[:8]}@example.com")
    first = await ActivityEnvironment().run(mail.send_mail, req)
    second = await ActivityEnvironment().run(mail.send_mail, req)
    assert first.newly_sent and not second.newly_sent and first.message_id == second.message_id
    delivered = [m for m in read_store(mail_sink.store) if m["X-Envelope-To"] == req.recipient]
    assert len(delivered) == 1 and delivered[0]["Message-ID"] == first.message_id
    row = await outbox_row(sessions, req.idempotency_key)
    assert (row.status, row.attempts, row.subject) == ("sent", 1, str(delivered[0]["Subject"]))


async def test_a_mail_goes_on_the_wire_in_ascii_headers_and_reads_back_in_chinese(
    sessions: async_sessionmaker[AsyncSession], mail_sink: MailSink
) -> None:
    mail = MailActivities(
        sessions, SmtpSender(SmtpConfig("127.0.0.1", mail_sink.port, timeout=3)), MailRenderer(), "大赛组委会 <c@x.cn>"
    )
    req = request(f"{uuid.uuid4().hex[:8]}@example.com")
    await ActivityEnvironment().run(mail.send_mail, req)
    raw = next(p.read_bytes() for p in mail_sink.store.glob("*.eml") if req.recipient.encode() in p.read_bytes())
    headers = raw.split(b"\r\n\r\n" if b"\r\n\r\n" in raw else b"\n\n", 1)[0]
    assert headers.isascii() and b"=?utf-8?" in headers  # RFC 2047 words: any relay takes it, no SMTPUTF8 needed
    message = next(m for m in read_store(mail_sink.store) if m["X-Envelope-To"] == req.recipient)
    rendered = MailRenderer().render(req.template, req.context)
    assert str(message["Subject"]) == rendered.subject and "数据要素项目" in rendered.subject
    assert (message["To"].addresses[0].display_name, message["To"].addresses[0].addr_spec) == ("李娜", req.recipient)
    assert message["From"].addresses[0].display_name == "大赛组委会"
    plain, html = (message.get_body(preferencelist=(kind,)) for kind in ("plain", "html"))
    assert plain is not None and plain.get_content() == rendered.text
    assert html is not None and html.get_content() == rendered.html


async def test_smtp_down_keeps_the_mail_queued_until_it_returns(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    port = free_port()
    mail = activities(sessions, port)
    req = request("queued@example.com")
    with pytest.raises(OSError):
        await ActivityEnvironment().run(mail.send_mail, req)
    row = await outbox_row(sessions, req.idempotency_key)
    assert row.status == "queued" and row.last_error and row.attempts == 1
    with MailSink(tmp_path, port=port) as sink:
        receipt = await ActivityEnvironment().run(mail.send_mail, req)
        assert receipt.newly_sent and len(read_store(sink.store)) == 1
    row = await outbox_row(sessions, req.idempotency_key)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


class RefusingHandler(StoringHandler):
    """An SMTP server that refuses one mailbox for good."""

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_sink(tmp_path: Path) -> Iterator[MailSink]:
    with MailSink(tmp_path, port=free_port(), handler=RefusingHandler(tmp_path)) as sink:
        yield sink


async def test_a_permanent_refusal_is_marked_failed_and_not_retried(
    sessions: async_sessionmaker[AsyncSession], refusing_sink: MailSink
) -> None:
    mail = activities(sessions, refusing_sink.port)
    req = request("nobody@example.com")
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(mail.send_mail, req)
    assert info.value.non_retryable and info.value.type == "mail_refused"
    row = await outbox_row(sessions, req.idempotency_key)
    assert row.status == "failed" and "550" in (row.last_error or "")
    assert read_store(refusing_sink.store) == []


def test_templates_render_chinese_and_english_and_escape_html() -> None:
    context = dict(request("x@example.com").context, project_name="<b>数据</b>")
    rendered = MailRenderer().render("registration_received", context)
    assert rendered.subject.startswith("【辽宁分赛】报名已收到 Registration received")
    assert "您的团队「团队」已成功报名" in rendered.text and "Dear 李娜" in rendered.text
    assert "&lt;b&gt;数据&lt;/b&gt;" in rendered.html and "<b>数据</b>" in rendered.text
