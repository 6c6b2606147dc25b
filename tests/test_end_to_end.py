"""End to end on the dev server: real API, worker, database and SMTP sink, from registration to the UI search."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from devtools.mail_sink import MailSink, read_store
from tests.helpers import (
    cli_list,
    complete_proofs,
    eventually,
    keep_history,
    make_id_number,
    registration_body,
    rehearsal,
)
from workflows.competition import competition_workflow_id


def registration(email: str | None = None, team: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid registration with a fresh contact address unless one is given."""
    return registration_body(email or f"{uuid.uuid4().hex[:10]}@example.com", team, **overrides)


async def test_registration_starts_a_findable_workflow_and_mails_the_team(
    api: httpx.AsyncClient, public: httpx.AsyncClient, dev_env: WorkflowEnvironment, mail_sink: MailSink
) -> None:
    code = await rehearsal(api)
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    response = await public.post(f"/competitions/{code}/projects", json=registration(email))
    assert response.status_code == 201, response.text
    project = response.json()
    assert project["id"] == f"{code}-P00001" and project["stage"] == "registration"
    assert project["track_code"] == "city_governance"

    query = f'ContestStage="registration" AND ContestCompetition="{code}"'
    found = await eventually(lambda: asyncio.to_thread(cli_list, dev_env, query))
    assert found == [project["id"]]
    described = await dev_env.client.get_workflow_handle(project["id"]).describe()
    assert await described.static_summary() == "城市生命线数字孪生平台 · 城市治理 · city_governance-07"
    card = await described.static_details() or ""
    assert "- 团队 Team:" in card and "城市生命线数字孪生平台" in card and described.typed_search_attributes

    def delivered() -> list[Any]:
        received = f"{project['id']}/registration_received/{email}"
        return [m for m in read_store(mail_sink.store) if str(m["X-ContestFlow-Key"]).strip() == received]

    mails = await eventually(lambda: asyncio.to_thread(delivered))
    assert len(mails) == 1 and mails[0]["X-Envelope-To"] == email  # (the "incomplete" mail may follow at once)
    assert "报名已收到" in str(mails[0]["Subject"]) and project["id"] in str(mails[0]["Subject"])
    text = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "城市生命线数字孪生平台" in text and "Dear 王伟" in text

    status = await eventually(lambda: _read_when(api, project["id"], lambda p: p["waiting_on"] == "team"))
    assert status["deadline"] == status["calendar"][0]["closes_at"]
    assert [e["kind"] for e in status["log"]] == ["stage_entered"]

    health = await api.get("/health")
    assert health.status_code == 200 and health.json()["components"] == {
        "database": "up",
        "temporal": "up",
        "smtp": "up",
    }


async def _read_when(api: httpx.AsyncClient, project_id: str, predicate: Callable[[dict[str, Any]], bool]) -> Any:
    response = await api.get(f"/projects/{project_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    return body if predicate(body) else None


async def test_moving_a_deadline_moves_every_projects_timer(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, mail_sink: MailSink
) -> None:
    code = await rehearsal(api)
    ids = []
    contacts = [f"moved-{n}-{uuid.uuid4().hex[:8]}@example.com" for n in range(3)]
    for contact in contacts:
        response = await api.post(f"/competitions/{code}/projects", json=registration(contact))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
        await complete_proofs(api, ids[-1])
    before = (await api.get(f"/competitions/{code}")).json()
    query = f'ContestCompetition="{code}" AND WorkflowType="ProjectWorkflow"'
    await eventually(lambda: asyncio.to_thread(lambda: len(cli_list(dev_env, query)) == 3))

    opens = before["calendar"][0]["opens_at"]
    closes = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    moved = await api.put(
        f"/competitions/{code}/stages/registration",
        json={
            "opens_at": opens,
            "closes_at": closes,
            "shift_later": True,
            "reason": "提前截止报名（演练）",
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["calendar_revision"] == 1
    for project_id in ids:

        async def advanced(pid: str = project_id) -> Any:
            return await _read_when(
                api, pid, lambda p: (p["review_phase"], p["waiting_on"]) == ("qualification", "organiser")
            )

        status = await eventually(advanced)
        assert (status["stage"], status["waiting_on"]) == ("first_round_review", "organiser")
    query = f'ContestStage="first_round_review" AND ContestCompetition="{code}"'
    assert sorted(await eventually(lambda: asyncio.to_thread(cli_list, dev_env, query))) == sorted(ids)

    # Each team was told of the move once, with the new close in the competition's time and the reason.
    def schedule_mails() -> list[Any] | None:
        found = [
            m for m in read_store(mail_sink.store) if m["X-Envelope-To"] in contacts and "赛程调整" in m["Subject"]
        ]
        return found if len(found) >= len(contacts) else None

    told = await eventually(lambda: asyncio.to_thread(schedule_mails))
    assert sorted(m["X-Envelope-To"] for m in told) == sorted(contacts)
    text = told[0].get_body(preferencelist=("plain",)).get_content()
    assert "提前截止报名（演练）" in text and "启动报名：" in text and "Asia/Shanghai" in text

    rejection = {"stage": "first_round_review", "decision": "disqualify", "reason": "查实抄袭他人成果"}
    decided, repeated = [
        await api.post(f"/projects/{ids[0]}/decisions", json=rejection, headers={"Idempotency-Key": "once"})
        for _ in range(2)
    ]
    assert decided.status_code == repeated.status_code == 200 and decided.json() == repeated.json()
    trail = (await api.get("/audit", params={"object_id": ids[0]})).json()
    assert [r["details"].get("idempotency_key") for r in trail if r["action"] == "project.decided"] == ["once"]
    final = await eventually(
        lambda: _read_when(api, ids[0], lambda p: p["outcome"] == "disqualified" and p["log"][-1]["kind"] == "outcome")
    )
    late = await api.post(
        f"/projects/{ids[0]}/decisions",
        json={"stage": "first_round_review", "decision": "advance"},
    )
    assert (late.status_code, late.json()["error"]["code"]) == (409, "project_closed")
    assert [d["decision"] for d in final["decisions"]] == ["disqualify"]
    assert [e["kind"] for e in final["log"]][-2:] == ["decision", "outcome"]
    await keep_history(dev_env.client.get_workflow_handle(competition_workflow_id(code)), "competition_moved")


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (lambda b: b["team"]["lead_unit"].update(credit_code="91210100MA0Q123450"), 422, "invalid_request"),
        (lambda b: b.update(problem_code="city_governance-99"), 422, "unknown_problem"),
        (
            lambda b: b["team"].update(
                representatives=[
                    {
                        "name": f"代表{i}",
                        "email": f"r{i}@example.com",
                        "id_number": make_id_number(i),
                        "phone": f"1390000000{i}",
                    }
                    for i in range(6)
                ]
            ),
            422,
            "too_many_representatives",
        ),
        (lambda b: b["team"].update(contact_email="not-an-email"), 422, "invalid_request"),
        (lambda b: b.update(project_name="x" * 201), 422, "invalid_request"),
        (lambda b: b.update(fee=100), 422, "invalid_request"),
    ],
)
async def test_bad_registrations_get_clear_errors(
    api: httpx.AsyncClient, mutate: Callable[[dict[str, Any]], None], status: int, code: str
) -> None:
    competition = await rehearsal(api)
    body = registration()
    mutate(body)
    response = await api.post(f"/competitions/{competition}/projects", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message_zh"] and error["message_en"]


async def test_conflicts_and_unknowns_answer_4xx(api: httpx.AsyncClient) -> None:
    code = await rehearsal(api)
    body = registration(team="重名团队")
    assert (await api.post(f"/competitions/{code}/projects", json=body)).status_code == 201
    again = await api.post(f"/competitions/{code}/projects", json=registration(team="重名团队"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "team_second_project")
    missing = await api.post("/competitions/nope/projects", json=body)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "competition_not_found")
    assert (await api.get("/projects/nope-P00001")).json()["error"]["code"] == "project_not_found"
    wrong = await api.post(
        f"/projects/{code}-P00001/decisions",
        json={"stage": "final_review", "decision": "advance"},
    )
    assert wrong.status_code == 409
    assert wrong.json()["error"]["code"] == "wrong_stage" and "registration" in wrong.json()["error"]["message_en"]
    duplicate = await api.post("/competitions", json={"catalog": "liaoning-2025", "code": code})
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "competition_exists")
    bad = await api.post("/competitions", json={"catalog_text": "code: x\nname: y", "code": "bad-one"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_catalog")
    bad_move = await api.put(
        f"/competitions/{code}/stages/registration",
        json={
            "opens_at": "2025-07-01T00:00:00+08:00",
            "closes_at": "2025-06-01T00:00:00+08:00",
            "reason": "测试",
        },
    )
    assert (bad_move.status_code, bad_move.json()["error"]["code"]) == (422, "invalid_calendar")


async def test_concurrent_registrations_get_distinct_numbers(api: httpx.AsyncClient) -> None:
    code = await rehearsal(api)
    shared_unit = registration()["team"]["lead_unit"]
    bodies = [registration() for i in range(8)]
    for body in bodies:
        body["team"]["lead_unit"] = shared_unit  # one unit may field several teams
    responses = await asyncio.gather(*(api.post(f"/competitions/{code}/projects", json=b) for b in bodies))
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses if r.status_code != 201]
    assert sorted(r.json()["number"] for r in responses) == list(range(1, 9))


async def test_another_sub_competition_is_created_from_its_file(api: httpx.AsyncClient) -> None:
    text = (Path(__file__).parent / "data" / "example-2026.yaml").read_text(encoding="utf-8")
    code = f"zz-{uuid.uuid4().hex[:6]}"
    created = await api.post("/competitions", json={"catalog_text": text, "code": code, "rehearsal": {}})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["tracks"], body["problems"], body["timezone"]) == (2, 3, "Asia/Urumqi")
    registered = await api.post(f"/competitions/{code}/projects", json=registration(problem_code="governance-01"))
    assert registered.status_code == 201, registered.text
    assert registered.json()["track_code"] == "governance"


async def test_registration_outside_the_window_is_refused(api: httpx.AsyncClient) -> None:
    """The real 2025 calendar: registration closed on 2025-07-18 24:00 Beijing time."""
    code = f"ln-2025-{uuid.uuid4().hex[:6]}"
    created = await api.post("/competitions", json={"catalog": "liaoning-2025", "code": code})
    assert created.status_code == 201, created.text
    assert created.json()["calendar"][0]["closes_local"] == "2025-07-18 24:00"
    response = await api.post(f"/competitions/{code}/projects", json=registration())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "registration_closed"
