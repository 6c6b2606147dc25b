"""The organisers' own views through the API on the dev server: the dashboard's counts per stage and track and its
overdue list by judge, and the mail log with a failed or uncertain mail resent exactly once by a worker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from db.outbox import Mail
from devtools.mail_sink import MailSink, read_store
from tests.conftest import free_port
from tests.helpers import complete_proofs, eventually, keep_history, registration_body, rehearsal, seed_judge
from tests.test_mail import RefusingHandler, activities, request
from tests.test_mail_in_doubt import SilentAfterData
from tests.test_mail_in_doubt import activities as in_doubt_activities


async def test_dashboard_counts_projects_and_names_late_judges(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    code = await rehearsal(api)
    ids = []
    for problem in ("city_governance-07", "city_governance-07", "agriculture-01"):
        body = registration_body(f"dash-{uuid.uuid4().hex[:8]}@example.com", problem_code=problem)
        response = await api.post(f"/competitions/{code}/projects", json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    await complete_proofs(api, ids[0])
    withdrawn = await api.post(
        f"/projects/{ids[2]}/decisions", json={"stage": "registration", "decision": "withdraw", "reason": "团队解散"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    late = datetime.now(UTC) - timedelta(hours=2)
    judge, _ = await seed_judge(sessions, code, projects=(ids[0], ids[1]), due_at=late)
    await seed_judge(sessions, code, projects=(ids[0],), due_at=datetime.now(UTC) + timedelta(days=2))

    async def counted() -> dict[str, object] | None:
        body = (await api.get(f"/competitions/{code}/dashboard")).json()
        return body if body["ended"] else None

    board = await eventually(counted)
    assert board["projects"] == 3
    assert board["live"] == {"registration": {"city_governance": 2}}
    assert board["ended"] == {"withdrawn": {"agriculture": 1}}
    assert [(p["account_id"], [t["project_id"] for t in p["tasks"]]) for p in board["overdue"]] == [
        (int(judge), [ids[0], ids[1]])
    ]
    missing = await api.get("/competitions/no-such-competition/dashboard")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "competition_not_found")


async def test_a_failed_mail_is_listed_and_resent_once(
    api: httpx.AsyncClient,
    dev_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    mail_sink: MailSink,
    tmp_path: Path,
) -> None:
    # The relay refused the mailbox for good: the outbox marks the mail failed.
    req = request(f"nobody@{uuid.uuid4().hex[:8]}.example.com")
    with MailSink(tmp_path, port=free_port(), handler=RefusingHandler(tmp_path)) as refusing:
        mail = activities(sessions, refusing.port)
        await asyncio.gather(ActivityEnvironment().run(mail.send_mail, req), return_exceptions=True)
    log = await api.get("/mails", params={"status": "failed", "workflow_id": req.workflow_id})
    assert log.status_code == 200 and log.json()["total"] == 1
    failed = log.json()["mails"][0]
    assert (failed["recipient"], failed["milestone"], failed["resent"]) == (req.recipient, req.milestone, 0)
    assert "550" in failed["last_error"]

    # The mailbox works again (the session's sink takes every address): two clicks, one resend, one mail.
    first, second = [await api.post(f"/mails/{failed['id']}/resend") for _ in range(2)]
    assert (first.status_code, first.json()["workflow_id"]) == (202, f"mail-resend-{failed['id']}"), first.text
    # The second click finds the same resend still running, or the mail already sent: never a second resend.
    assert (second.status_code, second.json().get("workflow_id")) == (202, first.json()["workflow_id"]) or (
        second.status_code,
        second.json()["error"]["code"],
    ) == (409, "mail_already_sent")

    async def sent() -> Mail | None:
        async with sessions() as session:
            row = (await session.execute(select(Mail).where(Mail.id == failed["id"]))).scalar_one()
            return row if row.status == "sent" else None

    row = await eventually(sent)
    await keep_history(dev_env.client.get_workflow_handle(first.json()["workflow_id"]), "mail_resend_sent")
    assert (row.resent, row.attempts, row.last_error) == (1, 2, None)
    delivered = [m for m in read_store(mail_sink.store) if m["X-Envelope-To"] == req.recipient]
    assert len(delivered) == 1 and delivered[0]["Message-ID"] == row.message_id
    again = await api.post(f"/mails/{failed['id']}/resend")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "mail_already_sent")
    unknown = await api.post("/mails/999999999/resend")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "mail_not_found")


async def test_a_mail_in_doubt_is_listed_as_uncertain_and_an_organisers_resend_sends_it_once(
    api: httpx.AsyncClient,
    dev_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    mail_sink: MailSink,
    tmp_path: Path,
) -> None:
    # The relay took the message and never answered, and this deployment cannot ask it: held, not sent again.
    req = request(f"doubt-{uuid.uuid4().hex[:8]}@example.com")
    with MailSink(tmp_path, port=free_port(), handler=SilentAfterData(tmp_path, store=False)) as silent:
        receipt = await ActivityEnvironment().run(in_doubt_activities(sessions, silent, None).send_mail, req)
    assert receipt.status == "uncertain"
    log = await api.get("/mails", params={"status": "uncertain", "workflow_id": req.workflow_id})
    assert log.status_code == 200 and log.json()["total"] == 1, log.text
    held = log.json()["mails"][0]
    assert "cannot be asked" in held["last_error"] and held["sending_since"] is None

    # The team says it has nothing: the organiser resends, and the mail goes out once.
    resend = await api.post(f"/mails/{held['id']}/resend")
    assert resend.status_code == 202, resend.text

    async def sent() -> Mail | None:
        async with sessions() as session:
            row = (await session.execute(select(Mail).where(Mail.id == held["id"]))).scalar_one()
            return row if row.status == "sent" else None

    row = await eventually(sent)
    assert row.resent == 1
    assert [m["X-Envelope-To"] for m in read_store(mail_sink.store)].count(req.recipient) == 1
